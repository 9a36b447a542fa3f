/**
 * What a schedule's fire does (ScheduleService.fire) over a real store, with a run manager the test
 * records; the whole path through a daemon is in test/integration/api/schedules.test.ts.
 */
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunRecord } from '../../../src/domain/runs.ts';
import { createMemoryLogger } from '../../../src/log.ts';
import { ScheduleService, type ScheduledRuns } from '../../../src/schedules/index.ts';
import { openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

async function setup(options: { enabled?: boolean; busy?: RunRecord['status']; backupMode?: 'mirror' | 'snapshots' } = {}) {
  const store = await openStore(tempDir());
  const job = await store.jobs.create({
    name: 'Photos',
    description: '',
    enabled: options.enabled ?? true,
    source_dirs: ['/srv/photos'],
    destination_type: 'local',
    destination_config: { mount_point: '/mnt/usb', backup_subdir: '' },
    sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    credential_id: null,
    backup_mode: options.backupMode ?? 'mirror',
    retention: emptyRetentionPolicy(),
  });
  const calls: string[] = [];
  const runs: ScheduledRuns = {
    activeRunOf: () => (options.busy ? ({ id: 7, job_id: job.id, status: options.busy } as RunRecord) : undefined),
    noteOnActiveRun: (jobId, level, message) => void calls.push(`note ${jobId} ${level} ${message}`),
    request: async (jobId, request) => void calls.push(`run ${jobId} ${request.trigger} ${request.scheduleId}`),
    requestScheduledVerify: async (jobId, percent, scheduleId) => void calls.push(`verify ${jobId} ${percent}% ${scheduleId}`),
  };
  const log = createMemoryLogger();
  const service = new ScheduleService({ schedules: store.schedules, jobs: store.jobs, runs, timezone: () => 'UTC', log });
  const schedule = await store.schedules.create(job.id, { schedule_type: 'daily', hour: 2, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, enabled: true });
  return { service, schedule, calls, log, job };
}

test('a fire starts a scheduled run naming its schedule', async () => {
  const { service, schedule, calls, job } = await setup();
  service.fire(schedule);
  await Promise.resolve();
  assert.equal(calls, [`run ${job.id} scheduled ${schedule.id}`]);
});

test('a fire while the job still runs is skipped, and the running log says so', async () => {
  const { service, schedule, calls, log, job } = await setup({ busy: 'running' });
  service.fire(schedule);
  const message = `Scheduled run (schedule ${schedule.id}) skipped: this job was still running`;
  assert.equal(calls, [`note ${job.id} warning ${message}`]);
  assert.ok(log.lines.some((line) => line.includes(message)), log.lines.join('\n'));
});

test('a fire for a disabled or deleted job does nothing', async () => {
  const disabled = await setup({ enabled: false });
  disabled.service.fire(disabled.schedule);
  disabled.service.fire({ ...disabled.schedule, job_id: 99 });
  assert.equal(disabled.calls, []);
});

test('schedules of a job that does not exist are a 404, and so is an unknown schedule', async () => {
  const { service } = await setup();
  const code = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return 'no error';
  };
  assert.is(code(() => service.ofJob(99)), 'JOB_NOT_FOUND');
  assert.is(await service.delete(99).then(() => 'no error', (error: { code?: string }) => error.code), 'SCHEDULE_NOT_FOUND');
  assert.is(await service.create(99, { schedule_type: 'daily', hour: 2, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, enabled: true }).then(() => 'no error', (error: { code?: string }) => error.code), 'JOB_NOT_FOUND');
});

test('a verify schedule starts a verify run with its share; a backup schedule stored before actions existed still backs up', async () => {
  const { service, schedule, calls, job } = await setup({ backupMode: 'snapshots' });
  const verify = await service.create(job.id, { schedule_type: 'daily', hour: 3, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, enabled: true, action: 'verify', verify_percent: 25 });
  assert.is(verify.action, 'verify');
  assert.is(verify.verify_percent, 25);
  service.fire({ ...verify, next_run: undefined } as never);
  service.fire(schedule);
  await Promise.resolve();
  assert.equal(calls, [`verify ${job.id} 25% ${verify.id}`, `run ${job.id} scheduled ${schedule.id}`]);
  assert.equal(service.viewsOf(job.id).map((view) => [view.action, view.verify_percent]), [['backup', null], ['verify', 25]]);
});

test('a verify schedule on a job that keeps a mirror is refused (409 NOT_A_SNAPSHOT_JOB) and not stored', async () => {
  const { service, job } = await setup();
  const input = { schedule_type: 'daily' as const, hour: 3, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, enabled: true, action: 'verify' as const };
  assert.is(await service.create(job.id, input).then(() => 'no error', (error: { code?: string }) => error.code), 'NOT_A_SNAPSHOT_JOB');
  assert.is(service.viewsOf(job.id).length, 1);
});

test.run();
