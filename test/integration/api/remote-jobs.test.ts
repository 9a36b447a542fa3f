/**
 * A job to a real SFTP server through the API, as a phone app would drive it: credential, connection
 * test with host key pinning, run, restore, a server that goes away; and no secret anywhere.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rememberEntryCount } from '../../../src/destinations/entry-counts.ts';
import { walkCountsFileOf, WALKER_FROM_FILES } from '../../../src/destinations/remote/local-walk.ts';
import { allFileText, createJob, finishedRun, isErrorShape, recordBodies, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { startSftpServer, type SftpServer } from '../../servers.ts';
import { fileContent, makeSampleTree, snapshotTree, waitFor } from '../../trees.ts';
import { filesOnly } from '../destinations/contract.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  server: SftpServer;
  bodies: string[];
  allowed: string;
}

const remote = suite<Context>('remote jobs');

remote.before.each(async (context) => {
  context.server = await startSftpServer();
  context.allowed = tempDir();
  context.daemon = await startTestDaemon({ allowedPaths: [context.allowed] });
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.bodies = recordBodies(context.client);
});
remote.after.each(async ({ daemon, server }) => {
  await daemon.stop();
  await server.stop();
});

const sftpConfig = (server: SftpServer, folder = 'backups') => ({
  host: server.host,
  port: server.port,
  username: server.username,
  remote_path: path.join(server.root, folder),
  key_based_auth: false,
});

/** An SFTP job (with its credential) backing up `source` to the test server; its id. */
async function sftpJob(context: Context, source: string, sync_options: Record<string, unknown> = {}): Promise<number> {
  const credential = await context.client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: context.server.password } });
  assert.is(credential.status, 201);
  const job = await createJob(context.client, {
    name: 'Photos to the NAS',
    source_dirs: [source],
    destination_type: 'sftp',
    destination_config: sftpConfig(context.server),
    credential_id: credential.body.id,
    sync_options,
  });
  return job.id;
}



remote('a job backs up over SFTP, then restores into a chosen folder, with no secret in any answer, log or file', async (context) => {
  const { client, server } = context;
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  makeSampleTree(source, { largeFileBytes: 3 * 1024 * 1024 });
  const jobId = await sftpJob(context, source);

  const run = await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);
  assert.is(run.status, 'completed', run.error_message);
  const expected = filesOnly(snapshotTree(source));
  assert.equal(filesOnly(snapshotTree(path.join(server.root, 'backups', 'photos'))), expected, 'the bytes are on the server');
  assert.is(run.files_transferred, Object.keys(expected).length);

  const rerun = await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);
  assert.is(rerun.files_transferred, 0, 'nothing changed, nothing sent');

  const target = path.join(context.allowed, 'restored');
  const restore = await client.post(`/api/jobs/${jobId}/restore`, { target_dir: target });
  assert.is(restore.status, 202, JSON.stringify(restore.body));
  const restored = await finishedRun(client, restore.body.run_id);
  assert.is(restored.status, 'completed', restored.error_message);
  assert.is(restored.trigger, 'restore');
  assert.equal(filesOnly(snapshotTree(path.join(target, 'photos'))), expected, 'the restore is byte-identical');

  const logs = (await client.get(`/api/runs/${run.id}/logs?limit=1000`)).body;
  assert.ok(JSON.stringify(logs).includes('photos/docs/report.pdf'), 'the log names the files sent');
  for (const body of context.bodies) assert.not.ok(body.includes(server.password), 'no password in any answer or log');
  await context.daemon.stop();
  assert.not.ok(allFileText(context.daemon.config.dataDir).includes(server.password), 'no password on disk in plaintext');
});

remote('a restore refuses to write over the sources, outside the allowed folders, or with bad paths, and changes nothing', async (context) => {
  const { client } = context;
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const jobId = await sftpJob(context, source);
  await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);

  const over = await client.post(`/api/jobs/${jobId}/restore`, { target_dir: context.allowed });
  assert.is(over.status, 409);
  assert.ok(isErrorShape(over.body));
  assert.is(over.body.code, 'RESTORE_OVER_SOURCES');
  const inside = await client.post(`/api/jobs/${jobId}/restore`, { target_dir: path.join(source, 'sub') });
  assert.is(inside.status, 409);
  assert.is((await client.post(`/api/jobs/${jobId}/restore`, { target_dir: path.join(source, '..restored') })).status, 409, '"..restored" is inside the source');
  assert.is((await client.post(`/api/jobs/${jobId}/restore`, { target_dir: '/etc' })).status, 403);
  assert.is((await client.post(`/api/jobs/${jobId}/restore`, { target_dir: path.join(context.allowed, 'x'), paths: ['../etc'] })).status, 400);
  assert.is((await client.post(`/api/jobs/${jobId}/restore`, { target_dir: path.join(context.allowed, 'x'), surprise: true })).status, 400);
  assert.is((await client.post(`/api/jobs/999/restore`, { target_dir: path.join(context.allowed, 'x') })).status, 404);
  assert.equal(readdirSync(source), ['a.txt']);
  assert.equal((await client.get(`/api/jobs/${jobId}/runs`)).body.length, 1, 'no restore run was made');

  // The owner may ask for it: the backup's copy replaces the changed file.
  writeFileSync(path.join(source, 'a.txt'), 'changed');
  const allowed = await client.post(`/api/jobs/${jobId}/restore`, { target_dir: context.allowed, overwrite_sources: true });
  assert.is(allowed.status, 202);
  assert.is((await finishedRun(client, allowed.body.run_id)).status, 'completed');
  assert.is(readFileSync(path.join(source, 'a.txt'), 'utf8'), 'a');

  // Deleting the job forgets what its destination was sent, and how many files its last walks found
  // (kept beside the record once a source crosses the walker's threshold: written here as such a walk would).
  const record = path.join(context.daemon.config.dataDir, 'sent-files', `job-${jobId}.json`);
  assert.ok(existsSync(record));
  await rememberEntryCount(walkCountsFileOf(record), source, WALKER_FROM_FILES, [source]);
  assert.is((await client.delete(`/api/jobs/${jobId}`)).status, 200);
  assert.not.ok(existsSync(record));
  assert.not.ok(existsSync(walkCountsFileOf(record)));
});

remote('a restore refuses a target where a symlinked source would be written through its link', async (context) => {
  const { client } = context;
  const real = path.join(context.allowed, 'Dropbox', 'Photos');
  mkdirSync(real, { recursive: true });
  writeFileSync(path.join(real, 'a.txt'), 'current');
  const home = path.join(context.allowed, 'home');
  mkdirSync(home);
  symlinkSync(real, path.join(home, 'Photos'));
  const jobId = await sftpJob(context, path.join(home, 'Photos'));
  await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);
  writeFileSync(path.join(real, 'a.txt'), 'newer than the backup');
  const refused = await client.post(`/api/jobs/${jobId}/restore`, { target_dir: home });
  assert.is(refused.status, 409, JSON.stringify(refused.body));
  assert.is(readFileSync(path.join(real, 'a.txt'), 'utf8'), 'newer than the backup');
});

remote('a refused destination password answers 400 AUTHENTICATION_FAILED, never a 401 that would end the client\'s session', async (context) => {
  const { client, server } = context;
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const credential = await client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: 'not the password' } });
  const job = await createJob(client, { name: 'Kept on the NAS', source_dirs: [source], destination_type: 'sftp', destination_config: sftpConfig(server, 'repo'), credential_id: credential.body.id, backup_mode: 'repository' });
  const listed = await client.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(listed.status, 400, JSON.stringify(listed.body));
  assert.ok(isErrorShape(listed.body, 'AUTHENTICATION_FAILED'), JSON.stringify(listed.body));
  assert.match(listed.body.message, /Authentication failed .*wrong password/);
  assert.is((await client.get('/api/auth/me')).status, 200, 'the session goes on');
  const run = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /Authentication failed/);
});

remote('test connection pins the host key, refuses a changed one, and says what is wrong with a bad password', async (context) => {
  const { client, server } = context;
  const test = (data: Record<string, string>) => client.post('/api/providers/test', { destination_type: 'sftp', destination_config: sftpConfig(server), credential_data: data });
  const first = await test({ password: server.password });
  assert.is(first.body.success, true, first.body.message);
  assert.is(first.body.details.host_key, server.hostKeyFingerprint);
  assert.is(first.body.details.host_key_pinned_now, true);
  assert.is((await test({ password: server.password })).body.details.host_key_pinned_now, false);

  const wrong = await test({ password: 'not-it' });
  assert.equal(wrong.body, { success: false, message: `Authentication failed for ${server.username}@127.0.0.1:${server.port}: wrong password?`, details: null });
  const key = await test({ private_key: server.encryptedPrivateKey, passphrase: server.passphrase });
  assert.is(key.body.success, false, 'key_based_auth is off: the password is required');
  const withKey = await client.post('/api/providers/test', {
    destination_type: 'sftp',
    destination_config: { ...sftpConfig(server), key_based_auth: true },
    credential_data: { private_key: server.encryptedPrivateKey, passphrase: server.passphrase },
  });
  assert.is(withKey.body.success, true, withKey.body.message);

  // Another machine answering for the same host and port: refused, for tests and runs alike.
  const pins = path.join(context.daemon.config.dataDir, 'host-keys.json');
  writeFileSync(pins, JSON.stringify({ [`127.0.0.1:${server.port}`]: 'SHA256:someone-else' }));
  const changed = await test({ password: server.password });
  assert.is(changed.body.success, false);
  assert.match(changed.body.message, /host key of 127\.0\.0\.1:\d+ is not the one seen before/);
});

remote('test connection says what is wrong: a name that does not resolve, a port nobody listens on', async ({ client, server }) => {
  const test = (config: Record<string, unknown>) => client.post('/api/providers/test', { destination_type: 'sftp', destination_config: { ...sftpConfig(server), ...config }, credential_data: { password: server.password } });
  const unknown = await test({ host: 'no-such-host.invalid' });
  assert.equal(unknown.body, { success: false, message: `Cannot resolve the host name of no-such-host.invalid:${server.port}`, details: null });
  const closed = await test({ port: 1 });
  assert.equal(closed.body, { success: false, message: 'Connection refused by 127.0.0.1:1 (nothing listens on that port?)', details: null });
  const bad = await client.post('/api/providers/test', { destination_type: 'sftp', destination_config: { ...sftpConfig(server), host: 'a host; rm -rf /' }, credential_data: { password: 'x' } });
  assert.is(bad.status, 400, 'a host name with spaces or shell characters is refused before anything runs');
});

remote('the server going away mid-run fails the run with a clear error; the daemon keeps answering and health names the failing job', async (context) => {
  const { client } = context;
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'big.bin'), fileContent('big', 8 * 1024 * 1024));
  // No retries: this is about the failure itself (retries: test/integration/run-retries.test.ts).
  const jobId = await sftpJob(context, source, { bandwidth_limit_kbps: 1024, retry_attempts: 0 });
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('the run to start', async () => (await client.get(`/api/runs/${runId}`)).body.status === 'running');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await context.server.stop();
  const run = await finishedRun(client, runId);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /connection|lost|closed|reset/i, `error: ${run.error_message}`);
  const health = (await client.get('/api/system/health')).body;
  assert.is(health.status, 'degraded');
  assert.equal(
    health.reasons.map((reason: { code: string; job_id?: number }) => [reason.code, reason.job_id]),
    [['JOB_FAILING', jobId]],
  );
});

remote.run();
