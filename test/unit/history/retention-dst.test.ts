/**
 * Retention across daylight-saving changes: a few hundred dated snapshots around each 2026 change
 * in Europe/Berlin and America/New_York, with the expected keep set and reasons worked out here
 * without the engine's code path: UTC offsets from a hand-written table of the 2026 changes (not
 * Intl), buckets from date strings, and each rule stated as a set ("the newest snapshot of each of
 * the newest n buckets") instead of restic's walk.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy, type RetentionPolicy } from '../../../src/domain/retention.ts';
import { applyRetention, type KeepReason } from '../../../src/history/index.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Zone {
  name: string;
  standard: number;
  summer: number;
  /** 2026's change to summer time and back, UTC. */
  summerFrom: number;
  summerUntil: number;
}

const BERLIN: Zone = {
  name: 'Europe/Berlin',
  standard: 1 * HOUR,
  summer: 2 * HOUR,
  summerFrom: Date.parse('2026-03-29T01:00:00Z'),
  summerUntil: Date.parse('2026-10-25T01:00:00Z'),
};
const NEW_YORK: Zone = {
  name: 'America/New_York',
  standard: -5 * HOUR,
  summer: -4 * HOUR,
  summerFrom: Date.parse('2026-03-08T07:00:00Z'),
  summerUntil: Date.parse('2026-11-01T06:00:00Z'),
};

const offsetAt = (zone: Zone, instant: number) => (instant >= zone.summerFrom && instant < zone.summerUntil ? zone.summer : zone.standard);
const localIso = (zone: Zone, instant: number) => new Date(instant + offsetAt(zone, instant)).toISOString();

/** ISO week of a YYYY-MM-DD date, by the Thursday rule: "2026-W43". */
function isoWeek(date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  const weekday = (day.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(day.getTime() + (3 - weekday) * DAY);
  const firstOfYear = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = 1 + Math.floor((thursday.getTime() - firstOfYear) / (7 * DAY));
  return `${thursday.getUTCFullYear()}-W${week}`;
}

/** The instant a local wall-clock reading stands for: its first occurrence, or moved forward out of a gap. */
function instantOfLocal(zone: Zone, wall: number): number {
  const candidates = [wall - zone.summer, wall - zone.standard].filter((t) => t + offsetAt(zone, t) === wall).sort((a, b) => a - b);
  return candidates.length > 0 ? candidates[0] : wall - offsetAt(zone, wall - DAY);
}

interface Snap {
  id: number;
  time: string;
  tags: string[];
  successful: boolean;
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * About 300 snapshots from nine days before `change` to three days after, 5–110 minutes apart,
 * plus `extra` instants (both passes of a repeated hour, the edges of local midnight).
 */
function history(change: number, seed: number, extra: string[]): Snap[] {
  const next = random(seed);
  const instants = new Set<number>(extra.map((time) => Date.parse(time)));
  for (let t = change - 9 * DAY; t < change + 3 * DAY; t += Math.round((5 + next() * 105) * MINUTE)) instants.add(t);
  return [...instants]
    .sort((a, b) => a - b)
    .map((t, i) => ({
      id: i + 1,
      time: new Date(t).toISOString(),
      tags: next() < 0.05 ? ['pinned'] : [],
      successful: next() >= 0.1,
    }));
}

type Unit = 'hour' | 'day' | 'week' | 'month' | 'year';
const bucketOf = (zone: Zone, instant: number, unit: Unit): string => {
  const iso = localIso(zone, instant);
  switch (unit) {
    case 'hour':
      return `${iso.slice(0, 13)}${offsetAt(zone, instant)}`; // a repeated hour has two offsets
    case 'day':
      return iso.slice(0, 10);
    case 'week':
      return isoWeek(iso.slice(0, 10));
    case 'month':
      return iso.slice(0, 7);
    case 'year':
      return iso.slice(0, 4);
  }
};

/**
 * The snapshots (indexes into `list`, newest first) a bucket rule keeps: the newest of each of the
 * first `count` buckets (-1: all), and the oldest snapshot too when fewer buckets than `count`
 * came before it, marked oldest when its bucket already had one kept.
 */
function bucketRule(list: number[], keyOf: (instant: number) => string, count: number): Map<number, boolean> {
  const kept = new Map<number, boolean>();
  const seen = new Set<string>();
  list.forEach((instant, index) => {
    const key = keyOf(instant);
    if (!seen.has(key)) {
      seen.add(key);
      if (count === -1 || seen.size <= count) kept.set(index, false);
    }
  });
  const oldest = list.length - 1;
  const bucketsBeforeOldest = new Set(list.slice(0, oldest).map(keyOf)).size;
  if (!kept.has(oldest) && (count === -1 || bucketsBeforeOldest < count)) kept.set(oldest, true);
  return kept;
}

const COUNT_UNITS: Array<[keyof RetentionPolicy, Unit | 'snapshot']> = [
  ['keep_last', 'snapshot'],
  ['keep_hourly', 'hour'],
  ['keep_daily', 'day'],
  ['keep_weekly', 'week'],
  ['keep_monthly', 'month'],
  ['keep_yearly', 'year'],
];
const WITHIN_UNITS: Array<[keyof RetentionPolicy, Unit]> = [
  ['keep_within_hourly', 'hour'],
  ['keep_within_daily', 'day'],
  ['keep_within_weekly', 'week'],
  ['keep_within_monthly', 'month'],
  ['keep_within_yearly', 'year'],
];

/** The start of a span of "Nd" / "Nh" / "NdMh" before `reference`: days on the local calendar, hours elapsed. */
function spanStart(zone: Zone, reference: number, duration: string): number {
  const days = Number(/(\d+)d/.exec(duration)?.[1] ?? 0);
  const hours = Number(/(\d+)h/.exec(duration)?.[1] ?? 0);
  return instantOfLocal(zone, reference + offsetAt(zone, reference) - days * DAY) - hours * HOUR;
}

/** Expected reasons per snapshot id, in restic's order of rules. Only d/h durations and tag lists of one tag. */
function expected(snaps: Snap[], policy: RetentionPolicy, zone: Zone): Map<number, KeepReason[]> {
  const sorted = [...snaps].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const instants = sorted.map((s) => Date.parse(s.time));
  const reasons = sorted.map(() => [] as KeepReason[]);
  for (const entry of policy.keep_tags) sorted.forEach((s, i) => s.tags.includes(entry) && reasons[i].push({ rule: 'keep_tags', tags: entry }));
  if (policy.keep_within) {
    const start = spanStart(zone, instants[0], policy.keep_within);
    instants.forEach((t, i) => t > start && reasons[i].push({ rule: 'keep_within' }));
  }
  const add = (rule: string, kept: Map<number, boolean>) =>
    [...kept].forEach(([i, oldest]) => reasons[i].push(oldest ? { rule: rule as KeepReason['rule'], oldest: true } : { rule: rule as KeepReason['rule'] }));
  for (const [rule, unit] of COUNT_UNITS) {
    const count = policy[rule] as number;
    if (count === 0) continue;
    const keyOf = unit === 'snapshot' ? (t: number) => String(instants.indexOf(t)) : (t: number) => bucketOf(zone, t, unit);
    add(rule, new Map([...bucketRule(instants, keyOf, count)].sort((a, b) => a[0] - b[0])));
  }
  for (const [rule, unit] of WITHIN_UNITS) {
    const duration = policy[rule] as string | null;
    if (!duration) continue;
    const start = spanStart(zone, instants[0], duration);
    const inSpan = instants.filter((t) => t > start);
    const kept = bucketRule(inSpan, (t) => bucketOf(zone, t, unit), -1);
    // The extra "oldest" keep is for the whole list's oldest snapshot, so only when the span holds it.
    if (inSpan.length < instants.length && kept.get(inSpan.length - 1) === true) kept.delete(inSpan.length - 1);
    add(rule, new Map([...kept].sort((a, b) => a[0] - b[0])));
  }
  const newestSuccessful = sorted.findIndex((s) => s.successful);
  if (newestSuccessful >= 0 && reasons[newestSuccessful].length === 0) reasons[newestSuccessful].push({ rule: 'newest_successful' });
  return new Map(sorted.map((s, i) => [s.id, reasons[i]] as [number, KeepReason[]]).filter(([, r]) => r.length > 0));
}

const policy = (fields: Partial<RetentionPolicy>): RetentionPolicy => ({ ...emptyRetentionPolicy(), ...fields });
const POLICIES: RetentionPolicy[] = [
  policy({ keep_hourly: -1 }),
  policy({ keep_hourly: 100 }),
  policy({ keep_daily: 10 }),
  policy({ keep_daily: 5, keep_weekly: 3, keep_monthly: 2, keep_yearly: 1 }),
  policy({ keep_within: '4d' }),
  policy({ keep_within: '3d12h' }),
  policy({ keep_within: '50h' }),
  policy({ keep_last: 5, keep_within_hourly: '3d', keep_within_daily: '8d', keep_within_weekly: '30d' }),
  policy({ keep_tags: ['pinned'], keep_daily: 3 }),
  policy({ keep_last: 1 }),
  policy({ keep_tags: ['nothing-has-this'] }),
];

interface Case {
  zone: Zone;
  change: number;
  extra: string[];
}

const CASES: Record<string, Case> = {
  'Berlin, autumn (25 Oct 2026, 02:00–03:00 twice)': {
    zone: BERLIN,
    change: BERLIN.summerUntil,
    extra: ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-24T22:00:00Z', '2026-10-25T22:59:59.999Z', '2026-10-25T23:00:00Z'],
  },
  'Berlin, spring (29 Mar 2026, 02:00–03:00 skipped)': {
    zone: BERLIN,
    change: BERLIN.summerFrom,
    extra: ['2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-03-28T23:00:00Z', '2026-03-29T21:59:59.999Z', '2026-03-29T22:00:00Z'],
  },
  'New York, autumn (1 Nov 2026, 01:00–02:00 twice)': {
    zone: NEW_YORK,
    change: NEW_YORK.summerUntil,
    extra: ['2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z', '2026-11-01T04:00:00Z', '2026-11-02T04:59:59.999Z', '2026-11-02T05:00:00Z'],
  },
  'New York, spring (8 Mar 2026, 02:00–03:00 skipped)': {
    zone: NEW_YORK,
    change: NEW_YORK.summerFrom,
    extra: ['2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-03-08T05:00:00Z', '2026-03-09T03:59:59.999Z', '2026-03-09T04:00:00Z'],
  },
};

const NOW = Date.parse('2027-01-01T00:00:00Z');

Object.entries(CASES).forEach(([name, { zone, change, extra }], caseIndex) => {
  test(`${name}: every policy keeps exactly the expected snapshots, for the expected reasons`, () => {
    const snaps = history(change, 1000 + caseIndex, extra);
    assert.ok(snaps.length >= 250 && snaps.length <= 400, `a few hundred snapshots (${snaps.length})`);
    for (const [p, rules] of POLICIES.entries()) {
      const decision = applyRetention(snaps, rules, { timezone: zone.name, now: NOW });
      const got = new Map(decision.keep.map(({ snapshot, reasons }) => [snapshot.id, reasons] as const));
      const want = expected(snaps, rules, zone);
      assert.equal([...got.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), `policy ${p}: keep set`);
      for (const [id, reasons] of want) assert.equal(got.get(id), reasons, `policy ${p}: reasons of snapshot ${id}`);
      assert.is(decision.keep.length + decision.remove.length, snaps.length, `policy ${p}: each snapshot decided once`);
    }
  });
});

test('a fall-back day of 25 hours is one day: keep_daily keeps one snapshot for 25 October in Berlin, its last', () => {
  const snaps = [
    { id: 1, time: '2026-10-24T22:00:00Z' }, // 00:00 CEST, the day's first instant
    { id: 2, time: '2026-10-25T00:30:00Z' }, // 02:30 CEST
    { id: 3, time: '2026-10-25T01:30:00Z' }, // 02:30 CET, the same clock reading an hour later
    { id: 4, time: '2026-10-25T22:59:00Z' }, // 23:59 CET, 24 h 59 min after the day began
    { id: 5, time: '2026-10-25T23:00:00Z' }, // 00:00 on the 26th
  ];
  const decision = applyRetention(snaps, policy({ keep_daily: 2 }), { timezone: 'Europe/Berlin', now: NOW });
  assert.equal(decision.keep.map(({ snapshot }) => snapshot.id), [5, 4]);
  assert.equal(applyRetention(snaps, policy({ keep_daily: 2 }), { timezone: 'UTC', now: NOW }).keep.map(({ snapshot }) => snapshot.id), [5, 1], 'in UTC the days split elsewhere');
});

test('the repeated hour of a fall-back night is two hourly buckets, one per real hour', () => {
  const snaps = [
    { id: 1, time: '2026-10-25T00:10:00Z' }, // 02:10 CEST
    { id: 2, time: '2026-10-25T00:50:00Z' }, // 02:50 CEST
    { id: 3, time: '2026-10-25T01:10:00Z' }, // 02:10 CET
    { id: 4, time: '2026-10-25T01:50:00Z' }, // 02:50 CET
    { id: 5, time: '2026-10-25T02:10:00Z' }, // 03:10 CET
  ];
  const decision = applyRetention(snaps, policy({ keep_hourly: 3 }), { timezone: 'Europe/Berlin', now: NOW });
  assert.equal(decision.keep.map(({ snapshot }) => snapshot.id), [5, 4, 2]);
  const ny = applyRetention(
    [
      { id: 1, time: '2026-11-01T05:20:00Z' }, // 01:20 EDT
      { id: 2, time: '2026-11-01T06:20:00Z' }, // 01:20 EST
    ],
    policy({ keep_hourly: 5 }),
    { timezone: 'America/New_York', now: NOW },
  );
  assert.equal(ny.keep.map(({ snapshot }) => snapshot.id), [2, 1]);
});

// [reference, 1d before it on the local clock, elapsed hours]
const ONE_DAY_BACK: Array<[string, string, string, number]> = [
  ['01:00 CET on 26 Oct is 01:00 CEST on the 25th', '2026-10-26T00:00:00Z', '2026-10-24T23:00:00Z', 25],
  ['02:30 CET on 26 Oct is 02:30 on the 25th, which happens twice: the first, CEST', '2026-10-26T01:30:00Z', '2026-10-25T00:30:00Z', 25],
  ['12:00 CET on 26 Oct is 12:00 CET on the 25th (after the change)', '2026-10-26T11:00:00Z', '2026-10-25T11:00:00Z', 24],
  ['01:00 CEST on 30 Mar is 01:00 CET on the 29th', '2026-03-29T23:00:00Z', '2026-03-29T00:00:00Z', 23],
  ['02:30 CEST on 30 Mar is 02:30 on the 29th, skipped: moved forward by the gap to 03:30 CEST', '2026-03-30T00:30:00Z', '2026-03-29T01:30:00Z', 23],
];

for (const [name, reference, start, hours] of ONE_DAY_BACK) {
  test(`keep_within 1d counts a calendar day on the local clock: ${name} (${hours} h)`, () => {
    assert.is(Date.parse(reference) - Date.parse(start), hours * HOUR);
    const at = (offset: number) => new Date(Date.parse(start) + offset).toISOString();
    const snaps = [
      { id: 1, time: reference },
      { id: 2, time: at(1) }, // a millisecond inside the span
      { id: 3, time: at(0) }, // exactly its start: outside, as in restic
    ];
    const decision = applyRetention(snaps, policy({ keep_within: '1d' }), { timezone: 'Europe/Berlin', now: NOW });
    assert.equal(decision.keep.map(({ snapshot }) => snapshot.id), [1, 2]);
  });
}

test('hours in a duration are elapsed time: 24h before 01:00 CET on 26 October is 02:00 CEST on the 25th', () => {
  const snaps = [
    { id: 1, time: '2026-10-26T00:00:00Z' },
    { id: 2, time: '2026-10-25T00:00:00.001Z' },
    { id: 3, time: '2026-10-25T00:00:00Z' },
  ];
  const decision = applyRetention(snaps, policy({ keep_within: '24h' }), { timezone: 'Europe/Berlin', now: NOW });
  assert.equal(decision.keep.map(({ snapshot }) => snapshot.id), [1, 2]);
});

test.run();
