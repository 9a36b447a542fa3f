/**
 * Behind a reverse proxy every request comes from the proxy's address. The owner names trusted
 * proxies (`trusted_proxies`); only their X-Forwarded-For is believed, so one client's failed logins
 * lock out that client and not everyone, and nobody can dodge the limit by sending the header.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, isErrorShape, startTestDaemon, type TestDaemon } from '../../helpers.ts';

const wrong = { username: 'admin', password: 'not the password' };

function loginAs(daemon: TestDaemon, forwardedFor: string, credentials = ADMIN) {
  return daemon.client().request('POST', '/api/auth/login', credentials, { headers: { 'x-forwarded-for': forwardedFor } });
}

test('with 127.0.0.1 trusted, five bad logins from client A lock A out, and B still logs in', async () => {
  const daemon = await startTestDaemon({ trustedProxies: ['127.0.0.1/32'] });
  try {
    await daemon.client().setupAdmin();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await loginAs(daemon, '198.51.100.10', wrong)).status);
    assert.equal(statuses, [401, 401, 401, 401, 401]);

    const locked = await loginAs(daemon, '198.51.100.10');
    assert.is(locked.status, 429, 'A is locked out, even with the right password');
    assert.ok(isErrorShape(locked.body, 'TOO_MANY_ATTEMPTS'));
    // A client can put anything left of its own address; the proxy appends what it saw.
    assert.is((await loginAs(daemon, '198.51.100.99, 198.51.100.10')).status, 429, 'a made-up address in front does not help A');

    const other = await loginAs(daemon, '198.51.100.20');
    assert.is(other.status, 200, 'B is not locked out');
    assert.equal(other.body, { id: 1, username: 'admin' });
  } finally {
    await daemon.stop();
  }
});

test('without trusted proxies X-Forwarded-For is ignored: a new address per attempt does not dodge the limit', async () => {
  const daemon = await startTestDaemon();
  try {
    await daemon.client().setupAdmin();
    for (let i = 0; i < 5; i++) assert.is((await loginAs(daemon, `198.51.100.${i}`, wrong)).status, 401);
    assert.is((await loginAs(daemon, '198.51.100.77')).status, 429);
    assert.is((await daemon.client().login(ADMIN)).status, 429, 'the limit is on the real peer');
  } finally {
    await daemon.stop();
  }
});

test('through a trusted proxy, setup is local only when the forwarded client is', async () => {
  const daemon = await startTestDaemon({ trustedProxies: ['127.0.0.1/32'] });
  try {
    const fromLan = await daemon.client().request('POST', '/api/auth/setup', ADMIN, { headers: { 'x-forwarded-for': '192.168.1.50' } });
    assert.is(fromLan.status, 403);
    assert.ok(isErrorShape(fromLan.body, 'SETUP_CODE_REQUIRED'));
    // A proxy that writes Forwarded and passes the client's own X-Forwarded-For along: neither is believed.
    const bothHeaders = await daemon.client().request('POST', '/api/auth/setup', ADMIN, { headers: { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=192.168.1.50' } });
    assert.is(bothHeaders.status, 403);
    assert.ok(isErrorShape(bothHeaders.body, 'SETUP_CODE_REQUIRED'));
    const fromBox = await daemon.client().request('POST', '/api/auth/setup', ADMIN, { headers: { 'x-forwarded-for': '127.0.0.1' } });
    assert.is(fromBox.status, 201);
  } finally {
    await daemon.stop();
  }
});

test.run();
