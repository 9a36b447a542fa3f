/**
 * The box's own export over the API: sealed, secret-free in the clear, refused with a wrong
 * passphrase, never merged into a box that has jobs, and only for a logged-in owner.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { open } from '../../../src/box-export/index.ts';
import { allFileText, createJob, createSchedule, finishedRun, isErrorShape, recordBodies, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const SFTP_PASSWORD = 'sftp-pa55word-never-in-clear';
const NTFY_TOKEN = 'tk_ntfy-token-never-in-clear';
const PASSPHRASE = 'a long export passphrase';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
}

const box = suite<Context>('box export over the API');

box.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
box.after.each(async ({ daemon }) => {
  await daemon.stop();
});

/** A box with a credential, a channel with a token, a job using both, a schedule and changed settings. */
async function furnish(client: ApiClient): Promise<{ jobId: number }> {
  const credential = await client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: SFTP_PASSWORD } });
  assert.is(credential.status, 201);
  const channel = await client.post('/api/notifications/channels', { name: 'Phone', kind: 'ntfy', config: { base_url: 'http://127.0.0.1:9', topic: 'backups', token: NTFY_TOKEN } });
  assert.is(channel.status, 201, JSON.stringify(channel.body));
  const job = await createJob(client, {
    name: 'Photos to the NAS',
    destination_type: 'sftp',
    destination_config: { host: '127.0.0.1', port: 2222, username: 'pi', remote_path: '/srv/backups', key_based_auth: false },
    credential_id: credential.body.id,
    notify: { channel_ids: [channel.body.id], on_success: true },
  });
  await createSchedule(client, job.id, { hour: 3, minute: 30 });
  assert.is((await client.put('/api/settings', { timezone: 'Europe/Berlin', notify: { channel_ids: [channel.body.id] } })).status, 200);
  return { jobId: job.id };
}

async function exportOf(client: ApiClient, passphrase = PASSPHRASE): Promise<string> {
  const response = await client.post('/api/system/export', { passphrase });
  assert.is(response.status, 200, JSON.stringify(response.body));
  assert.is(response.headers.get('content-type'), 'application/octet-stream');
  assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="cairn-.*\.cairn-box-export"/);
  return response.body as string;
}

box('the export holds every secret sealed: none in plaintext or base64, and its passphrase opens it to the whole state', async ({ client }) => {
  await furnish(client);
  const file = await exportOf(client);
  for (const secret of [SFTP_PASSWORD, NTFY_TOKEN, PASSPHRASE]) {
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')]) assert.not.ok(file.includes(form), `${form} in the file`);
  }
  const state = JSON.parse((await open(file, PASSPHRASE)).toString());
  assert.equal(state.credentials.map((c: any) => [c.name, c.data.password]), [['NAS', SFTP_PASSWORD]]);
  assert.is(state.channels[0].config.token, NTFY_TOKEN);
  assert.equal(state.jobs.map((j: any) => j.name), ['Photos to the NAS']);
  assert.is(state.schedules.length, 1);
  assert.is(state.settings.timezone, 'Europe/Berlin');
  assert.not.ok('api_keys' in state || 'users' in state, 'keys and users stay on the box');
});

box('a wrong passphrase is refused with a clear 400 and the box is left as it was', async ({ daemon, client }) => {
  await furnish(client);
  const file = await exportOf(client);
  const fresh = await startTestDaemon();
  try {
    const other = fresh.client();
    await other.setupAdmin();
    const before = (await other.get('/api/settings')).body;
    const wrong = await other.post('/api/system/import', { file, passphrase: 'not the passphrase at all' });
    assert.is(wrong.status, 400);
    assert.ok(isErrorShape(wrong.body, 'EXPORT_PASSPHRASE_WRONG'));
    assert.match(wrong.body.message, /passphrase does not open/);
    assert.equal((await other.get('/api/jobs')).body, []);
    assert.equal((await other.get('/api/credentials')).body, []);
    assert.equal((await other.get('/api/settings')).body, before);
    const garbage = await other.post('/api/system/import', { file: 'PK\u0003\u0004 a zip file', passphrase: PASSPHRASE });
    assert.is(garbage.status, 400);
    assert.ok(isErrorShape(garbage.body, 'EXPORT_UNREADABLE'));
  } finally {
    await fresh.stop();
  }
  void daemon;
});

box('a passphrase shorter than 12 characters does not seal an export', async ({ client }) => {
  const short = await client.post('/api/system/export', { passphrase: 'short' });
  assert.is(short.status, 400);
  assert.ok(isErrorShape(short.body, 'PASSPHRASE_TOO_SHORT'));
});

box('an import into a box with jobs is refused 409 and changes nothing; with replace it replaces them and keeps a sealed copy', async ({ daemon, client }) => {
  await furnish(client);
  const file = await exportOf(client);
  const localJob = await createJob(client, { name: 'Made after the export' });
  const jobsBefore = (await client.get('/api/jobs')).body;

  const refused = await client.post('/api/system/import', { file, passphrase: PASSPHRASE });
  assert.is(refused.status, 409);
  assert.ok(isErrorShape(refused.body, 'BOX_NOT_EMPTY'));
  assert.match(refused.body.message, /2 job\(s\), 1 credential\(s\) and 1 channel\(s\)/);
  assert.equal((await client.get('/api/jobs')).body, jobsBefore);

  const replaced = await client.post('/api/system/import', { file, passphrase: PASSPHRASE, replace: true });
  assert.is(replaced.status, 200, JSON.stringify(replaced.body));
  assert.equal(replaced.body.imported, { jobs: 1, schedules: 1, credentials: 1, channels: 1 });
  const jobs = (await client.get('/api/jobs')).body;
  assert.equal(jobs.map((job: any) => job.name), ['Photos to the NAS']);
  assert.is.not(jobs[0].id, localJob.id);
  const [credential] = (await client.get('/api/credentials')).body;
  const [channel] = (await client.get('/api/notifications/channels')).body;
  assert.is(jobs[0].credential_id, credential.id, 'the job names its credential under its new id');
  assert.equal(jobs[0].notify.channel_ids, [channel.id]);
  assert.equal((await client.get('/api/settings')).body.notify.channel_ids, [channel.id]);
  assert.is(jobs[0].schedules.length, 1);
  assert.is(jobs[0].enabled, false, 'imported jobs wait for the owner');
  assert.equal(replaced.body.disabled_jobs, ['Photos to the NAS']);

  // What was replaced is not lost: sealed with the same passphrase in the data dir.
  const copy = replaced.body.replaced_copy as string;
  assert.is(path.dirname(copy), daemon.config.dataDir);
  const kept = JSON.parse((await open(readFileSync(copy, 'utf8'), PASSPHRASE)).toString());
  assert.equal(kept.jobs.map((job: any) => job.name).sort(), ['Made after the export', 'Photos to the NAS']);
});

box('an export whose job cannot be created here imports nothing at all', async ({ client }) => {
  const first = await startTestDaemon();
  let file: string;
  try {
    const owner = first.client();
    await owner.setupAdmin();
    await owner.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: SFTP_PASSWORD } });
    // The second box allows only its own folder: the first box's job lies outside it.
    await createJob(owner, { name: 'Outside', source_dirs: [tempDir('cairn-source-')] });
    file = await exportOf(owner);
  } finally {
    await first.stop();
  }
  const narrow = await startTestDaemon({ allowedPaths: [tempDir('cairn-narrow-')] });
  try {
    const other = narrow.client();
    await other.setupAdmin();
    const refused = await other.post('/api/system/import', { file, passphrase: PASSPHRASE });
    assert.is(refused.status, 403, JSON.stringify(refused.body));
    assert.ok(isErrorShape(refused.body, 'PATH_NOT_ALLOWED'));
    assert.match(refused.body.message, /job "Outside" could not be imported.*nothing was imported/);
    assert.equal((await other.get('/api/credentials')).body, [], 'the credential made before the job was undone');
  } finally {
    await narrow.stop();
  }
  void client;
});

box('export and import need a logged-in owner: an admin API key gets 403, nobody gets 401', async ({ daemon, client }) => {
  const key = (await client.post('/api/keys', { name: 'Script', scope: 'admin' })).body.key as string;
  const script = daemon.client();
  script.bearer = key;
  const file = await exportOf(client);
  assert.is((await script.post('/api/system/export', { passphrase: PASSPHRASE })).status, 403);
  assert.is((await script.post('/api/system/import', { file, passphrase: PASSPHRASE })).status, 403);
  const anonymous = daemon.client();
  assert.is((await anonymous.post('/api/system/export', { passphrase: PASSPHRASE })).status, 401);
});

box('the export passphrase is a write-only setting: set, shown only as set, sealed in the data dir, removed with null', async ({ daemon, client }) => {
  const bodies = recordBodies(client);
  assert.is((await client.get('/api/settings')).body.export_passphrase_set, false);
  const set = await client.put('/api/settings', { export_passphrase: PASSPHRASE });
  assert.is(set.status, 200);
  assert.is(set.body.export_passphrase_set, true);
  assert.not.ok('export_passphrase' in set.body);
  assert.is((await client.get('/api/settings')).body.export_passphrase_set, true);
  assert.is((await client.put('/api/settings', { export_passphrase: 'too short' })).status, 400);
  for (const body of bodies) assert.not.ok(body.includes(PASSPHRASE), 'never answered');
  assert.not.ok(allFileText(daemon.config.dataDir).includes(PASSPHRASE), 'never stored in the clear');
  assert.ok(readdirSync(daemon.config.dataDir).includes('export-passphrase.sealed'));

  // It survives a restart of the daemon.
  await daemon.stop();
  const again = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    const owner = again.client();
    await owner.login();
    assert.is((await owner.get('/api/settings')).body.export_passphrase_set, true);
    assert.is((await owner.put('/api/settings', { export_passphrase: null })).body.export_passphrase_set, false);
    assert.not.ok(existsSync(path.join(again.config.dataDir, 'export-passphrase.sealed')));
  } finally {
    await again.stop();
  }
  // The suite's after.each stops the first daemon again: a second stop is harmless.
});

box('a backup whose export cannot be written still completes, with a warning saying so', async ({ client }) => {
  const target = tempDir('cairn-target-');
  const job = await createJob(client, { destination_config: { mount_point: target, backup_subdir: '' } });
  await client.put('/api/settings', { export_passphrase: PASSPHRASE });
  // A folder where the file should go: the rename onto it fails.
  mkdirSync(path.join(target, '.cairn-box-export'));
  const started = await client.post(`/api/jobs/${job.id}/run`);
  const run = await finishedRun(client, started.body.run_id);
  assert.is(run.status, 'completed');
  const warnings = (await client.get(`/api/runs/${run.id}/logs?level=warning`)).body.map((entry: any) => entry.message);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0], /^After the backup: the box export could not be written to .*\.cairn-box-export \(.*\); the backup itself is complete$/);
});

box.run();
