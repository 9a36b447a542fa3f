/** Running jobs through the API with the real rsync: bytes on the destination, statuses, logs, history. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';
import { countFiles, fileContent, makeSampleTree, snapshotTree, waitFor } from '../trees.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  source: string;
  target: string;
}

const runs = suite<Context>('runs');

runs.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.source = path.join(tempDir(), 'documents');
  mkdirSync(context.source);
  context.target = tempDir();
});
runs.after.each(async ({ daemon }) => {
  await daemon.stop();
});

/** A job backing up the context's source into its target (plus `overrides`); its id. */
async function localJob(context: Context, overrides: Record<string, unknown> = {}): Promise<number> {
  const job = await createJob(context.client, {
    source_dirs: [context.source],
    destination_config: { mount_point: context.target, backup_subdir: 'backup', auto_mount: false, auto_unmount: false },
    ...overrides,
  });
  return job.id;
}

async function runToEnd(context: Context, jobId: number): Promise<any> {
  const started = await context.client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  assert.is(started.body.message, 'Job started');
  return finishedRun(context.client, started.body.run_id);
}

/** A tree big enough that a bandwidth-limited run takes many seconds. */
function makeSlowTree(root: string): void {
  for (let i = 0; i < 40; i++) writeFileSync(path.join(root, `chunk-${i}.bin`), fileContent(`chunk-${i}`, 512 * 1024));
}

runs('a run copies every byte, completes, and reports what it moved', async (context) => {
  makeSampleTree(context.source, { largeFileBytes: 2 * 1024 * 1024 });
  const jobId = await localJob(context);
  const run = await runToEnd(context, jobId);
  assert.is(run.status, 'completed', run.error_message);
  assert.is(run.trigger, 'manual');
  assert.is(run.error_message, null);
  assert.ok(run.started_at && run.completed_at);

  const copy = path.join(context.target, 'backup', 'documents');
  assert.equal(snapshotTree(copy), snapshotTree(context.source));
  const expected = countFiles(context.source);
  assert.is(run.files_transferred, expected.files);
  assert.is(run.bytes_transferred, expected.bytes);
  assert.is(run.files_deleted, 0);

  const job = (await context.client.get(`/api/jobs/${jobId}`)).body;
  assert.equal(job.last_run, { id: run.id, status: 'completed', started_at: run.started_at, completed_at: run.completed_at });

  const logs = (await context.client.get(`/api/runs/${run.id}/logs`)).body;
  assert.ok(logs.length > expected.files, 'one line per file plus start and end');
  assert.equal(Object.keys(logs[0]).sort(), ['id', 'level', 'message', 'run_id', 'timestamp']);
  assert.equal(logs.map((entry: any) => entry.id), logs.map((_: unknown, i: number) => i + 1));
  assert.ok(logs.some((entry: any) => entry.message.includes('résumé.txt')));

  const again = await runToEnd(context, jobId);
  assert.is(again.status, 'completed');
  assert.is(again.files_transferred, 0, 'a second run with no change transfers nothing');
});

runs('a missing source folder fails the run with a message naming it', async (context) => {
  const jobId = await localJob(context, { source_dirs: [path.join(context.source, 'gone')] });
  const run = await runToEnd(context, jobId);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /gone does not exist/);
  assert.equal(readdirSync(context.target), [], 'nothing was written');
});

runs('a USB job whose drive is not mounted fails without writing anywhere', async (context) => {
  makeSampleTree(context.source, { largeFileBytes: 1000 });
  const jobId = await localJob(context, {
    destination_config: { mount_point: context.target, backup_subdir: 'backup', usb_uuid: '1234-ABCD', auto_mount: false, auto_unmount: false },
  });
  const run = await runToEnd(context, jobId);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /1234-ABCD/);
  assert.equal(readdirSync(context.target), [], 'the mount point directory on the root filesystem holds nothing new');
});

runs('a second run request while one is active is a 409; cancel stops rsync and marks it cancelled', async (context) => {
  makeSlowTree(context.source);
  const jobId = await localJob(context, { sync_options: { bandwidth_limit_kbps: 1000 } });
  const started = await context.client.post(`/api/jobs/${jobId}/run`);
  await waitFor('the run to be running', async () => (await context.client.get(`/api/runs/${started.body.run_id}`)).body.status === 'running');

  const second = await context.client.post(`/api/jobs/${jobId}/run`);
  assert.is(second.status, 409);
  assert.ok(isErrorShape(second.body, 'RUN_IN_PROGRESS'));
  assert.is((await context.client.delete(`/api/jobs/${jobId}`)).status, 409, 'a running job cannot be deleted');

  await waitFor('rsync to start', () => rsyncProcessesFor(context.target).length > 0);
  const cancelled = await context.client.post(`/api/jobs/${jobId}/cancel`);
  assert.is(cancelled.status, 200);
  assert.is(cancelled.body.message, 'Job cancelled');
  const run = await waitFor('the run to end', async () => {
    const current = (await context.client.get(`/api/runs/${started.body.run_id}`)).body;
    return current.status === 'running' ? null : current;
  });
  assert.is(run.status, 'cancelled');
  await waitFor('rsync to be gone', () => rsyncProcessesFor(context.target).length === 0, 10_000);
  const logs = (await context.client.get(`/api/runs/${run.id}/logs?level=warning`)).body;
  assert.ok(logs.some((entry: any) => /Cancelled after/.test(entry.message)), 'the partial state is logged');
  assert.is((await context.client.post(`/api/jobs/${jobId}/cancel`)).status, 409, 'nothing left to cancel');
});

runs('with max_concurrent_runs 1, a second job waits pending and runs after the first', async (context) => {
  await context.client.put('/api/settings', { max_concurrent_runs: 1 });
  makeSlowTree(context.source);
  const slow = await localJob(context, { sync_options: { bandwidth_limit_kbps: 4000 } });
  const quick = await localJob(context, { destination_config: { mount_point: context.target, backup_subdir: 'other', auto_mount: false, auto_unmount: false } });
  const first = (await context.client.post(`/api/jobs/${slow}/run`)).body.run_id;
  await waitFor('the first run to be running', async () => (await context.client.get(`/api/runs/${first}`)).body.status === 'running');
  const second = (await context.client.post(`/api/jobs/${quick}/run`)).body.run_id;
  assert.is((await context.client.get(`/api/runs/${second}`)).body.status, 'pending');
  await context.client.post(`/api/jobs/${slow}/cancel`);
  const done = await waitFor('the second run to complete', async () => {
    const run = (await context.client.get(`/api/runs/${second}`)).body;
    return run.status === 'completed' ? run : null;
  });
  assert.ok(done.started_at >= (await context.client.get(`/api/runs/${first}`)).body.completed_at, 'it started after the first ended');
});

runs('history keeps exactly max_runs_per_job runs, pruning the oldest with their logs', async (context) => {
  await context.client.put('/api/settings', { max_runs_per_job: 3 });
  writeFileSync(path.join(context.source, 'a.txt'), 'a');
  const jobId = await localJob(context);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push((await runToEnd(context, jobId)).id);
  const listed = (await context.client.get(`/api/jobs/${jobId}/runs`)).body;
  assert.equal(listed.map((run: any) => run.id), ids.slice(2).reverse(), 'newest first, oldest two gone');
  assert.is((await context.client.get(`/api/runs/${ids[0]}`)).status, 404);
  assert.is((await context.client.get(`/api/runs/${ids[0]}/logs`)).status, 404);
  assert.not.ok(existsSync(path.join(context.daemon.config.dataDir, 'logs', `${ids[0]}.jsonl`)));
});

runs('runs can be paged, deleted one by one, per job, and all at once', async (context) => {
  writeFileSync(path.join(context.source, 'a.txt'), 'a');
  const jobId = await localJob(context);
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) ids.push((await runToEnd(context, jobId)).id);
  const page = (await context.client.get(`/api/jobs/${jobId}/runs?limit=2&offset=1`)).body;
  assert.equal(page.map((run: any) => run.id), [ids[2], ids[1]]);
  assert.is((await context.client.get(`/api/jobs/${jobId}/runs?limit=0`)).status, 400);

  assert.equal((await context.client.delete(`/api/runs/${ids[0]}`)).body, { message: 'Run deleted' });
  assert.is((await context.client.delete(`/api/runs/${ids[0]}`)).status, 404);
  assert.equal((await context.client.delete(`/api/jobs/${jobId}/runs`)).body, { message: 'Runs deleted', count: 3 });
  await runToEnd(context, jobId);
  assert.equal((await context.client.delete('/api/runs')).body, { message: 'All runs deleted', count: 1 });
  assert.is((await context.client.get(`/api/jobs/${jobId}`)).body.last_run, null);
});

runs('run logs page by offset and limit and filter by level', async (context) => {
  for (let i = 0; i < 30; i++) writeFileSync(path.join(context.source, `file-${String(i).padStart(2, '0')}.txt`), `${i}`);
  const jobId = await localJob(context, { source_dirs: [context.source, path.join(path.dirname(context.source), 'missing')] });
  const run = await runToEnd(context, jobId);
  assert.is(run.status, 'failed');
  const all = (await context.client.get(`/api/runs/${run.id}/logs`)).body;
  const page = (await context.client.get(`/api/runs/${run.id}/logs?offset=1&limit=2`)).body;
  assert.equal(page, all.slice(1, 3));
  const errors = (await context.client.get(`/api/runs/${run.id}/logs?level=error`)).body;
  assert.ok(errors.length >= 1);
  assert.ok(errors.every((entry: any) => entry.level === 'error'));
  assert.is((await context.client.get(`/api/runs/${run.id}/logs?level=debug`)).status, 400);
});

/** rsync processes whose arguments mention `dir` (so other tests' rsyncs do not count). */
function rsyncProcessesFor(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes('rsync') && line.includes(dir));
}

runs('two enabled jobs writing a folder of the same name to the same place are refused, a disabled clone does not block the original', async (context) => {
  writeFileSync(path.join(context.source, 'a.txt'), 'a');
  const original = await localJob(context, { name: 'Original' });
  const clone = (await context.client.post(`/api/jobs/${original}/clone`)).body;
  const refused = await runToEnd(context, clone.id);
  assert.is(refused.status, 'failed');
  assert.match(refused.error_message, /Job "Original" also backs up a folder named "documents" to the same place/);
  assert.is((await runToEnd(context, original)).status, 'completed', 'the clone starts disabled and does not block the original');

  await context.client.put(`/api/jobs/${clone.id}`, { enabled: true });
  assert.is((await runToEnd(context, original)).status, 'failed', 'now both would write there');
  await context.client.put(`/api/jobs/${clone.id}`, { destination_config: { mount_point: context.target, backup_subdir: 'second copy' } });
  assert.is((await runToEnd(context, original)).status, 'completed');
  assert.is((await runToEnd(context, clone.id)).status, 'completed');
});

runs.run();
