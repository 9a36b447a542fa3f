import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeScheduleInput, type ScheduleInput, type ScheduleRecord } from '../../../src/domain/schedules.ts';
import { nextRunAfter, nextRunOf } from '../../../src/schedules/index.ts';

const daily = (hour: number, minute: number) => normalizeScheduleInput({ schedule_type: 'daily', hour, minute });
const weekly = (day_of_week: number, hour: number, minute: number) => normalizeScheduleInput({ schedule_type: 'weekly', hour, minute, day_of_week });
const monthly = (day_of_month: number) => normalizeScheduleInput({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month });
const custom = (cron_expression: string) => normalizeScheduleInput({ schedule_type: 'custom', cron_expression });

/** The next `count` runs after `from`, each asked after the one before, as ISO strings (UTC). */
function runs(rule: ScheduleInput, from: string, timezone: string, count = 3): string[] {
  const out: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextRunAfter(rule, after, timezone)!;
    out.push(next.toISOString());
    after = next;
  }
  return out;
}

test('daily, weekly, monthly and custom schedules in UTC', () => {
  assert.equal(runs(daily(2, 0), '2026-01-05T12:00:00Z', 'UTC', 2), ['2026-01-06T02:00:00.000Z', '2026-01-07T02:00:00.000Z']);
  // 5 January 2026 is a Monday.
  assert.equal(runs(weekly(0, 2, 30), '2026-01-05T12:00:00Z', 'UTC', 2), ['2026-01-11T02:30:00.000Z', '2026-01-18T02:30:00.000Z'], '0 = Sunday');
  assert.equal(runs(weekly(6, 23, 59), '2026-01-05T12:00:00Z', 'UTC', 1), ['2026-01-10T23:59:00.000Z'], '6 = Saturday');
  assert.equal(runs(monthly(1), '2026-01-15T00:00:00Z', 'UTC', 2), ['2026-02-01T02:00:00.000Z', '2026-03-01T02:00:00.000Z']);
  assert.equal(runs(custom('0 2 * * 1-5'), '2026-01-09T12:00:00Z', 'UTC', 2), ['2026-01-12T02:00:00.000Z', '2026-01-13T02:00:00.000Z'], 'Friday noon → Monday');
  assert.equal(runs(custom('30 4 * jan,jul MON-FRI'), '2026-01-30T12:00:00Z', 'UTC', 1), ['2026-07-01T04:30:00.000Z'], 'names');
  assert.equal(runs(custom('*/15 9-10 * * *'), '2026-01-05T10:40:00Z', 'UTC', 2), ['2026-01-05T10:45:00.000Z', '2026-01-06T09:00:00.000Z'], 'steps and ranges');
});

test('a run time exactly equal to "after" gives the following one', () => {
  assert.is(nextRunAfter(daily(2, 0), new Date('2026-01-06T02:00:00Z'), 'UTC')!.toISOString(), '2026-01-07T02:00:00.000Z');
  assert.is(nextRunAfter(custom('*/5 * * * *'), new Date('2026-01-06T02:05:00Z'), 'UTC')!.toISOString(), '2026-01-06T02:10:00.000Z');
  assert.is(nextRunAfter(daily(2, 0), new Date('2026-01-06T01:59:59.999Z'), 'UTC')!.toISOString(), '2026-01-06T02:00:00.000Z', 'a millisecond before');
});

test('local times follow the time zone, including a +05:45 offset', () => {
  assert.equal(runs(daily(2, 0), '2026-01-05T12:00:00Z', 'Europe/Berlin', 1), ['2026-01-06T01:00:00.000Z'], 'winter, +01:00');
  assert.equal(runs(daily(2, 0), '2026-07-05T12:00:00Z', 'Europe/Berlin', 1), ['2026-07-06T00:00:00.000Z'], 'summer, +02:00');
  // 00:00 UTC on 5 January is 05:45 in Kathmandu, past 02:00 that day.
  assert.equal(runs(daily(2, 0), '2026-01-05T00:00:00Z', 'Asia/Kathmandu', 2), ['2026-01-05T20:15:00.000Z', '2026-01-06T20:15:00.000Z']);
  // Monday 5 January 2026 begins at 18:15 UTC on Sunday the 4th in Kathmandu.
  assert.equal(runs(weekly(1, 0, 0), '2026-01-01T00:00:00Z', 'Asia/Kathmandu', 1), ['2026-01-04T18:15:00.000Z']);
});

test('spring forward in Europe/Berlin: 02:30 does not exist that day, so it runs at 03:30; 01:30 and 03:30 are unaffected', () => {
  // 29 March 2026: clocks jump from 02:00 CET (+01:00) to 03:00 CEST (+02:00).
  assert.equal(runs(daily(2, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin'), [
    '2026-03-29T01:30:00.000Z', // 03:30 CEST
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
    '2026-03-31T00:30:00.000Z',
  ]);
  assert.equal(runs(daily(1, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin', 2), ['2026-03-29T00:30:00.000Z', '2026-03-29T23:30:00.000Z']);
  assert.equal(runs(daily(3, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin', 2), ['2026-03-29T01:30:00.000Z', '2026-03-30T01:30:00.000Z']);
  // Asked at 03:10 CEST, after the gap: the shifted run at 03:30 is still ahead.
  assert.is(nextRunAfter(daily(2, 30), new Date('2026-03-29T01:10:00Z'), 'Europe/Berlin')!.toISOString(), '2026-03-29T01:30:00.000Z');
});

test('spring forward in America/New_York: 02:30 runs at 03:30 EDT; 01:30 and 03:30 are unaffected', () => {
  // 8 March 2026: clocks jump from 02:00 EST (-05:00) to 03:00 EDT (-04:00).
  assert.equal(runs(daily(2, 30), '2026-03-07T12:00:00Z', 'America/New_York', 2), ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  assert.equal(runs(daily(1, 30), '2026-03-07T12:00:00Z', 'America/New_York', 2), ['2026-03-08T06:30:00.000Z', '2026-03-09T05:30:00.000Z']);
  assert.equal(runs(daily(3, 30), '2026-03-07T12:00:00Z', 'America/New_York', 2), ['2026-03-08T07:30:00.000Z', '2026-03-09T07:30:00.000Z']);
});

test('fall back in Europe/Berlin: 02:30 happens twice and runs once, at its first occurrence', () => {
  // 25 October 2026: clocks go back from 03:00 CEST (+02:00) to 02:00 CET (+01:00).
  assert.equal(runs(daily(2, 30), '2026-10-24T12:00:00Z', 'Europe/Berlin'), [
    '2026-10-25T00:30:00.000Z', // 02:30 CEST
    '2026-10-26T01:30:00.000Z', // 02:30 CET the next day; not 01:30Z on the 25th
    '2026-10-27T01:30:00.000Z',
  ]);
  // Asked during the repeated hour (02:10 CET), today's 02:30 has already been.
  assert.is(nextRunAfter(daily(2, 30), new Date('2026-10-25T01:10:00Z'), 'Europe/Berlin')!.toISOString(), '2026-10-26T01:30:00.000Z');
  assert.equal(runs(daily(1, 30), '2026-10-24T12:00:00Z', 'Europe/Berlin', 2), ['2026-10-24T23:30:00.000Z', '2026-10-26T00:30:00.000Z']);
  assert.equal(runs(daily(3, 30), '2026-10-24T12:00:00Z', 'Europe/Berlin', 2), ['2026-10-25T02:30:00.000Z', '2026-10-26T02:30:00.000Z']);
});

test('fall back in America/New_York: 01:30 happens twice and runs once; 00:30 and 03:30 are unaffected', () => {
  // 1 November 2026: clocks go back from 02:00 EDT (-04:00) to 01:00 EST (-05:00).
  assert.equal(runs(daily(1, 30), '2026-10-31T12:00:00Z', 'America/New_York'), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z']);
  assert.equal(runs(daily(0, 30), '2026-10-31T12:00:00Z', 'America/New_York', 2), ['2026-11-01T04:30:00.000Z', '2026-11-02T05:30:00.000Z']);
  assert.equal(runs(daily(3, 30), '2026-10-31T12:00:00Z', 'America/New_York', 2), ['2026-11-01T08:30:00.000Z', '2026-11-02T08:30:00.000Z']);
});

test('a custom expression follows the same rules: the repeated hour runs once, the skipped hour lands after the gap', () => {
  const everyTwentyMinutes = custom('*/20 * * * *');
  assert.equal(runs(everyTwentyMinutes, '2026-10-25T00:00:00Z', 'Europe/Berlin', 3), [
    '2026-10-25T00:20:00.000Z', // 02:20 CEST
    '2026-10-25T00:40:00.000Z', // 02:40 CEST
    '2026-10-25T02:00:00.000Z', // 03:00 CET: 02:00–02:40 CET were 02:00–02:40 CEST already
  ]);
  assert.equal(runs(everyTwentyMinutes, '2026-03-29T00:30:00Z', 'Europe/Berlin', 3), [
    '2026-03-29T00:40:00.000Z', // 01:40 CET
    '2026-03-29T01:00:00.000Z', // 03:00 CEST, once, though 02:00 shifted lands there too
    '2026-03-29T01:20:00.000Z',
  ]);
  assert.equal(runs(custom('30 2 * * *'), '2026-03-28T12:00:00Z', 'Europe/Berlin', 1), ['2026-03-29T01:30:00.000Z'], 'same as daily 02:30');
});

test('monthly on the 31st runs on the last day of shorter months, in a common year', () => {
  assert.equal(runs(monthly(31), '2027-01-15T00:00:00Z', 'UTC', 12), [
    '2027-01-31T02:00:00.000Z',
    '2027-02-28T02:00:00.000Z',
    '2027-03-31T02:00:00.000Z',
    '2027-04-30T02:00:00.000Z',
    '2027-05-31T02:00:00.000Z',
    '2027-06-30T02:00:00.000Z',
    '2027-07-31T02:00:00.000Z',
    '2027-08-31T02:00:00.000Z',
    '2027-09-30T02:00:00.000Z',
    '2027-10-31T02:00:00.000Z',
    '2027-11-30T02:00:00.000Z',
    '2027-12-31T02:00:00.000Z',
  ]);
});

test('monthly on the 31st in a leap year runs on 29 February', () => {
  assert.equal(runs(monthly(31), '2028-01-31T12:00:00Z', 'UTC', 3), ['2028-02-29T02:00:00.000Z', '2028-03-31T02:00:00.000Z', '2028-04-30T02:00:00.000Z']);
});

test('monthly on the 29th and 30th: February gets its last day, once; other months their own date', () => {
  assert.equal(runs(monthly(30), '2027-02-01T00:00:00Z', 'UTC', 2), ['2027-02-28T02:00:00.000Z', '2027-03-30T02:00:00.000Z']);
  assert.equal(runs(monthly(29), '2027-02-01T00:00:00Z', 'UTC', 2), ['2027-02-28T02:00:00.000Z', '2027-03-29T02:00:00.000Z']);
  assert.equal(runs(monthly(29), '2028-02-01T00:00:00Z', 'UTC', 2), ['2028-02-29T02:00:00.000Z', '2028-03-29T02:00:00.000Z']);
  assert.equal(runs(monthly(30), '2028-02-01T00:00:00Z', 'UTC', 2), ['2028-02-29T02:00:00.000Z', '2028-03-30T02:00:00.000Z']);
});

test('a custom "31st" follows cron and skips months without one', () => {
  assert.equal(runs(custom('0 2 31 * *'), '2027-01-31T12:00:00Z', 'UTC', 2), ['2027-03-31T02:00:00.000Z', '2027-05-31T02:00:00.000Z']);
});

test('monthly in a time zone: the last day is the local last day, across a daylight-saving change', () => {
  // Berlin: 31 March 2027 is in summer time (+02:00), 28 February in winter time (+01:00).
  assert.equal(runs(monthly(31), '2027-02-01T00:00:00Z', 'Europe/Berlin', 3), ['2027-02-28T01:00:00.000Z', '2027-03-31T00:00:00.000Z', '2027-04-30T00:00:00.000Z']);
  // Auckland: 02:00 on 30 April (+12:00) is still 29 April in UTC.
  assert.equal(runs(monthly(31), '2027-04-01T00:00:00Z', 'Pacific/Auckland', 1), ['2027-04-29T14:00:00.000Z']);
});

test('a disabled schedule has no next run; an enabled one has the rule\'s', () => {
  const record = (enabled: boolean): ScheduleRecord => ({ ...daily(2, 0), enabled, id: 1, job_id: 1, created_at: '2026-01-01T00:00:00.000Z' });
  assert.is(nextRunOf(record(false), 'UTC', new Date('2026-01-05T12:00:00Z')), null);
  assert.is(nextRunOf(record(true), 'UTC', new Date('2026-01-05T12:00:00Z'))!.toISOString(), '2026-01-06T02:00:00.000Z');
});

test.run();
