import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeScheduleInput, type ScheduleInput } from '../../../src/domain/schedules.ts';
import { nextRunAfter } from '../../../src/schedules/index.ts';

const daily = (hour: number, minute: number) => normalizeScheduleInput({ schedule_type: 'daily', hour, minute });
const monthly = (day_of_month: number) => normalizeScheduleInput({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month });

/** The next `count` runs after `from`, as ISO strings. */
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

test('daily, weekly and custom schedules in UTC', () => {
  assert.equal(runs(daily(2, 0), '2026-01-05T12:00:00Z', 'UTC', 2), ['2026-01-06T02:00:00.000Z', '2026-01-07T02:00:00.000Z']);
  const sunday = normalizeScheduleInput({ schedule_type: 'weekly', hour: 2, minute: 30, day_of_week: 0 });
  assert.equal(runs(sunday, '2026-01-05T12:00:00Z', 'UTC', 2), ['2026-01-11T02:30:00.000Z', '2026-01-18T02:30:00.000Z']);
  const weekdays = normalizeScheduleInput({ schedule_type: 'custom', cron_expression: '0 2 * * 1-5' });
  assert.equal(runs(weekdays, '2026-01-09T12:00:00Z', 'UTC', 2), ['2026-01-12T02:00:00.000Z', '2026-01-13T02:00:00.000Z'], 'Friday noon → Monday');
});

test('a run time exactly equal to "after" gives the following one', () => {
  assert.is(nextRunAfter(daily(2, 0), new Date('2026-01-06T02:00:00Z'), 'UTC')!.toISOString(), '2026-01-07T02:00:00.000Z');
});

test('local times follow the time zone, including half-hour and quarter-hour offsets', () => {
  assert.equal(runs(daily(2, 0), '2026-01-05T12:00:00Z', 'Europe/Berlin', 1), ['2026-01-06T01:00:00.000Z']);
  assert.equal(runs(daily(2, 0), '2026-07-05T12:00:00Z', 'Europe/Berlin', 1), ['2026-07-06T00:00:00.000Z'], 'summer time');
  assert.equal(runs(daily(2, 0), '2026-01-05T00:00:00Z', 'Asia/Kathmandu', 1), ['2026-01-05T20:15:00.000Z'], '+05:45');
});

test('spring forward: 02:30 does not exist that day, so it runs at 03:30 local; other times are unaffected', () => {
  // Europe/Berlin jumps from 02:00 CET to 03:00 CEST on 2026-03-29.
  assert.equal(runs(daily(2, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin'), [
    '2026-03-29T01:30:00.000Z', // 03:30 CEST
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
    '2026-03-31T00:30:00.000Z',
  ]);
  assert.equal(runs(daily(1, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin', 2), ['2026-03-29T00:30:00.000Z', '2026-03-29T23:30:00.000Z']);
  assert.equal(runs(daily(3, 30), '2026-03-28T12:00:00Z', 'Europe/Berlin', 1), ['2026-03-29T01:30:00.000Z']);
  // America/New_York jumps from 02:00 EST to 03:00 EDT on 2026-03-08.
  assert.equal(runs(daily(2, 30), '2026-03-07T12:00:00Z', 'America/New_York', 2), ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
});

test('fall back: a local time that happens twice runs once', () => {
  // Europe/Berlin goes from 03:00 CEST back to 02:00 CET on 2026-10-25: 02:30 happens twice.
  const berlin = runs(daily(2, 30), '2026-10-24T12:00:00Z', 'Europe/Berlin');
  assert.equal(berlin, ['2026-10-25T01:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
  // America/New_York goes from 02:00 EDT back to 01:00 EST on 2026-11-01: 01:30 happens twice.
  const newYork = runs(daily(1, 30), '2026-10-31T12:00:00Z', 'America/New_York');
  assert.equal(newYork.filter((iso) => iso.startsWith('2026-11-01')).length, 1);
  assert.equal(newYork, ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z']);
});

test('monthly on the 31st runs on the last day of shorter months', () => {
  assert.equal(runs(monthly(31), '2027-01-15T00:00:00Z', 'UTC', 5), [
    '2027-01-31T02:00:00.000Z',
    '2027-02-28T02:00:00.000Z',
    '2027-03-31T02:00:00.000Z',
    '2027-04-30T02:00:00.000Z',
    '2027-05-31T02:00:00.000Z',
  ]);
  assert.equal(runs(monthly(31), '2028-02-01T00:00:00Z', 'UTC', 1), ['2028-02-29T02:00:00.000Z'], 'leap year');
});

test('monthly on the 29th and 30th: February gets its last day, other months their own date', () => {
  assert.equal(runs(monthly(30), '2027-02-01T00:00:00Z', 'UTC', 2), ['2027-02-28T02:00:00.000Z', '2027-03-30T02:00:00.000Z']);
  assert.equal(runs(monthly(29), '2027-02-01T00:00:00Z', 'UTC', 2), ['2027-02-28T02:00:00.000Z', '2027-03-29T02:00:00.000Z']);
  assert.equal(runs(monthly(29), '2028-02-01T00:00:00Z', 'UTC', 2), ['2028-02-29T02:00:00.000Z', '2028-03-29T02:00:00.000Z'], 'leap year: once, on the 29th');
});

test('monthly in a time zone: the last day is the local last day', () => {
  assert.equal(runs(monthly(31), '2027-04-01T00:00:00Z', 'Pacific/Auckland', 1), ['2027-04-29T14:00:00.000Z'], '30 April 02:00 NZST');
});

test.run();
