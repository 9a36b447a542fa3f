import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, isErrorShape, startTestDaemon, type TestDaemon } from '../../helpers.ts';

const auth = suite<{ daemon: TestDaemon }>('auth');

auth.before.each(async (context) => {
  context.daemon = await startTestDaemon();
});
auth.after.each(async (context) => {
  await context.daemon.stop();
});

auth('a fresh box asks for setup, creates the admin once, and refuses a second setup', async ({ daemon }) => {
  const client = daemon.client();
  assert.equal((await client.get('/api/auth/setup-required')).body, { setup_required: true, setup_code_required: false });

  const created = await client.post('/api/auth/setup', ADMIN);
  assert.is(created.status, 201);
  assert.equal(created.body, { id: 1, username: 'admin' });
  assert.ok(client.cookie, 'setup logs the admin in with the token cookie');
  assert.equal((await client.get('/api/auth/setup-required')).body, { setup_required: false, setup_code_required: false });

  const again = await daemon.client().post('/api/auth/setup', { username: 'mallory', password: 'another password' });
  assert.is(again.status, 403);
  assert.ok(isErrorShape(again.body, 'SETUP_DONE'));
  assert.is((await daemon.client().login({ username: 'mallory', password: 'another password' })).status, 401);
});

auth('two setups racing make exactly one admin', async ({ daemon }) => {
  const [a, b] = await Promise.all([
    daemon.client().post('/api/auth/setup', { username: 'alice', password: 'password one' }),
    daemon.client().post('/api/auth/setup', { username: 'bob', password: 'password two' }),
  ]);
  assert.equal([a.status, b.status].sort(), [201, 403]);
  assert.is(daemon.store.users.count(), 1);
});

auth('setup refuses a short username or password with a 400 naming the field', async ({ daemon }) => {
  const shortName = await daemon.client().post('/api/auth/setup', { username: 'ab', password: 'long enough' });
  assert.is(shortName.status, 400);
  assert.ok(isErrorShape(shortName.body, 'VALIDATION_FAILED'));
  assert.match(shortName.body.message, /username/);
  const shortPassword = await daemon.client().post('/api/auth/setup', { username: 'admin', password: 'short' });
  assert.is(shortPassword.status, 400);
  assert.match(shortPassword.body.message, /password/);
  assert.is(daemon.store.users.count(), 0, 'nothing was created');
});

auth('login sets an HttpOnly SameSite=Strict cookie (not Secure over plain HTTP); me and token answer', async ({ daemon }) => {
  await daemon.client().setupAdmin();
  const client = daemon.client();
  const login = await client.login();
  assert.is(login.status, 200);
  assert.equal(login.body, { id: 1, username: 'admin' });
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('token='))!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.not.match(cookie, /Secure/);

  assert.equal((await client.get('/api/auth/me')).body, { id: 1, username: 'admin', totp_enabled: false });
  const token = (await client.get('/api/auth/token')).body.token;
  assert.is(token, client.cookie);
});

auth('a wrong password or unknown user is a 401 that does not say which', async ({ daemon }) => {
  await daemon.client().setupAdmin();
  const wrongPassword = await daemon.client().login({ username: 'admin', password: 'not the password' });
  const unknownUser = await daemon.client().login({ username: 'nobody', password: 'not the password' });
  assert.is(wrongPassword.status, 401);
  assert.is(unknownUser.status, 401);
  assert.is(wrongPassword.body.message, unknownUser.body.message);
  assert.ok(isErrorShape(wrongPassword.body, 'INVALID_CREDENTIALS'));
});

auth('a bearer token works like the cookie, and logout ends the session for both', async ({ daemon }) => {
  const browser = daemon.client();
  await browser.setupAdmin();
  const phone = daemon.client();
  phone.bearer = (await browser.get('/api/auth/token')).body.token;
  assert.is((await phone.get('/api/auth/me')).status, 200);

  const logout = await browser.post('/api/auth/logout');
  assert.equal(logout.body, { message: 'Logged out' });
  assert.is(browser.cookie, null, 'the cookie is cleared');
  const replayed = await phone.get('/api/auth/me');
  assert.is(replayed.status, 401);
  assert.ok(isErrorShape(replayed.body, 'UNAUTHENTICATED'));
});

auth('a forged or garbage token is refused', async ({ daemon }) => {
  const client = daemon.client();
  await client.setupAdmin();
  const [header, payload] = client.cookie!.split('.');
  client.bearer = `${header}.${payload}.forgedsignature`;
  assert.is((await client.get('/api/auth/me')).status, 401);
  client.bearer = 'not-a-jwt';
  assert.is((await client.get('/api/auth/me')).status, 401);
});

auth('changing the password ends every earlier session, cookie and bearer, and keeps the caller logged in', async ({ daemon }) => {
  const browser = daemon.client();
  await browser.setupAdmin();
  const other = daemon.client();
  await other.login();
  const phone = daemon.client();
  phone.bearer = other.cookie;
  const oldCookie = browser.cookie;

  const wrong = await browser.post('/api/auth/change-password', { current_password: 'wrong password', new_password: 'a new password' });
  assert.is(wrong.status, 403);
  assert.ok(isErrorShape(wrong.body, 'CURRENT_PASSWORD_WRONG'));

  const tooShort = await browser.post('/api/auth/change-password', { current_password: ADMIN.password, new_password: 'short' });
  assert.is(tooShort.status, 400);

  const changed = await browser.post('/api/auth/change-password', { current_password: ADMIN.password, new_password: 'a new password' });
  assert.equal(changed.body, { message: 'Password changed' });
  assert.is.not(browser.cookie, oldCookie, 'the caller gets a new session');
  assert.is((await browser.get('/api/auth/me')).status, 200);
  assert.is((await other.get('/api/auth/me')).status, 401, 'the other browser session ended');
  assert.is((await phone.get('/api/auth/me')).status, 401, 'the bearer session ended');
  const stale = daemon.client();
  stale.cookie = oldCookie;
  assert.is((await stale.get('/api/auth/me')).status, 401, "the caller's old token ended too");

  assert.is((await daemon.client().login()).status, 401, 'the old password no longer works');
  assert.is((await daemon.client().login({ username: 'admin', password: 'a new password' })).status, 200);
});

auth('sessions survive a daemon restart', async ({ daemon }) => {
  const client = daemon.client();
  await client.setupAdmin();
  await daemon.stop();
  const restarted = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    const again = restarted.client();
    again.cookie = client.cookie;
    assert.is((await again.get('/api/auth/me')).status, 200);
  } finally {
    await restarted.stop();
  }
});

auth.run();
