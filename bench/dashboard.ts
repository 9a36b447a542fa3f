/**
 * What the home screen, health and /metrics cost on a box with many jobs: a test daemon with --jobs
 * local jobs, each with a daily and a weekly schedule and a year of daily statistics, then --calls
 * sequential calls of each route. Prints the median and 95th percentile per route (ms).
 *
 *   node --import tsx bench/dashboard.ts [--jobs 50] [--calls 200]
 */
import { createJob, createSchedule, startTestDaemon } from '../test/helpers.ts';
import { median, numberOption } from './options.ts';

const JOBS = numberOption('--jobs', 50);
const CALLS = numberOption('--calls', 200);
const DAY_MS = 86_400_000;

const daemon = await startTestDaemon();
const client = daemon.client();
await client.setupAdmin();
for (let index = 0; index < JOBS; index++) {
  const job = await createJob(client, { name: `Job ${index}` });
  await createSchedule(client, job.id, { schedule_type: 'daily', hour: index % 24, minute: 0 });
  await createSchedule(client, job.id, { schedule_type: 'weekly', day_of_week: index % 7, hour: 3, minute: 30 });
  for (let day = 0; day < 365; day += 7) {
    const at = new Date(Date.now() - day * DAY_MS).toISOString();
    const run = await daemon.store.runs.create({
      job_id: job.id, job_name: job.name, status: day % 5 === 0 ? 'failed' : 'completed', trigger: 'scheduled', schedule_id: null,
      started_at: at, completed_at: at, error_message: day % 5 === 0 ? 'boom' : null, files_transferred: 3, bytes_transferred: 1000, files_deleted: 0, verify: null,
    });
    await daemon.store.runStats.record(run);
  }
}

for (const route of ['/api/dashboard', '/api/system/health', '/metrics', '/api/runs?limit=50']) {
  const times: number[] = [];
  for (let call = 0; call < CALLS; call++) {
    const started = performance.now();
    const response = await client.get(route);
    times.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${route}: ${response.status}`);
  }
  times.sort((a, b) => a - b);
  console.log(`${route.padEnd(22)} ${JOBS} jobs: median ${median(times).toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)].toFixed(1)} ms`);
}
await daemon.stop();
