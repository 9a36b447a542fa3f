/**
 * The Dynamight web client turns 2FA off with `{password, code}`: accepted, and the password is
 * checked when given. `{code}` alone works as before.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { currentTotpCode } from '../../../src/auth/index.ts';
import { ADMIN, isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const disable = suite<{ daemon: TestDaemon; client: ApiClient; secret: string }>('2FA disable');

disable.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.secret = (await context.client.enableTotp()).secret;
});
disable.after.each(async (context) => {
  await context.daemon.stop();
});

disable('with the right password and code, 2FA is off and login asks for no code', async ({ client, secret }) => {
  const off = await client.post('/api/auth/totp/disable', { password: ADMIN.password, code: currentTotpCode(secret) });
  assert.is(off.status, 200);
  assert.equal(off.body, { enabled: false });
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: false });
  assert.equal((await client.login(ADMIN)).body, { id: 1, username: 'admin' });
});

disable('with a wrong password it is refused as a wrong password is elsewhere, and 2FA stays on', async ({ client, secret }) => {
  const code = currentTotpCode(secret);
  const refused = await client.post('/api/auth/totp/disable', { password: 'not the password', code });
  assert.is(refused.status, 403);
  assert.ok(isErrorShape(refused.body, 'CURRENT_PASSWORD_WRONG'));
  const changePassword = await client.post('/api/auth/change-password', { current_password: 'not the password', new_password: 'whatever new one' });
  assert.equal([changePassword.status, changePassword.body.code], [refused.status, refused.body.code], 'the same answer as change-password');
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: true });
  assert.is((await client.login(ADMIN)).body.totp_required, true);

  // The refusal did not use the code up.
  assert.equal((await client.post('/api/auth/totp/disable', { password: ADMIN.password, code })).body, { enabled: false });
});

disable('a right password with a wrong code is refused and 2FA stays on', async ({ client, secret }) => {
  const code = currentTotpCode(secret) === '000000' ? '111111' : '000000';
  const refused = await client.post('/api/auth/totp/disable', { password: ADMIN.password, code });
  assert.is(refused.status, 401);
  assert.ok(isErrorShape(refused.body, 'TOTP_CODE_INVALID'));
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: true });
});

disable('{code} alone still turns 2FA off', async ({ client, secret }) => {
  assert.equal((await client.post('/api/auth/totp/disable', { code: currentTotpCode(secret) })).body, { enabled: false });
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: false });
});

disable('a password or code of the wrong type, or no code, is a 400 in the error shape and 2FA stays on', async ({ client, secret }) => {
  for (const body of [{ password: 12345, code: currentTotpCode(secret) }, { password: ADMIN.password, code: 123456 }, { password: ADMIN.password }, { code: currentTotpCode(secret), extra: true }]) {
    const refused = await client.post('/api/auth/totp/disable', body);
    assert.is(refused.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(refused.body), JSON.stringify(refused.body));
  }
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: true });
});

disable.run();
