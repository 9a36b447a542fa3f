import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, isErrorShape, startTestDaemon, type ApiClient } from '../../helpers.ts';

const wrong = { username: 'admin', password: 'not the password' };

async function failLogins(client: ApiClient, times: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await client.login(wrong)).status);
  return statuses;
}

test('five failed logins in a minute lock the client out for 60 s with Retry-After, even with the right password', async () => {
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    assert.equal(await failLogins(client, 5), [401, 401, 401, 401, 401]);

    const locked = await client.login(ADMIN);
    assert.is(locked.status, 429);
    assert.ok(isErrorShape(locked.body, 'TOO_MANY_ATTEMPTS'));
    assert.is(locked.body.error, 'Rate limited');
    assert.is(locked.body.retry_after, 60);
    assert.is(locked.headers.get('retry-after'), '60');
    assert.match(locked.body.message, /60 seconds/);

    // The second login step and recovery share the same limit.
    assert.is((await client.post('/api/auth/totp/validate', { totp_token: 'x', code: '123456' })).status, 429);
    assert.is((await client.post('/api/auth/totp/recovery', { totp_token: 'x', recovery_code: 'AAAA-BBBB-CCCC' })).status, 429);
  } finally {
    await daemon.stop();
  }
});

test('a burst of guesses at once: no more are checked than the client may fail, the rest are answered 429 at once', async () => {
  const daemon = await startTestDaemon();
  try {
    await daemon.client().setupAdmin();
    // Twenty at once from one client: before, all twenty passed the limiter (failures count only once
    // known) and queued for the one-at-a-time password check, ahead of every other login.
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => daemon.client().login(wrong)))).map((answer) => answer.status);
    assert.ok(statuses.filter((status) => status === 401).length <= 5, `checked: ${statuses.join(' ')}`);
    assert.is(statuses.filter((status) => status === 429).length + statuses.filter((status) => status === 401).length, 20, statuses.join(' '));
  } finally {
    await daemon.stop();
  }
});

test('lockouts double through the API and a success resets them', async () => {
  // Same rules with seconds instead of minutes, so the sequence can be watched.
  const daemon = await startTestDaemon({}, {
    loginRateLimit: { maxFailures: 5, windowMs: 60_000, lockoutMs: 1000, maxLockoutMs: 2000, forgetAfterMs: 60_000 },
  });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const retryAfters: string[] = [];
    for (let round = 0; round < 3; round++) {
      await failLogins(client, 5);
      const locked = await client.login(wrong);
      assert.is(locked.status, 429);
      retryAfters.push(locked.headers.get('retry-after')!);
      await new Promise((resolve) => setTimeout(resolve, Number(locked.body.retry_after) * 1000 + 50));
    }
    assert.equal(retryAfters, ['1', '2', '2']);

    assert.is((await client.login(ADMIN)).status, 200, 'after the lockout the right password works');
    assert.equal(await failLogins(client, 5), [401, 401, 401, 401, 401], 'the success cleared the count');
    const locked = await client.login(wrong);
    assert.is(locked.headers.get('retry-after'), '1', 'and the doubling');
  } finally {
    await daemon.stop();
  }
});

test('a 400 for a malformed login does not count as a failed attempt', async () => {
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    for (let i = 0; i < 8; i++) assert.is((await client.post('/api/auth/login', { username: 'admin' })).status, 400);
    assert.is((await client.login(ADMIN)).status, 200);
  } finally {
    await daemon.stop();
  }
});

test.run();
