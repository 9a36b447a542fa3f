/** The default overdue rule: twice the longest gap between a job's coming scheduled runs, plus an hour. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { longestGap, OVERDUE_SLACK_MS, scheduleOverdueRule } from '../../../src/dashboard/index.ts';
import type { JobRecord } from '../../../src/domain/jobs.ts';
import type { ScheduleRecord } from '../../../src/domain/schedules.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-06-10T12:00:00.000Z');

let nextId = 1;
function schedule(fields: Partial<ScheduleRecord>): ScheduleRecord {
  return {
    id: nextId++,
    job_id: 1,
    enabled: true,
    schedule_type: 'daily',
    hour: 2,
    minute: 0,
    day_of_week: null,
    day_of_month: null,
    cron_expression: null,
    created_at: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

test('daily: a day between runs', () => {
  assert.is(longestGap([schedule({})], 'UTC', NOW), DAY);
});

test('two weekly schedules (Monday and Friday): the longer stretch, Friday to Monday', () => {
  const gap = longestGap([schedule({ schedule_type: 'weekly', day_of_week: 1 }), schedule({ schedule_type: 'weekly', day_of_week: 5 })], 'UTC', NOW);
  assert.is(gap, 4 * DAY);
});

test('a frequent schedule beside a monthly one: the frequent one decides, the monthly adds no month-long gap', () => {
  const gap = longestGap([schedule({ schedule_type: 'custom', cron_expression: '*/15 * * * *' }), schedule({ schedule_type: 'monthly', day_of_month: 1 })], 'UTC', NOW);
  assert.is(gap, 15 * 60_000);
});

test('disabled schedules and no schedules: never overdue', () => {
  assert.is(longestGap([schedule({ enabled: false })], 'UTC', NOW), null);
  assert.is(longestGap([], 'UTC', NOW), null);
  const rule = scheduleOverdueRule({ schedulesOf: () => [], timezone: () => 'UTC' });
  assert.is(rule({ id: 1 } as JobRecord, NOW), null);
});

test('the rule: twice the gap plus the slack (daily: 49 hours)', () => {
  const rule = scheduleOverdueRule({ schedulesOf: () => [schedule({})], timezone: () => 'Europe/Berlin' });
  assert.is(rule({ id: 1 } as JobRecord, NOW), 2 * DAY + OVERDUE_SLACK_MS);
  assert.is(OVERDUE_SLACK_MS, HOUR);
});

test.run();
