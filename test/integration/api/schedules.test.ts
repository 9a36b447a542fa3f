import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, createSchedule, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { fileContent, waitFor } from '../../trees.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  jobId: number;
  /** Moves the daemon's schedule clock. */
  setClock(iso: string): void;
}

const schedules = suite<Context>('schedules');

schedules.before.each(async (context) => {
  let offset = 0;
  context.setClock = (iso) => (offset = new Date(iso).getTime() - Date.now());
  context.daemon = await startTestDaemon({}, { scheduleClock: () => new Date(Date.now() + offset) });
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  await context.client.put('/api/settings', { timezone: 'UTC' });
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const job = await createJob(context.client, {
    name: 'Nightly',
    source_dirs: [source],
    destination_config: { mount_point: tempDir(), backup_subdir: '', auto_mount: false, auto_unmount: false },
  });
  context.jobId = job.id;
});
schedules.after.each(async ({ daemon }) => {
  await daemon.stop();
});

schedules('a schedule is created, listed with its next run, updated and deleted', async ({ client, jobId, setClock }) => {
  setClock('2026-01-05T12:00:00Z');
  const created = await client.post(`/api/jobs/${jobId}/schedules`, { schedule_type: 'daily', hour: 2, minute: 0 });
  assert.is(created.status, 201);
  const { next_run, created_at, ...rest } = created.body;
  assert.equal(rest, { id: 1, job_id: jobId, enabled: true, schedule_type: 'daily', hour: 2, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, action: 'backup', verify_percent: null });
  assert.ok(new Date(next_run) > new Date(), 'next_run lies ahead');
  assert.match(next_run, /T02:00:00\.000Z$/);
  assert.ok(created_at);

  const listed = (await client.get(`/api/jobs/${jobId}/schedules`)).body;
  assert.equal(listed, [created.body]);
  assert.equal((await client.get(`/api/jobs/${jobId}`)).body.schedules, [created.body]);

  const updated = await client.put('/api/schedules/1', { schedule_type: 'weekly', hour: 3, minute: 15, day_of_week: 6 });
  assert.is(updated.status, 200);
  assert.is(updated.body.day_of_week, 6);
  assert.is(new Date(updated.body.next_run).getUTCDay(), 6);

  const disabled = await client.put('/api/schedules/1', { schedule_type: 'weekly', hour: 3, minute: 15, day_of_week: 6, enabled: false });
  assert.is(disabled.body.next_run, null);

  assert.equal((await client.delete('/api/schedules/1')).body, { message: 'Schedule deleted' });
  assert.equal((await client.get(`/api/jobs/${jobId}/schedules`)).body, []);
  assert.is((await client.delete('/api/schedules/1')).status, 404);
});

schedules('next_run follows the time zone setting', async ({ client, jobId }) => {
  const schedule = await createSchedule(client, jobId);
  await client.put('/api/settings', { timezone: 'Asia/Tokyo' });
  const after = (await client.get(`/api/jobs/${jobId}/schedules`)).body[0];
  assert.match(schedule.next_run, /T02:00:00\.000Z$/);
  assert.match(after.next_run, /T17:00:00\.000Z$/, '02:00 in Tokyo is 17:00 UTC');
});

schedules('bad schedules are 400s naming the field, and nothing is stored', async ({ client, jobId }) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ schedule_type: 'hourly', hour: 2, minute: 0 }, /schedule_type/],
    [{ schedule_type: 'daily', hour: 24, minute: 0 }, /hour/],
    [{ schedule_type: 'daily', hour: 2 }, /minute/],
    [{ schedule_type: 'daily', hour: 2, minute: 60 }, /minute/],
    [{ schedule_type: 'daily', hour: 2, minute: 0, day_of_week: 1 }, /day_of_week/],
    [{ schedule_type: 'weekly', hour: 2, minute: 0 }, /day_of_week/],
    [{ schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 7 }, /day_of_week/],
    [{ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 0 }, /day_of_month/],
    [{ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 32 }, /day_of_month/],
    [{ schedule_type: 'custom' }, /cron_expression/],
    [{ schedule_type: 'custom', cron_expression: 'every night' }, /cron_expression/],
    [{ schedule_type: 'custom', cron_expression: '0 0 2 * * *' }, /five fields/],
    [{ schedule_type: 'custom', cron_expression: '61 2 * * *' }, /cron_expression/],
    [{ schedule_type: 'custom', cron_expression: '0 2 * * *', hour: 2 }, /hour/],
  ];
  for (const [body, message] of bad) {
    const response = await client.post(`/api/jobs/${jobId}/schedules`, body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
    assert.match(response.body.message, message, `${JSON.stringify(body)} → ${response.body.message}`);
  }
  assert.equal((await client.get(`/api/jobs/${jobId}/schedules`)).body, []);
  assert.is((await client.post('/api/jobs/99/schedules', { schedule_type: 'daily', hour: 2, minute: 0 })).status, 404);
});

schedules('when a schedule comes due, the job runs with trigger scheduled and the schedule id', async ({ client, jobId, setClock, daemon }) => {
  setClock('2026-01-05T01:59:58.800Z');
  const schedule = await createSchedule(client, jobId);
  const run = await waitFor('the scheduled run', async () => (await client.get(`/api/jobs/${jobId}/runs`)).body[0], 10_000);
  assert.is(run.trigger, 'scheduled');
  assert.is(run.schedule_id, schedule.id);
  await waitFor('it to complete', async () => (await client.get(`/api/runs/${run.id}`)).body.status === 'completed');
  assert.is(daemon.store.runs.ofJob(jobId).length, 1, 'fired once');
});

schedules('a disabled job is not run by its schedule', async ({ client, jobId, setClock }) => {
  await client.put(`/api/jobs/${jobId}`, { enabled: false });
  setClock('2026-01-05T01:59:59.300Z');
  await createSchedule(client, jobId);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await client.get(`/api/jobs/${jobId}/runs`)).body, []);
});

schedules('a schedule that comes due while its job runs is skipped, with a line in the running log', async ({ client, jobId, setClock }) => {
  const source = (await client.get(`/api/jobs/${jobId}`)).body.source_dirs[0];
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, `big-${i}.bin`), fileContent(`b${i}`, 256 * 1024));
  await client.put(`/api/jobs/${jobId}`, { sync_options: { bandwidth_limit_kbps: 1000 } });
  const manual = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('the manual run to be running', async () => (await client.get(`/api/runs/${manual}`)).body.status === 'running');
  setClock('2026-01-05T01:59:59.300Z');
  await createSchedule(client, jobId);
  const skipped = await waitFor('the skip line', async () =>
    (await client.get(`/api/runs/${manual}/logs?level=warning`)).body.find((entry: any) => /skipped/.test(entry.message)),
  );
  assert.match(skipped.message, /Scheduled run \(schedule 1\) skipped: this job was still running/);
  await client.post(`/api/jobs/${jobId}/cancel`);
  assert.is((await client.get(`/api/jobs/${jobId}/runs`)).body.length, 1, 'no second run was queued');
});

schedules.run();
