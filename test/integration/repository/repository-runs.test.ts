/**
 * Repository runs in their worker thread: the daemon keeps answering while a big backup reads its
 * sources, and a cancelled backup stops cleanly (run cancelled, its lock released, no file half
 * written under a final name, restic checks the repository clean) so the next run succeeds.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';
import { restic } from './restic.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  /** 160 MB of random bytes in four files: several seconds of reading, hashing and encrypting. */
  source: string;
}

const runs = suite<Context>('repository runs in a worker');

runs.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.source = path.join(tempDir(), 'big');
  await fs.mkdir(context.source);
  for (let file = 0; file < 4; file++) {
    const handle = await fs.open(path.join(context.source, `part-${file}.bin`), 'w');
    for (let mb = 0; mb < 40; mb += 4) await handle.write(randomBytes(4 * 1024 * 1024));
    await handle.close();
  }
});

runs.after(async ({ daemon }) => {
  await daemon.stop();
});

async function repositoryJob(admin: ApiClient, source: string): Promise<{ job: any; repo: string; password: string }> {
  const target = tempDir();
  const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
  return { job, repo: path.join(target, 'repo'), password: job.repository_password };
}

runs('the API keeps answering quickly while a big backup runs', async ({ daemon, admin, source }) => {
  const { job } = await repositoryJob(admin, source);
  const started = await admin.post(`/api/jobs/${job.id}/run`);
  assert.is(started.status, 200);
  const runId = started.body.run_id;
  const latencies: number[] = [];
  const probe = daemon.client();
  for (;;) {
    const run = (await admin.get(`/api/runs/${runId}`)).body;
    if (run.status !== 'running' && run.status !== 'pending') break;
    const begin = performance.now();
    const health = await probe.get('/api/system/health');
    latencies.push(performance.now() - begin);
    assert.is(health.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const run = await finishedRun(admin, runId);
  assert.is(run.status, 'completed', run.error_message);
  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)];
  const worst = latencies.at(-1)!;
  console.log(`  health answered ${latencies.length} times during the backup: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
  assert.ok(latencies.length >= 10, `only ${latencies.length} probes while the run ran`);
  // Generous for a loaded 2-core box: the engine on the event loop stalls it for a pack's worth of work at a time.
  assert.ok(worst < 2000, `the API took ${worst.toFixed(0)} ms to answer during the backup`);
});

runs('a cancelled backup stops cleanly, and the next run completes', async ({ admin, source }) => {
  const { job, repo, password } = await repositoryJob(admin, source);
  const started = await admin.post(`/api/jobs/${job.id}/run`);
  const runId = started.body.run_id;
  await waitFor('the backup to read some data', async () => ((await admin.get(`/api/runs/${runId}`)).body.bytes_transferred > 0 ? true : null), 120_000);
  const cancelled = await admin.post(`/api/jobs/${job.id}/cancel`);
  assert.is(cancelled.status, 200, JSON.stringify(cancelled.body));
  const run = await finishedRun(admin, runId);
  assert.is(run.status, 'cancelled');
  assert.equal(await fs.readdir(path.join(repo, 'locks')), [], 'the lock was not released');
  const names = (await fs.readdir(repo, { recursive: true })) as string[];
  assert.equal(names.filter((name) => name.includes('.cairn-tmp-')), [], 'a file was left half written');
  const check = await restic(repo, password, ['check']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  const next = await admin.post(`/api/jobs/${job.id}/run`);
  const second = await finishedRun(admin, next.body.run_id, 180_000);
  assert.is(second.status, 'completed', second.error_message);
  const full = await restic(repo, password, ['check', '--read-data']);
  assert.is(full.code, 0, full.stdout + full.stderr);
});

runs.run();
