import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { currentTotpCode, TOTP_STEP_MS } from '../../../src/auth/index.ts';
import { ADMIN, isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const codeAt = (secret: string, offsetMs = 0) => currentTotpCode(secret, Date.now() + offsetMs);

const totp = suite<{ daemon: TestDaemon; client: ApiClient }>('2FA');

totp.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
totp.after.each(async (context) => {
  await context.daemon.stop();
});

/** Logs in with the password and returns the totp_token of the second step. */
async function passwordStep(client: ApiClient): Promise<string> {
  const login = await client.login();
  assert.is(login.status, 200);
  assert.is(login.body.totp_required, true);
  assert.is(client.cookie, null, 'no session before the second step');
  return login.body.totp_token;
}

totp('setup gives a secret, a PNG QR code and an otpauth URL issued by Cairn, and changes nothing yet', async ({ client }) => {
  const setup = await client.post('/api/auth/totp/setup');
  assert.is(setup.status, 200);
  assert.match(setup.body.secret, /^[A-Z2-7]{16,}$/);
  assert.match(setup.body.qr_code, /^data:image\/png;base64,iVBORw0KGgo/);
  const url = new URL(setup.body.otpauth_url);
  assert.is(url.protocol, 'otpauth:');
  assert.is(url.searchParams.get('issuer'), 'Cairn');
  assert.is(url.searchParams.get('secret'), setup.body.secret);
  assert.match(decodeURIComponent(url.pathname), /Cairn:admin/);
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: false });
});

totp('enable refuses a wrong code and then accepts the right one, returning recovery codes', async ({ client, daemon }) => {
  const setup = await client.post('/api/auth/totp/setup');
  const wrong = await client.post('/api/auth/totp/enable', { secret: setup.body.secret, code: '000000' === codeAt(setup.body.secret) ? '111111' : '000000' });
  assert.is(wrong.status, 400);
  assert.ok(isErrorShape(wrong.body, 'TOTP_CODE_INVALID'));
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: false });

  const { secret, recoveryCodes } = await client.enableTotp();
  assert.is(recoveryCodes.length, 10);
  assert.is(new Set(recoveryCodes).size, 10);
  for (const code of recoveryCodes) assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: true });
  assert.is((await client.get('/api/auth/me')).body.totp_enabled, true);

  const stored = JSON.stringify(daemon.store.users.byId(1));
  for (const code of recoveryCodes) assert.not.ok(stored.includes(code), 'recovery codes are stored only as hashes');
  assert.not.ok(stored.includes(secret), 'the TOTP secret is stored encrypted');
});

totp('login with 2FA: password, then a code; the totp_token works once', async ({ client, daemon }) => {
  const { secret } = await client.enableTotp();
  const phone = daemon.client();
  const totpToken = await passwordStep(phone);

  const wrong = await phone.post('/api/auth/totp/validate', { totp_token: totpToken, code: '12345' });
  assert.is(wrong.status, 401);
  assert.ok(isErrorShape(wrong.body, 'TOTP_CODE_INVALID'));

  const ok = await phone.post('/api/auth/totp/validate', { totp_token: totpToken, code: codeAt(secret) });
  assert.is(ok.status, 200);
  assert.equal(ok.body, { id: 1, username: 'admin' });
  assert.is((await phone.get('/api/auth/me')).status, 200);

  const reused = await daemon.client().post('/api/auth/totp/validate', { totp_token: totpToken, code: codeAt(secret, TOTP_STEP_MS) });
  assert.is(reused.status, 401);
  assert.ok(isErrorShape(reused.body, 'TOTP_TOKEN_INVALID'));
});

totp('a code that was already used is refused the second time', async ({ client, daemon }) => {
  const { secret } = await client.enableTotp();
  const code = codeAt(secret);
  assert.is((await daemon.client().post('/api/auth/totp/validate', { totp_token: await passwordStep(daemon.client()), code })).status, 200);
  const replay = await daemon.client().post('/api/auth/totp/validate', { totp_token: await passwordStep(daemon.client()), code });
  assert.is(replay.status, 401);
});

totp('an unknown totp_token is refused', async ({ client }) => {
  await client.enableTotp();
  const response = await client.post('/api/auth/totp/validate', { totp_token: 'made-up', code: '123456' });
  assert.is(response.status, 401);
  assert.ok(isErrorShape(response.body, 'TOTP_TOKEN_INVALID'));
});

totp('a recovery code logs in once and the count goes down', async ({ client, daemon }) => {
  const { recoveryCodes } = await client.enableTotp();
  const first = daemon.client();
  const used = await first.post('/api/auth/totp/recovery', {
    totp_token: await passwordStep(first),
    recovery_code: recoveryCodes[3].toLowerCase().replace(/-/g, ' '),
  });
  assert.is(used.status, 200);
  assert.equal(used.body, { id: 1, username: 'admin', remaining_codes: 9 });
  assert.is((await first.get('/api/auth/me')).status, 200);

  const second = daemon.client();
  const again = await second.post('/api/auth/totp/recovery', { totp_token: await passwordStep(second), recovery_code: recoveryCodes[3] });
  assert.is(again.status, 401);
  assert.ok(isErrorShape(again.body, 'RECOVERY_CODE_INVALID'));
  assert.is(second.cookie, null);
});

totp('disable needs a valid current code', async ({ client }) => {
  const { secret } = await client.enableTotp();
  const wrong = await client.post('/api/auth/totp/disable', { code: '000000' === codeAt(secret) ? '111111' : '000000' });
  assert.is(wrong.status, 401);
  assert.equal((await client.get('/api/auth/totp/status')).body, { enabled: true });

  const disabled = await client.post('/api/auth/totp/disable', { code: codeAt(secret) });
  assert.equal(disabled.body, { enabled: false });
  const login = await client.login(ADMIN);
  assert.equal(login.body, { id: 1, username: 'admin' }, 'login no longer asks for a code');
});

totp('enabling twice or disabling when off is a 409', async ({ client }) => {
  assert.is((await client.post('/api/auth/totp/disable', { code: '123456' })).status, 409);
  await client.enableTotp();
  assert.is((await client.post('/api/auth/totp/setup')).status, 409);
});

totp.run();
