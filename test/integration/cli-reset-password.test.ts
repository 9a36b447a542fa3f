/** `cairn user reset-password`, run on the box by an owner who is locked out or lost the 2FA device. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, runCli, startTestDaemon, type TestDaemon } from '../helpers.ts';

const NEW_PASSWORD = 'a brand new password';

async function adminWith2faAndLockedOut(daemon: TestDaemon) {
  const admin = daemon.client();
  await admin.setupAdmin();
  await admin.enableTotp();
  const locked = daemon.client();
  for (let i = 0; i < 6; i++) await locked.login({ username: 'admin', password: 'forgotten it' });
  assert.is((await locked.login(ADMIN)).status, 429, 'the owner is locked out');
  return { admin, locked };
}

test('while the daemon runs: new password, 2FA off, sessions ended, lockout lifted', async () => {
  const daemon = await startTestDaemon();
  try {
    const { admin, locked } = await adminWith2faAndLockedOut(daemon);
    const result = await runCli(['user', 'reset-password'], { env: { CAIRN_DATA_DIR: daemon.config.dataDir }, input: `${NEW_PASSWORD}\n` });
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, /Password of admin reset/);

    assert.is((await admin.get('/api/auth/me')).status, 401, 'the old session ended');
    const login = await locked.login({ username: 'admin', password: NEW_PASSWORD });
    assert.is(login.status, 200);
    assert.equal(login.body, { id: 1, username: 'admin' }, 'no code asked: 2FA is off');
    assert.equal((await locked.get('/api/auth/totp/status')).body, { enabled: false });
    assert.is((await daemon.client().login(ADMIN)).status, 401, 'the old password is gone');
  } finally {
    await daemon.stop();
  }
});

test('while the daemon is stopped: the store is changed directly and the next start uses it', async () => {
  const daemon = await startTestDaemon();
  await adminWith2faAndLockedOut(daemon);
  await daemon.stop();
  const result = await runCli(['user', 'reset-password', '--username', 'admin'], {
    env: { CAIRN_DATA_DIR: daemon.config.dataDir },
    input: `${NEW_PASSWORD}\n`,
  });
  assert.is(result.code, 0, result.stderr);

  const restarted = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    const login = await restarted.client().login({ username: 'admin', password: NEW_PASSWORD });
    assert.equal(login.body, { id: 1, username: 'admin' });
  } finally {
    await restarted.stop();
  }
});

test('a too short password or an unknown user changes nothing and says why', async () => {
  const daemon = await startTestDaemon();
  try {
    await daemon.client().setupAdmin();
    const env = { CAIRN_DATA_DIR: daemon.config.dataDir };
    const short = await runCli(['user', 'reset-password'], { env, input: 'short\n' });
    assert.is(short.code, 2);
    assert.match(short.stderr, /8 to 1024 characters/);
    const unknown = await runCli(['user', 'reset-password', '--username', 'nobody'], { env, input: `${NEW_PASSWORD}\n` });
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, /No user named nobody/);
    assert.is((await daemon.client().login(ADMIN)).status, 200, 'the password is unchanged');
  } finally {
    await daemon.stop();
  }
});

test('the daemon refuses to start with a bad setting, naming it', async () => {
  const result = await runCli(['daemon'], { env: { CAIRN_PORT: 'http' } });
  assert.is(result.code, 78);
  assert.match(result.stderr, /CAIRN_PORT="http" is not valid: expected a whole number from 0 to 65535/);
});

test.run();
