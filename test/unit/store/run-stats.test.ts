/** Run statistics in the store: seeded from the runs on record at the upgrade, kept by each finish, bounded. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DAYS_KEPT, dayBefore, recordOutcome, emptyRunStats } from '../../../src/domain/run-stats.ts';
import type { RunRecord } from '../../../src/domain/runs.ts';
import { DATABASE_FILE, openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

function run(id: number, fields: Partial<RunRecord>): RunRecord {
  return {
    id,
    job_id: 1,
    job_name: 'Photos',
    status: 'completed',
    trigger: 'manual',
    schedule_id: null,
    created_at: '2026-11-01T10:00:00.000Z',
    started_at: '2026-11-01T10:00:00.000Z',
    completed_at: '2026-11-01T10:01:00.000Z',
    error_message: null,
    files_transferred: 1,
    bytes_transferred: 100,
    files_deleted: 0,
    verify: null,
    ...fields,
  } as RunRecord;
}

test('a store of schema 4 gains statistics made from the runs it holds', async () => {
  const dir = tempDir();
  const runs = [
    run(1, { completed_at: '2026-11-01T23:30:00.000Z', bytes_transferred: 10 }),
    run(2, { status: 'failed', error_message: 'disk gone', completed_at: '2026-11-02T00:30:00.000Z', bytes_transferred: 5 }),
    run(3, { trigger: 'restore', completed_at: '2026-11-02T01:00:00.000Z', bytes_transferred: 999 }),
    run(4, { status: 'running', completed_at: null }),
  ];
  writeFileSync(
    path.join(dir, DATABASE_FILE),
    JSON.stringify({ schema_version: 4, last_ids: { runs: 4 }, users: [], sessions: [], settings: { timezone: 'Europe/Berlin' }, jobs: [], schedules: [], runs, credentials: [] }),
  );
  const store = await openStore(dir);
  const stats = store.runStats.ofJob(1)!;
  assert.equal(stats.runs, { completed: 1, failed: 1, cancelled: 0 }, 'the restore and the unfinished run are not backups that ended');
  assert.is(stats.last_success?.run_id, 1);
  assert.is(stats.last_run?.run_id, 2);
  assert.is(stats.consecutive_failures, 1);
  // In Berlin (UTC+1) 23:30Z on the 1st is already the 2nd.
  const series = store.runStats.lastDays(3, new Date('2026-11-03T12:00:00.000Z'));
  assert.equal(series, [
    { date: '2026-11-01', runs: 0, failures: 0, bytes: 0 },
    { date: '2026-11-02', runs: 2, failures: 1, bytes: 15 },
    { date: '2026-11-03', runs: 0, failures: 0, bytes: 0 },
  ]);
});

test('a success after failures resets the streak; a cancel leaves it as it was', () => {
  const stats = emptyRunStats();
  recordOutcome(stats, run(1, { status: 'failed' }), 'UTC');
  recordOutcome(stats, run(2, { status: 'failed' }), 'UTC');
  recordOutcome(stats, run(3, { status: 'cancelled' }), 'UTC');
  assert.is(stats.jobs[0].consecutive_failures, 2);
  assert.is(stats.jobs[0].last_run?.status, 'cancelled');
  recordOutcome(stats, run(4, {}), 'UTC');
  assert.is(stats.jobs[0].consecutive_failures, 0);
  assert.equal(stats.jobs[0].runs, { completed: 1, failed: 2, cancelled: 1 });
});

test(`the daily series keeps ${DAYS_KEPT} days at most`, () => {
  const stats = emptyRunStats();
  recordOutcome(stats, run(1, { completed_at: '2025-01-01T12:00:00.000Z' }), 'UTC');
  recordOutcome(stats, run(2, { completed_at: `${dayBefore('2025-01-01', -(DAYS_KEPT - 1))}T12:00:00.000Z` }), 'UTC');
  assert.is(stats.days.length, 2, 'day 1 is still within the window');
  recordOutcome(stats, run(3, { completed_at: `${dayBefore('2025-01-01', -DAYS_KEPT)}T12:00:00.000Z` }), 'UTC');
  assert.equal(
    stats.days.map((day) => day.date),
    [dayBefore('2025-01-01', -(DAYS_KEPT - 1)), dayBefore('2025-01-01', -DAYS_KEPT)],
  );
});

test('deleting a job forgets its counters; its days stay in the series', async () => {
  const store = await openStore(tempDir());
  const job = await store.jobs.create({
    name: 'Photos',
    description: '',
    enabled: true,
    source_dirs: ['/srv/photos'],
    destination_type: 'local',
    destination_config: { mount_point: '/mnt/backup' },
    sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    credential_id: null,
    backup_mode: 'mirror',
    retention: {} as never,
  });
  const now = new Date();
  await store.runStats.record(run(1, { job_id: job.id, completed_at: now.toISOString() }));
  assert.ok(store.runStats.ofJob(job.id));
  await store.jobs.delete(job.id);
  assert.is(store.runStats.ofJob(job.id), null);
  assert.is(store.runStats.lastDays(1, now)[0].runs, 1);
});

test.run();
