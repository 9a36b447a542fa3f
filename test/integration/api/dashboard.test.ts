/**
 * The phone's home screen in one call, and the health check built on the same job states: a
 * never-run job, a completed one (whose older runs retention pruned), a failing one, a running one
 * and an overdue one, on a real daemon with real rsync runs.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { calendarDayOf, dayBefore } from '../../../src/domain/run-stats.ts';
import { createJob, createSchedule, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { fileContent, waitFor } from '../../trees.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  dataDir: string;
  jobs: Record<'never' | 'done' | 'failing' | 'running' | 'overdue', number>;
  /** Bytes the completed job's last run sent. */
  lastBytes: number;
}

const dashboard = suite<Context>('dashboard');

const DAY_MS = 86_400_000;

async function runAndWait(client: ApiClient, jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(client, started.body.run_id);
}

dashboard.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.dataDir = context.daemon.config.dataDir;
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  // Keep one run per job, so the series must count what the pruning removed.
  assert.is((await context.admin.put('/api/settings', { max_runs_per_job: 1, timezone: 'UTC' })).status, 200);

  const never = await createJob(context.admin, { name: 'Never run' });

  const doneSource = tempDir('cairn-source-');
  const done = await createJob(context.admin, { name: 'Photos', source_dirs: [doneSource] });
  for (let round = 0; round < 3; round++) {
    writeFileSync(path.join(doneSource, `photo-${round}.jpg`), fileContent(`photo-${round}`, 1000 * (round + 1)));
    const run = await runAndWait(context.admin, done.id);
    assert.is(run.status, 'completed', JSON.stringify(run));
    context.lastBytes = run.bytes_transferred;
  }
  assert.is(context.lastBytes, 3000);

  const gone = tempDir('cairn-target-');
  const failing = await createJob(context.admin, { name: 'Documents "work"', destination_config: { mount_point: gone, backup_subdir: '' } });
  rmSync(gone, { recursive: true });
  const failed = await runAndWait(context.admin, failing.id);
  assert.is(failed.status, 'failed');

  // Written through the store: a daily job whose last success was three days ago.
  const overdue = await createJob(context.admin, { name: 'Nightly' });
  await createSchedule(context.admin, overdue.id, { schedule_type: 'daily', hour: 2, minute: 0 });
  const threeDaysAgo = new Date(Date.now() - 3 * DAY_MS).toISOString();
  const old = await context.daemon.store.runs.create({
    job_id: overdue.id,
    job_name: 'Nightly',
    status: 'completed',
    trigger: 'scheduled',
    schedule_id: null,
    started_at: threeDaysAgo,
    completed_at: threeDaysAgo,
    error_message: null,
    files_transferred: 2,
    bytes_transferred: 500,
    files_deleted: 0,
    verify: null,
  });
  await context.daemon.store.runStats.record(old);

  // A run held back to a crawl by its bandwidth limit stays running while the test looks.
  const slowSource = tempDir('cairn-source-');
  writeFileSync(path.join(slowSource, 'big.bin'), fileContent('big', 4 * 1024 * 1024));
  const running = await createJob(context.admin, { name: 'Slow', source_dirs: [slowSource], sync_options: { bandwidth_limit_kbps: 1 } });
  const started = await context.admin.post(`/api/jobs/${running.id}/run`);
  assert.is(started.status, 200);
  await waitFor('the slow run to start', async () => (await context.admin.get(`/api/runs/${started.body.run_id}`)).body.status === 'running');

  context.jobs = { never: never.id, done: done.id, failing: failing.id, running: running.id, overdue: overdue.id };
});

dashboard.after(async ({ daemon, admin, jobs }) => {
  await admin.post(`/api/jobs/${jobs.running}/cancel`).catch(() => undefined);
  await daemon.stop();
});

dashboard('each job has the state an owner would expect', async ({ admin, jobs, lastBytes }) => {
  const response = await admin.get('/api/dashboard');
  assert.is(response.status, 200, JSON.stringify(response.body));
  const byId = new Map<number, any>(response.body.jobs.map((job: any) => [job.job_id, job]));
  assert.is(byId.get(jobs.never).state, 'never_run');
  assert.is(byId.get(jobs.never).last_run, null);
  assert.is(byId.get(jobs.never).last_success, null);

  const done = byId.get(jobs.done);
  assert.is(done.state, 'ok');
  assert.is(done.last_success.bytes_transferred, lastBytes);
  assert.is(done.last_run.status, 'completed');
  assert.equal(done.runs, { completed: 3, failed: 0, cancelled: 0 }, 'counted although two of the runs were pruned');

  const failing = byId.get(jobs.failing);
  assert.is(failing.state, 'failing');
  assert.is(failing.last_run.status, 'failed');
  assert.match(failing.last_run.error_message, /does not exist/);
  assert.is(failing.consecutive_failures, 1);

  const running = byId.get(jobs.running);
  assert.is(running.state, 'running');
  assert.is(running.active_run.status, 'running');

  const overdue = byId.get(jobs.overdue);
  assert.is(overdue.state, 'overdue');
  assert.is(overdue.overdue, true);
  assert.is(overdue.overdue_after_ms, 2 * DAY_MS + 3_600_000, 'twice the daily gap plus an hour');
  assert.is(overdue.last_success.bytes_transferred, 500);
});

dashboard('next run is the job schedule next run; a job without schedules has none', async ({ admin, jobs }) => {
  const body = (await admin.get('/api/dashboard')).body;
  const schedules = (await admin.get(`/api/jobs/${jobs.overdue}/schedules`)).body;
  const overdue = body.jobs.find((job: any) => job.job_id === jobs.overdue);
  assert.ok(schedules[0].next_run);
  assert.is(overdue.next_run, schedules[0].next_run);
  assert.ok(new Date(overdue.next_run).getUTCHours() === 2 && new Date(overdue.next_run).getTime() > Date.now());
  assert.is(body.jobs.find((job: any) => job.job_id === jobs.done).next_run, null);
});

dashboard('the 30-day series counts runs the pruning already removed, per day', async ({ admin, jobs }) => {
  // Retention kept one run of the three.
  assert.is((await admin.get(`/api/jobs/${jobs.done}/runs`)).body.length, 1);
  const body = (await admin.get('/api/dashboard')).body;
  assert.is(body.series.length, 30);
  const today = calendarDayOf(new Date(), 'UTC');
  assert.is(body.series[29].date, today);
  assert.is(body.series[0].date, dayBefore(today, 29));
  assert.equal({ ...body.series[29], date: undefined }, { date: undefined, runs: 4, failures: 1, bytes: 1000 + 2000 + 3000 });
  const threeDaysAgo = body.series.find((day: any) => day.date === dayBefore(today, 3));
  assert.equal(threeDaysAgo, { date: dayBefore(today, 3), runs: 1, failures: 0, bytes: 500 });
  assert.is(body.totals.runs_30d, 5);
  assert.is(body.totals.failures_30d, 1);
  assert.is(body.totals.bytes_30d, 6500);
  assert.equal(body.totals.by_state, { ok: 1, failing: 1, overdue: 1, running: 1, never_run: 1 });
  assert.is(body.totals.jobs, 5);
});

dashboard('every job has its destination space: a local folder reports what statfs says', async ({ admin, jobs }) => {
  const body = (await admin.get('/api/dashboard')).body;
  const done = body.jobs.find((job: any) => job.job_id === jobs.done);
  assert.ok(done.destination_space.free_bytes > 0);
  assert.ok(done.destination_space.total_bytes >= done.destination_space.free_bytes);
  const failing = body.jobs.find((job: any) => job.job_id === jobs.failing);
  assert.equal({ ...failing.destination_space, checked_at: null }, { free_bytes: null, total_bytes: null, checked_at: null }, 'a missing folder: unknown');
  assert.ok(Array.isArray(body.drives));
});

dashboard('the daemon log has one line per run outcome', async ({ daemon }) => {
  const outcomes = daemon.logLines.filter((line) => / run \d+ of job /.test(line));
  assert.ok(outcomes.some((line) => /info run \d+ of job "Photos" \(manual\) completed in [\d.]+ s: 1 file, 3 kB\n$/.test(line)), outcomes.join(''));
  assert.ok(outcomes.some((line) => /error run \d+ of job "Documents \\"work\\"" \(manual\) failed after [\d.]+ s: The destination folder .* does not exist\n$/.test(line)), outcomes.join(''));
});

dashboard('health is degraded with a failing job: anonymous callers learn only that, the owner learns why', async ({ daemon, admin, jobs }) => {
  const anonymous = await daemon.client().get('/api/system/health');
  assert.is(anonymous.status, 200);
  assert.equal(Object.keys(anonymous.body).sort(), ['status', 'version']);
  assert.is(anonymous.body.status, 'degraded');
  assert.not.match(JSON.stringify(anonymous.body), /Documents|Nightly/);

  const owner = await admin.get('/api/system/health');
  assert.is(owner.body.status, 'degraded');
  const codes = owner.body.reasons.map((reason: any) => `${reason.code} ${reason.job_id ?? ''}`);
  assert.ok(codes.includes(`JOB_FAILING ${jobs.failing}`), codes.join(', '));
  assert.ok(codes.includes(`JOB_OVERDUE ${jobs.overdue}`), codes.join(', '));
  assert.match(owner.body.reasons.find((reason: any) => reason.code === 'JOB_FAILING').message, /Documents "work".*does not exist/);

  const badToken = daemon.client();
  badToken.bearer = 'not-a-token';
  const withBadToken = await badToken.get('/api/system/health');
  assert.is(withBadToken.status, 200);
  assert.equal(Object.keys(withBadToken.body).sort(), ['status', 'version'], 'a bad token is an anonymous caller');
});

dashboard('the dashboard needs a session', async ({ daemon }) => {
  const response = await daemon.client().get('/api/dashboard');
  assert.is(response.status, 401);
  assert.ok(isErrorShape(response.body, 'UNAUTHENTICATED'));
});

dashboard('the counters and the series survive a restart', async (context) => {
  await context.admin.post(`/api/jobs/${context.jobs.running}/cancel`);
  await finishedRun(context.admin, (await context.admin.get(`/api/jobs/${context.jobs.running}/runs`)).body[0].id);
  await context.daemon.stop();
  context.daemon = await startTestDaemon({ dataDir: context.dataDir });
  context.admin = context.daemon.client();
  assert.is((await context.admin.login()).status, 200);
  const body = (await context.admin.get('/api/dashboard')).body;
  assert.is(body.totals.runs_30d, 6, 'the cancelled run counts as a run');
  assert.is(body.totals.failures_30d, 1);
  assert.equal(body.jobs.find((job: any) => job.job_id === context.jobs.done).runs, { completed: 3, failed: 0, cancelled: 0 });
  assert.is(body.jobs.find((job: any) => job.job_id === context.jobs.running).state, 'never_run', 'a cancelled run decides nothing');
});

dashboard.run();
