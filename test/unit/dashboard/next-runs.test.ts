/** The dashboard's remembered next runs: the same answers as the schedules give, kept only while true. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rememberedNextRuns } from '../../../src/dashboard/index.ts';
import type { ScheduleRecord } from '../../../src/domain/schedules.ts';

function daily(hour: number, fields: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return { id: hour, job_id: 1, enabled: true, schedule_type: 'daily', hour, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, created_at: '2026-01-01T00:00:00.000Z', ...fields };
}

test('the earliest enabled schedule; once that time has passed, the one after', () => {
  let schedules = [daily(2), daily(14), daily(8, { enabled: false })];
  const nextRunOf = rememberedNextRuns({ schedulesOf: () => schedules, timezone: () => 'UTC' });
  assert.is(nextRunOf(1, new Date('2026-06-10T01:00:00Z')), '2026-06-10T02:00:00.000Z');
  assert.is(nextRunOf(1, new Date('2026-06-10T01:59:59Z')), '2026-06-10T02:00:00.000Z');
  assert.is(nextRunOf(1, new Date('2026-06-10T02:00:00Z')), '2026-06-10T14:00:00.000Z', 'a due time reached is not next any more');
  schedules = [daily(2), daily(14), daily(8)];
  assert.is(nextRunOf(1, new Date('2026-06-10T03:00:00Z')), '2026-06-10T08:00:00.000Z', 'an enabled schedule counts at once');
});

test('a new time zone moves the answer; no enabled schedule is null', () => {
  let timezone = 'UTC';
  let schedules = [daily(2)];
  const nextRunOf = rememberedNextRuns({ schedulesOf: () => schedules, timezone: () => timezone });
  assert.is(nextRunOf(1, new Date('2026-06-10T00:00:00Z')), '2026-06-10T02:00:00.000Z');
  timezone = 'Europe/Berlin';
  assert.is(nextRunOf(1, new Date('2026-06-10T00:00:00Z')), '2026-06-11T00:00:00.000Z');
  schedules = [daily(2, { enabled: false })];
  assert.is(nextRunOf(1, new Date('2026-06-10T00:00:00Z')), null);
});

test.run();
