import { readdirSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allFileText, createJob, isErrorShape, recordBodies, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const s3Credential = { name: 'AWS Production', provider_type: 's3', data: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: SECRET } };

const credentials = suite<{ daemon: TestDaemon; client: ApiClient; bodies: string[] }>('credentials');

credentials.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  // Every answer is kept, so the test can show no secret ever left the daemon.
  context.bodies = recordBodies(context.client);
});
credentials.after.each(async ({ daemon }) => {
  await daemon.stop();
});


credentials('a credential is created, listed, filtered, read and renamed without its secret ever coming back', async ({ client, bodies, daemon }) => {
  const created = await client.post('/api/credentials', s3Credential);
  assert.is(created.status, 201);
  const { created_at, updated_at, ...rest } = created.body;
  assert.equal(rest, { id: 1, name: 'AWS Production', provider_type: 's3' });
  assert.ok(created_at && updated_at);
  await client.post('/api/credentials', { name: 'Backup Server', provider_type: 'sftp', data: { password: 'hunter22' } });

  assert.equal((await client.get('/api/credentials')).body.map((c: any) => c.name), ['AWS Production', 'Backup Server']);
  assert.equal((await client.get('/api/credentials?provider=sftp')).body.map((c: any) => c.name), ['Backup Server']);
  assert.equal((await client.get('/api/credentials/1')).body, created.body);
  const renamed = await client.put('/api/credentials/1', { name: 'AWS (old key)' });
  assert.is(renamed.body.name, 'AWS (old key)');
  const rekeyed = await client.put('/api/credentials/1', { data: { access_key_id: 'AKIANEWKEY', secret_access_key: 'newSecretKey123' } });
  assert.is(rekeyed.body.name, 'AWS (old key)', 'new data alone keeps the name');
  assert.is((await client.get('/api/credentials/1')).body.name, 'AWS (old key)');

  for (const body of bodies) {
    for (const secret of [SECRET, 'hunter22', 'newSecretKey123']) assert.not.ok(body.includes(secret), 'no secret in any response');
  }
  await daemon.stop();
  const onDisk = allFileText(daemon.config.dataDir);
  for (const secret of [SECRET, 'hunter22', 'newSecretKey123', 'AKIANEWKEY']) assert.not.ok(onDisk.includes(secret), `${secret} is not on disk in plaintext`);
});

credentials('bad credentials are 400s that name the field but never echo the value', async ({ client }) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...s3Credential, provider_type: 'ftp' }, /provider_type/],
    [{ ...s3Credential, data: { access_key_id: 'AKIA' } }, /secret_access_key/],
    [{ ...s3Credential, name: '' }, /name/],
    [{ name: 'ssh', provider_type: 'sftp', data: {} }, /password.*private_key/],
    [{ name: 'ssh', provider_type: 'sftp', data: { password: 'pw', passphrase: 'only with a key' } }, /private_key/],
    [{ name: 'dav', provider_type: 'webdav', data: { username: 'me', password: 'secret-value-1', extra: 'x' } }, /extra/],
  ];
  for (const [body, message] of cases) {
    const response = await client.post('/api/credentials', body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(response.body));
    assert.match(response.body.message, message);
    assert.not.ok(response.body.message.includes('secret-value-1'));
  }
  await client.post('/api/credentials', s3Credential);
  const taken = await client.post('/api/credentials', s3Credential);
  assert.is(taken.status, 409);
  assert.ok(isErrorShape(taken.body, 'CREDENTIAL_NAME_TAKEN'));
  assert.is((await client.get('/api/credentials/9')).status, 404);
  assert.is((await client.put('/api/credentials/1', {})).status, 400, 'an update must change something');
});

credentials('a credential in use cannot be deleted: 409 with the job names; usage lists them', async ({ client }) => {
  const credential = (await client.post('/api/credentials', s3Credential)).body;
  const job = await createJob(client, { name: 'Daily Backup', credential_id: credential.id });
  assert.equal((await client.get(`/api/credentials/${credential.id}/usage`)).body, { credential_id: credential.id, jobs: [{ id: job.id, name: 'Daily Backup' }] });
  const refused = await client.delete(`/api/credentials/${credential.id}`);
  assert.is(refused.status, 409);
  assert.equal({ error: refused.body.error, message: refused.body.message, jobs: refused.body.jobs }, { error: 'Conflict', message: 'Credential is in use by 1 job(s)', jobs: ['Daily Backup'] });
  await client.delete(`/api/jobs/${job.id}`);
  assert.equal((await client.delete(`/api/credentials/${credential.id}`)).body, { message: 'Credential deleted' });
  assert.is((await client.get(`/api/credentials/${credential.id}`)).status, 404);
});

credentials('a Google Drive credential takes the token JSON rclone authorize prints, refuses text that is not one, and never shows it', async ({ client }) => {
  const token = JSON.stringify({ access_token: 'ya29.a0-secret-access', token_type: 'Bearer', refresh_token: '1//0e-secret-refresh', expiry: '2026-01-05T10:00:00Z' });
  const saved = await client.post('/api/credentials', { name: 'Drive', provider_type: 'google_drive', data: { token } });
  assert.is(saved.status, 201);
  assert.not.match(JSON.stringify(saved.body), /secret-access|secret-refresh/);
  const pasted = await client.post('/api/credentials', { name: 'Drive 2', provider_type: 'google_drive', data: { token: 'ya29.just-an-access-token' } });
  assert.is(pasted.status, 400);
  assert.match(pasted.body.message, /rclone authorize/);
  const none = await client.post('/api/credentials', { name: 'Drive 3', provider_type: 'onedrive', data: {} });
  assert.is(none.status, 400);
  assert.match(none.body.message, /rclone authorize "onedrive"/);
  const local = await client.post('/api/credentials', { name: 'USB', provider_type: 'local', data: {} });
  assert.is(local.status, 400, 'a type that takes no credential');
});

credentials('providers: every destination is listed with its address format and credential form, Drive and OneDrive saying they are untested here', async ({ client }) => {
  const providers = (await client.get('/api/providers')).body;
  assert.equal(providers.map((p: any) => p.type), ['local', 's3', 'google_drive', 'onedrive', 'sftp', 'webdav', 'rclone']);
  const { address, credential_fields, ...localEntry } = providers[0];
  assert.equal(localEntry, { type: 'local', name: 'Local / USB', description: 'Rsync to local or mounted drives', requires_credentials: false, available: true });
  assert.equal([address.example, credential_fields], ['/mnt/backup', []]);
  // rclone is installed here (scripts/install-test-deps.sh): its destinations are available.
  assert.ok(providers.every((p: any) => p.available));
  for (const type of ['google_drive', 'onedrive']) {
    const entry = providers.find((p: any) => p.type === type);
    assert.match(entry.note, /cannot reach the real service/);
    assert.equal(entry.credential_fields.map((field: any) => [field.key, field.secret]), [['token', true], ['access_token', true], ['refresh_token', true], ['expires_at', false]]);
    assert.match(entry.credential_fields[0].help, /rclone authorize "(drive|onedrive)"/);
  }
  const s3 = providers.find((p: any) => p.type === 's3');
  assert.equal(s3.credential_fields.map((field: any) => [field.key, field.secret, field.required]), [['access_key_id', false, true], ['secret_access_key', true, true], ['session_token', true, false]]);
  const local = (await client.get('/api/providers/local/capabilities')).body;
  assert.is(local.provider_type, 'local');
  assert.is(local.capabilities.supports_delete, true);
  assert.is(local.capabilities.requires_credentials, false);
  const sftp = (await client.get('/api/providers/sftp/capabilities')).body.capabilities;
  assert.equal(sftp, { ...local.capabilities, supports_checksum: false, requires_credentials: true });
  const drive = (await client.get('/api/providers/google_drive/capabilities')).body.capabilities;
  assert.equal(drive, { ...sftp, supports_checksum: false }, 'what rclone does for every remote');
  assert.is((await client.get('/api/providers/floppy/capabilities')).status, 404);
});

credentials('test connection reports success with details, or failure with the reason, and stores nothing', async ({ client }) => {
  const target = tempDir();
  const ok = await client.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: target, backup_subdir: 'cairn' } });
  assert.is(ok.status, 200);
  assert.is(ok.body.success, true);
  assert.is(ok.body.message, 'Destination is writable');
  assert.ok(ok.body.details.free_bytes > 0);
  assert.equal(readdirSync(target), [], 'the probe file is gone');

  const missing = await client.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: path.join(target, 'nope'), backup_subdir: '' } });
  assert.equal(missing.body, { success: false, message: `The destination folder ${path.join(target, 'nope')} does not exist`, details: null });

  const s3 = await client.post('/api/providers/test', {
    destination_type: 's3',
    destination_config: { bucket: 'backups', prefix: '', region: 'us-east-1', endpoint: 'http://127.0.0.1:1' },
    credential_data: { access_key_id: 'AKIA', secret_access_key: SECRET },
  });
  assert.is(s3.body.success, false);
  assert.match(s3.body.message, /Connection refused by http:\/\/127\.0\.0\.1:1/);
  assert.not.match(s3.body.message, /wJalr/);
  assert.equal((await client.get('/api/credentials')).body, [], 'inline credential data is never stored');

  const both = await client.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: target }, credential_id: 1, credential_data: {} });
  assert.is(both.status, 400);
  assert.is((await client.post('/api/providers/test', { destination_type: 'floppy', destination_config: {} })).status, 400);
});

credentials.run();
