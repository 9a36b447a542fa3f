/**
 * restic's documented `forget` examples and statements (doc/060_forget.rst), one row each: the
 * snapshots, the policy, and what the documentation says stays (with the reasons it prints) and goes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy, type RetentionPolicy } from '../../../src/domain/retention.ts';
import { applyRetention, type KeepReason } from '../../../src/history/index.ts';

interface Snap {
  id: string;
  time: string;
  tags?: string[];
}

interface Row {
  name: string;
  snapshots: Snap[];
  policy: Partial<RetentionPolicy>;
  /** Kept ids newest first, each with its reasons: "keep_daily", "keep_daily oldest", "keep_tags foo,bar". */
  keep: Array<[string, ...string[]]>;
  remove: string[];
  now?: string;
}

/** Snapshots from "id time" lines; times are UTC. */
const snaps = (text: string): Snap[] =>
  text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, date, time, tags] = line.trim().split(/\s+/);
      return { id, time: `${date}T${time}Z`, ...(tags ? { tags: tags.split(',') } : {}) };
    });

function reason(text: string): KeepReason {
  const [rule, detail] = text.split(' ');
  if (detail === 'oldest') return { rule: rule as KeepReason['rule'], oldest: true };
  if (rule === 'keep_tags') return { rule, tags: detail ?? '' };
  return { rule: rule as KeepReason['rule'] };
}

// "Suppose you have made backups every weekday for the past two weeks, and on Fridays, you make an additional backup" (no Wednesday 30 April).
const WEEKDAYS = snaps(`
  60e5c031 2025-04-21 11:00:00
  1dccffe9 2025-04-22 11:00:00
  90a5c949 2025-04-23 11:00:00
  79580708 2025-04-24 11:00:00
  8a603ddf 2025-04-25 11:00:00
  ae33bf10 2025-04-25 23:00:00
  fb8b1418 2025-04-28 11:00:00
  1db188b4 2025-04-29 11:00:00
  7baa4f28 2025-05-01 11:00:00
  05c48af3 2025-05-02 11:00:00
  ad72e262 2025-05-02 23:00:00`);

// Three weeks of daily backups, then an attacker's snapshot a minute after the last one of each week.
const ATTACKED = snaps(`
  d01 2025-03-03 10:00:00
  d02 2025-03-05 10:00:00
  d03 2025-03-08 10:00:00
  x01 2025-03-08 10:01:00
  d04 2025-03-10 10:00:00
  d05 2025-03-12 10:00:00
  d06 2025-03-15 10:00:00
  x02 2025-03-15 10:01:00
  d07 2025-03-17 10:00:00
  d08 2025-03-19 10:00:00
  d09 2025-03-22 10:00:00
  x03 2025-03-22 10:01:00`);

const TAGGED = snaps(`
  none 2025-01-01 10:00:00
  foo  2025-01-02 10:00:00 foo
  bar  2025-01-03 10:00:00 bar
  both 2025-01-04 10:00:00 foo,bar
  baz  2025-01-05 10:00:00 baz
  last 2025-01-06 10:00:00 baz`);

const ROWS: Row[] = [
  {
    name: '`forget --keep-last 1` keeps the most recent snapshot',
    snapshots: snaps(`
      8c02b94b 2017-02-21 10:48:33
      4bba301e 2017-02-21 10:49:18`),
    policy: { keep_last: 1 },
    keep: [['4bba301e', 'keep_last']],
    remove: ['8c02b94b'],
  },
  {
    // The documentation's keep table prints the ID 8a603ddf for 2025-04-25 23:00, a slip: that ID is the
    // 11:00 snapshot, listed as removed. The snapshot at 23:00 is ae33bf10.
    name: '`--keep-daily 5` keeps one per day for the last five days that had a snapshot, the latest of each day',
    snapshots: WEEKDAYS,
    policy: { keep_daily: 5 },
    keep: [
      ['ad72e262', 'keep_daily'],
      ['7baa4f28', 'keep_daily'],
      ['1db188b4', 'keep_daily'],
      ['fb8b1418', 'keep_daily'],
      ['ae33bf10', 'keep_daily'],
    ],
    remove: ['05c48af3', '8a603ddf', '79580708', '90a5c949', '1dccffe9', '60e5c031'],
  },
  {
    name: '`--keep-within-daily 7d` keeps one per day only within seven days of the latest snapshot (exactly seven days before is outside)',
    snapshots: WEEKDAYS,
    policy: { keep_within_daily: '7d' },
    keep: [
      ['ad72e262', 'keep_within_daily'],
      ['7baa4f28', 'keep_within_daily'],
      ['1db188b4', 'keep_within_daily'],
      ['fb8b1418', 'keep_within_daily'],
    ],
    remove: ['05c48af3', 'ae33bf10', '8a603ddf', '79580708', '90a5c949', '1dccffe9', '60e5c031'],
  },
  {
    name: '`--keep-within 7d` keeps every snapshot newer than seven days before the latest one, not before now',
    snapshots: WEEKDAYS,
    now: '2030-01-01T00:00:00Z',
    policy: { keep_within: '7d' },
    keep: [
      ['ad72e262', 'keep_within'],
      ['05c48af3', 'keep_within'],
      ['7baa4f28', 'keep_within'],
      ['1db188b4', 'keep_within'],
      ['fb8b1418', 'keep_within'],
    ],
    remove: ['ae33bf10', '8a603ddf', '79580708', '90a5c949', '1dccffe9', '60e5c031'],
  },
  {
    name: 'the rules are ORed: a snapshot only needs to match one, and the most recent matches several',
    snapshots: WEEKDAYS,
    policy: { keep_last: 2, keep_daily: 3, keep_weekly: 2 },
    keep: [
      ['ad72e262', 'keep_last', 'keep_daily', 'keep_weekly'],
      ['05c48af3', 'keep_last'],
      ['7baa4f28', 'keep_daily'],
      ['1db188b4', 'keep_daily'],
      ['ae33bf10', 'keep_weekly'],
    ],
    remove: ['fb8b1418', '8a603ddf', '79580708', '90a5c949', '1dccffe9', '60e5c031'],
  },
  {
    name: '"--keep-last 0" is an empty policy: restic refuses it and removes nothing; Cairn removes nothing',
    snapshots: WEEKDAYS,
    policy: { keep_last: 0 },
    keep: WEEKDAYS.map(({ id }) => [id, 'no_policy'] as [string, string]).reverse(),
    remove: [],
  },
  {
    name: '"unlimited" (-1) keeps the latest snapshot of every day',
    snapshots: WEEKDAYS,
    policy: { keep_daily: -1 },
    keep: [
      ['ad72e262', 'keep_daily'],
      ['7baa4f28', 'keep_daily'],
      ['1db188b4', 'keep_daily'],
      ['fb8b1418', 'keep_daily'],
      ['ae33bf10', 'keep_daily'],
      ['79580708', 'keep_daily'],
      ['90a5c949', 'keep_daily'],
      ['1dccffe9', 'keep_daily'],
      ['60e5c031', 'keep_daily'],
    ],
    remove: ['05c48af3', '8a603ddf'],
  },
  {
    name: 'with too few buckets for a count, the oldest snapshot is kept as well, marked oldest',
    snapshots: snaps(`
      a 2025-04-25 08:00:00
      b 2025-04-25 11:00:00
      c 2025-04-25 23:00:00`),
    policy: { keep_daily: 5 },
    keep: [
      ['c', 'keep_daily'],
      ['a', 'keep_daily oldest'],
    ],
    remove: ['b'],
  },
  {
    name: 'weeks are Monday 00:00 to Sunday 23:59',
    snapshots: snaps(`
      sun-noon 2025-04-27 12:00:00
      sun-late 2025-04-27 23:59:59
      mon      2025-04-28 00:00:00`),
    policy: { keep_weekly: 2 },
    keep: [
      ['mon', 'keep_weekly'],
      ['sun-late', 'keep_weekly'],
    ],
    remove: ['sun-noon'],
  },
  {
    name: 'append-only warning: an attacker\'s later snapshot in each week pushes every real one out of `--keep-weekly 3`',
    snapshots: ATTACKED,
    policy: { keep_weekly: 3 },
    keep: [
      ['x03', 'keep_weekly'],
      ['x02', 'keep_weekly'],
      ['x01', 'keep_weekly'],
    ],
    remove: ['d09', 'd08', 'd07', 'd06', 'd05', 'd04', 'd03', 'd02', 'd01'],
  },
  {
    name: 'append-only advice: `--keep-within` keeps the attacker\'s snapshots and the real ones',
    snapshots: ATTACKED,
    policy: { keep_within: '21d' },
    keep: ['x03', 'd09', 'd08', 'd07', 'x02', 'd06', 'd05', 'd04', 'x01', 'd03', 'd02', 'd01'].map((id) => [id, 'keep_within']),
    remove: [],
  },
  {
    name: '--keep-tag foo,bar: all the tags of one list (AND)',
    snapshots: TAGGED,
    policy: { keep_tags: ['foo,bar'] },
    keep: [
      ['last', 'newest_successful'],
      ['both', 'keep_tags foo,bar'],
    ],
    remove: ['baz', 'bar', 'foo', 'none'],
  },
  {
    name: '--keep-tag foo --keep-tag bar: any one of the lists (OR), a reason for each list matched',
    snapshots: TAGGED,
    policy: { keep_tags: ['foo', 'bar'] },
    keep: [
      ['last', 'newest_successful'],
      ['both', 'keep_tags foo', 'keep_tags bar'],
      ['bar', 'keep_tags bar'],
      ['foo', 'keep_tags foo'],
    ],
    remove: ['baz', 'none'],
  },
  {
    name: "--keep-tag '' matches untagged snapshots only",
    snapshots: TAGGED,
    policy: { keep_tags: [''] },
    keep: [
      ['last', 'newest_successful'],
      ['none', 'keep_tags'],
    ],
    remove: ['baz', 'both', 'bar', 'foo'],
  },
  {
    name: 'duration options ignore snapshots in the future (relative to now), and never remove them',
    snapshots: snaps(`
      old    2025-04-20 11:00:00
      recent 2025-04-30 11:00:00
      latest 2025-05-02 23:00:00
      future 2030-01-01 00:00:00`),
    now: '2025-05-03T00:00:00Z',
    policy: { keep_within: '7d' },
    keep: [
      ['future', 'keep_within'],
      ['latest', 'keep_within'],
      ['recent', 'keep_within'],
    ],
    remove: ['old'],
  },
];

for (const row of ROWS) {
  test(row.name, () => {
    const decision = applyRetention(row.snapshots, { ...emptyRetentionPolicy(), ...row.policy }, {
      timezone: 'UTC',
      now: Date.parse(row.now ?? '2025-06-01T00:00:00Z'),
    });
    assert.equal(
      decision.keep.map(({ snapshot, reasons }) => [snapshot.id, ...reasons]),
      row.keep.map(([id, ...reasons]) => [id, ...reasons.map(reason)]),
    );
    assert.equal(decision.remove.map(({ id }) => id), row.remove);
  });
}

test('one backup a day for 100 years: --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75', () => {
  // The documentation's counts assume the seven dailies are one whole week (the last day is a Sunday),
  // no earlier Sunday kept is a month's last day, and the twelve months do not reach back to last
  // year's 31 December (the last day is in December). 29 December 2024 is such a day.
  const end = Date.parse('2024-12-29T10:00:00Z');
  const DAY = 86_400_000;
  const snapshots = Array.from({ length: 36_525 }, (_, i) => ({ id: i, time: end - i * DAY }));
  const decision = applyRetention(snapshots, { ...emptyRetentionPolicy(), keep_daily: 7, keep_weekly: 5, keep_monthly: 12, keep_yearly: 75 }, {
    timezone: 'UTC',
    now: end,
  });
  const rulesOf = (reasons: KeepReason[]) => reasons.map((r) => r.rule as string);
  const keptBy = (rule: string) => decision.keep.filter(({ reasons }) => rulesOf(reasons).includes(rule));
  /** Kept by `rule` and by none of the rules before it in the documentation's sentence. */
  const addedBy = (rule: string, earlier: string[]) => keptBy(rule).filter(({ reasons }) => !rulesOf(reasons).some((r) => earlier.includes(r)));
  const date = (time: number) => new Date(time);
  const weekly = addedBy('keep_weekly', ['keep_daily']);
  const monthly = addedBy('keep_monthly', ['keep_daily', 'keep_weekly']);
  const yearly = addedBy('keep_yearly', ['keep_daily', 'keep_weekly', 'keep_monthly']);

  assert.is(keptBy('keep_daily').length, 7, 'the most recent 7 daily snapshots');
  assert.is(weekly.length, 4, '4 last-day-of-the-week ones, since the 7 dailies already include 1 weekly');
  assert.ok(weekly.every(({ snapshot }) => date(snapshot.time).getUTCDay() === 0), 'each a Sunday');
  assert.ok([11, 12].includes(monthly.length), '12 or 11 last-day-of-the-month snapshots');
  assert.ok(keptBy('keep_monthly').length === 12, 'the monthly rule itself keeps 12');
  assert.ok(monthly.every(({ snapshot }) => date(snapshot.time + DAY).getUTCDate() === 1), "each on a month's last day");
  assert.ok([74, 75].includes(yearly.length), '75 or 74 last-day-of-the-year snapshots');
  assert.ok(keptBy('keep_yearly').length === 75, 'the yearly rule itself keeps 75');
  assert.ok(yearly.every(({ snapshot }) => date(snapshot.time).getUTCMonth() === 11 && date(snapshot.time).getUTCDate() === 31), 'each on 31 December');
  assert.is(decision.keep.length, 7 + weekly.length + monthly.length + yearly.length, 'all other snapshots are removed');
});

test.run();
