/**
 * A run's retries as an owner sees them, against a real OpenSSH SFTP server that is stopped and
 * started again: a run that worked on a later attempt is `completed` with the earlier error in its
 * log, one that never worked is `failed` after the job's attempts, and a cancel ends the pause.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, REPO_ROOT, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';
import { startSftpServer, type SftpServer } from '../servers.ts';
import { fileContent, makeSampleTree, snapshotTree, waitFor } from '../trees.ts';
import { filesOnly } from './destinations/contract.ts';

const execFileAsync = promisify(execFile);
const SFTP_SCRIPT = path.join(REPO_ROOT, 'scripts', 'sftp-server.sh');

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  server: SftpServer;
  allowed: string;
  /** True while a server started again by the test runs (stopped by the script, by its dir). */
  restarted: boolean;
}

const retries = suite<Context>('run retries');

retries.before.each(async (context) => {
  context.server = await startSftpServer();
  context.restarted = false;
  context.allowed = tempDir();
  context.daemon = await startTestDaemon({ allowedPaths: [context.allowed] });
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
retries.after.each(async ({ daemon, server, restarted }) => {
  await daemon.stop();
  await server.stop();
  if (restarted) await execFileAsync(SFTP_SCRIPT, ['stop', server.dir]);
});

/** The same server (host key, user, files) started again on its port. */
async function startAgain(context: Context): Promise<void> {
  await execFileAsync(SFTP_SCRIPT, ['start', context.server.dir, String(context.server.port)]);
  context.restarted = true;
  assert.ok(Number(readFileSync(path.join(context.server.dir, 'sshd.pid'), 'utf8')) > 0);
}

/** An SFTP job of a sample tree, with these retry options; its id and source. */
async function sftpJob(context: Context, sync_options: Record<string, unknown>): Promise<{ jobId: number; source: string }> {
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  makeSampleTree(source);
  const credential = await context.client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: context.server.password } });
  assert.is(credential.status, 201);
  const { server } = context;
  const job = await createJob(context.client, {
    name: 'Photos to the NAS',
    source_dirs: [source],
    destination_type: 'sftp',
    destination_config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'backups'), key_based_auth: false },
    credential_id: credential.body.id,
    sync_options,
  });
  assert.is(job.sync_options.retry_attempts, sync_options.retry_attempts);
  return { jobId: job.id, source };
}

async function logOf(client: ApiClient, runId: number): Promise<Array<{ level: string; message: string }>> {
  return (await client.get(`/api/runs/${runId}/logs?limit=1000`)).body;
}

async function waitForLine(client: ApiClient, runId: number, pattern: RegExp): Promise<void> {
  await waitFor(`a log line ${pattern}`, async () => (await logOf(client, runId)).some((entry) => pattern.test(entry.message)), 30_000);
}

retries('a server that is down at first and back during the pause: the run ends completed, both attempts in its log', async (context) => {
  const { client } = context;
  const { jobId, source } = await sftpJob(context, { retry_attempts: 2, retry_delay_seconds: 4 });
  await context.server.stop();
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitForLine(client, runId, /^Attempt 1 of 3 failed: .*trying again in 4 s$/);
  await startAgain(context);

  const run = await finishedRun(client, runId);
  assert.is(run.status, 'completed', run.error_message);
  assert.is(run.error_message, null);
  const expected = filesOnly(snapshotTree(source));
  assert.equal(filesOnly(snapshotTree(path.join(context.server.root, 'backups', 'photos'))), expected, 'the bytes are on the server');
  assert.is(run.files_transferred, Object.keys(expected).length, 'the totals are those of the attempt that worked');
  const log = await logOf(client, runId);
  const failed = log.find((entry) => entry.message.startsWith('Attempt 1 of 3 failed'));
  assert.is(failed?.level, 'warning');
  assert.match(failed!.message, /connect|refused|reach/i, 'the first attempt\'s error is kept');
  assert.ok(log.some((entry) => entry.message === 'Attempt 2 of 3'));
  assert.ok(log.some((entry) => entry.message.startsWith('Completed:')));
});

retries('a server that stays down: the run ends failed with the last error after the job\'s attempts', async (context) => {
  const { client } = context;
  const { jobId } = await sftpJob(context, { retry_attempts: 1, retry_delay_seconds: 1 });
  await context.server.stop();
  const run = await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /connect|refused|reach/i);
  const messages = (await logOf(client, run.id)).map((entry) => entry.message);
  assert.is(messages.filter((message) => message.startsWith('Starting manual run')).length, 2, 'two attempts, no more');
  assert.ok(messages.some((message) => /^Attempt 1 of 2 failed: .*trying again in 1 s$/.test(message)));
  assert.ok(messages.includes('Attempt 2 of 2'));
  assert.is(messages.at(-1), `Failed: ${run.error_message}`);
});

retries('a cancel during the pause ends the run at once, cancelled', async (context) => {
  const { client } = context;
  const { jobId } = await sftpJob(context, { retry_attempts: 3, retry_delay_seconds: 600 });
  await context.server.stop();
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitForLine(client, runId, /^Attempt 1 of 4 failed: .*trying again in 10 min$/);
  const cancelled = Date.now();
  assert.is((await client.post(`/api/jobs/${jobId}/cancel`)).status, 200);
  const run = await finishedRun(client, runId, 10_000);
  assert.is(run.status, 'cancelled');
  assert.ok(Date.now() - cancelled < 5_000, 'not after the ten-minute pause');
});

retries('no retries when the job asks for none: the first failure is the run\'s', async (context) => {
  const { client } = context;
  const { jobId } = await sftpJob(context, { retry_attempts: 0, retry_delay_seconds: 1 });
  await context.server.stop();
  const run = await finishedRun(client, (await client.post(`/api/jobs/${jobId}/run`)).body.run_id);
  assert.is(run.status, 'failed');
  const messages = (await logOf(client, run.id)).map((entry) => entry.message);
  assert.not.ok(messages.some((message) => message.startsWith('Attempt')), messages.join('\n'));
});

retries('a USB drive that is not plugged in fails the run at once, with no pauses (plugging it in starts a run)', async (context) => {
  const { client } = context;
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  const mountPoint = path.join(context.allowed, 'usb');
  mkdirSync(mountPoint);
  const job = await createJob(client, {
    source_dirs: [source],
    destination_config: { mount_point: mountPoint, backup_subdir: '', usb_uuid: '1234-ABCD', auto_mount: false, auto_unmount: false },
  });
  assert.is(job.sync_options.retry_attempts, 2, 'the default: retries are on');
  const run = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id, 20_000);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /not mounted/);
  const messages = (await logOf(client, run.id)).map((entry) => entry.message);
  assert.not.ok(messages.some((message) => message.startsWith('Attempt')), messages.join('\n'));
});

retries('a destination that is full fails the run at once, with no pauses: a retry cannot free space (rsync exit 11)', async (context) => {
  const { client } = context;
  const source = path.join(context.allowed, 'videos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'holiday.mp4'), fileContent('holiday', 3 * 1024 * 1024));
  const drive = path.join(context.allowed, 'small-drive');
  mkdirSync(drive);
  // A real filesystem of 1 MB: rsync's write fails with ENOSPC and rsync exits 11.
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', drive]);
  try {
    const job = await createJob(client, { source_dirs: [source], destination_config: { mount_point: drive }, sync_options: { retry_attempts: 2, retry_delay_seconds: 1 } });
    const run = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id, 30_000);
    assert.is(run.status, 'failed');
    assert.match(run.error_message, /file I\/O error \(is the destination full/);
    assert.match(run.error_message, /No space left on device/);
    const messages = (await logOf(client, run.id)).map((entry) => entry.message);
    assert.not.ok(messages.some((message) => message.startsWith('Attempt')), messages.join('\n'));
    assert.is(messages.filter((message) => message.startsWith('Starting manual run')).length, 1, 'one attempt');
  } finally {
    await execFileAsync('umount', [drive]);
  }
});

retries.run();
