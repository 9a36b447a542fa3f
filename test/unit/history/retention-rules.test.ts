/**
 * The retention engine's own promises beyond restic: the newest successful snapshot always stays,
 * an empty policy removes nothing, month ends clamp, the preview shape, the policy's validation,
 * and clear errors for a list it cannot order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CairnError } from '../../../src/domain/errors.ts';
import {
  COUNT_RULES,
  emptyRetentionPolicy,
  isEmptyPolicy,
  parseRetentionDuration,
  WITHIN_RULES,
  type RetentionPolicy,
} from '../../../src/domain/retention.ts';
import { retentionPolicySchema } from '../../../src/domain/retention-schema.ts';
import { applyRetention, retentionPreviewOf } from '../../../src/history/index.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const UTC = { timezone: 'UTC', now: NOW };
const policy = (fields: Partial<RetentionPolicy>): RetentionPolicy => ({ ...emptyRetentionPolicy(), ...fields });

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

test('the newest successful snapshot survives any policy, and is the only one kept for that reason', () => {
  const next = random(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  for (let round = 0; round < 500; round++) {
    const count = 1 + Math.floor(next() * 40);
    const snapshots = Array.from({ length: count }, (_, i) => ({
      id: `s${i}`,
      time: NOW - Math.floor(next() * 400 * DAY),
      tags: next() < 0.3 ? [pick(['a', 'b', 'c'])] : [],
      successful: next() < 0.6,
    }));
    const rules: Partial<RetentionPolicy> = {};
    for (const rule of COUNT_RULES) if (next() < 0.3) rules[rule] = pick([-1, 0, 1, 2, 5]);
    for (const rule of WITHIN_RULES) if (next() < 0.15) rules[rule] = pick(['0d', '1h', '2d', '1m', '1y']);
    if (next() < 0.3) rules.keep_tags = [pick(['a', 'b,c', '', 'zzz'])];
    const timezone = pick(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu']);

    const decision = applyRetention(snapshots, policy(rules), { timezone, now: NOW });
    const successful = snapshots.filter((s) => s.successful).sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
    const kept = new Set(decision.keep.map(({ snapshot }) => snapshot.id));
    if (successful.length > 0) assert.ok(kept.has(successful[0].id), `round ${round}: the newest successful snapshot stays`);
    const guarded = decision.keep.filter(({ reasons }) => reasons.some((r) => r.rule === 'newest_successful'));
    assert.ok(guarded.length <= 1, `round ${round}: at most one snapshot kept by the safeguard`);
    for (const { reasons } of guarded) assert.equal(reasons, [{ rule: 'newest_successful' }], 'and only when no rule keeps it');
    assert.is(decision.keep.length + decision.remove.length, snapshots.length);
    assert.ok(decision.keep.every(({ reasons }) => reasons.length > 0), 'every kept snapshot says why');
  }
});

test('keep_last 1 when the newest run failed: the failed snapshot and the last good one both stay', () => {
  const snapshots = [
    { id: 'good-old', time: '2026-05-01T10:00:00Z' },
    { id: 'good', time: '2026-05-02T10:00:00Z' },
    { id: 'failed', time: '2026-05-03T10:00:00Z', successful: false },
  ];
  const decision = applyRetention(snapshots, policy({ keep_last: 1 }), UTC);
  assert.equal(retentionPreviewOf(decision), {
    keep: [
      { id: 'failed', reasons: [{ rule: 'keep_last' }] },
      { id: 'good', reasons: [{ rule: 'newest_successful' }] },
    ],
    remove: [{ id: 'good-old' }],
  });
});

test('with no successful snapshot at all, the rules alone decide', () => {
  const snapshots = [
    { id: 1, time: '2026-05-01T10:00:00Z', successful: false },
    { id: 2, time: '2026-05-02T10:00:00Z', successful: false },
  ];
  assert.equal(retentionPreviewOf(applyRetention(snapshots, policy({ keep_last: 1 }), UTC)), {
    keep: [{ id: 2, reasons: [{ rule: 'keep_last' }] }],
    remove: [{ id: 1 }],
  });
});

test('an empty policy, or one of zeros and zero durations, removes nothing', () => {
  const snapshots = [
    { id: 'a', time: '2026-05-01T10:00:00Z' },
    { id: 'b', time: '2026-05-02T10:00:00Z', successful: false },
  ];
  for (const rules of [{}, { keep_last: 0, keep_daily: 0 }, { keep_within: '0d', keep_within_daily: '0y0m0d0h' }]) {
    assert.ok(isEmptyPolicy(policy(rules)));
    assert.equal(retentionPreviewOf(applyRetention(snapshots, policy(rules), UTC)), {
      keep: [
        { id: 'b', reasons: [{ rule: 'no_policy' }] },
        { id: 'a', reasons: [{ rule: 'no_policy' }] },
      ],
      remove: [],
    });
  }
  assert.not.ok(isEmptyPolicy(policy({ keep_tags: ['x'] })), 'a tag list is a rule');
  assert.not.ok(isEmptyPolicy(policy({ keep_weekly: -1 })), 'unlimited is a rule');
});

test('no snapshots: nothing to keep or remove', () => {
  assert.equal(applyRetention([], policy({ keep_last: 3 }), UTC), { keep: [], remove: [] });
});

test('a month back from 31 March is 28 February (clamped; restic rolls over to 3 March)', () => {
  const snapshots = [
    { id: 'ref', time: '2026-03-31T12:00:00Z' },
    { id: 'feb-28-noon+1ms', time: '2026-02-28T12:00:00.001Z' },
    { id: 'feb-28-noon', time: '2026-02-28T12:00:00Z' },
    { id: 'mar-02', time: '2026-03-02T12:00:00Z' },
  ];
  const decision = applyRetention(snapshots, policy({ keep_within: '1m' }), UTC);
  assert.equal(decision.keep.map(({ snapshot }) => snapshot.id), ['ref', 'mar-02', 'feb-28-noon+1ms']);
  assert.equal(decision.remove.map(({ id }) => id), ['feb-28-noon']);
  const leap = applyRetention(
    [
      { id: 'ref', time: '2028-02-29T12:00:00Z' },
      { id: 'in', time: '2027-02-28T12:00:00.001Z' },
      { id: 'out', time: '2027-02-28T12:00:00Z' },
    ],
    policy({ keep_within: '1y' }),
    { timezone: 'UTC', now: Date.parse('2029-01-01T00:00:00Z') },
  );
  assert.equal(leap.keep.map(({ snapshot }) => snapshot.id), ['ref', 'in'], 'a year back from 29 February is 28 February');
});

test('durations reaching before year 1000 keep everything', () => {
  const snapshots = [
    { id: 1, time: '2026-01-01T00:00:00Z' },
    { id: 2, time: '1971-01-01T00:00:00Z' },
  ];
  assert.is(applyRetention(snapshots, policy({ keep_within: '9999y' }), UTC).keep.length, 2);
});

test('the answer does not depend on the order snapshots are given in; equal times: the larger id is newer', () => {
  const snapshots = [
    { id: 3, time: '2026-05-02T10:00:00Z' },
    { id: 10, time: '2026-05-02T10:00:00Z' },
    { id: 2, time: '2026-05-01T10:00:00Z' },
  ];
  const forward = retentionPreviewOf(applyRetention(snapshots, policy({ keep_daily: 1 }), UTC));
  const backward = retentionPreviewOf(applyRetention([...snapshots].reverse(), policy({ keep_daily: 1 }), UTC));
  assert.equal(forward, backward);
  assert.equal(forward.keep, [{ id: 10, reasons: [{ rule: 'keep_daily' }] }], 'numeric ids compare as numbers (10 > 3)');
});

test('times may be Dates, epoch milliseconds or ISO strings with an offset; the caller\'s records come back unchanged', () => {
  const a = { id: 'a', time: new Date('2026-05-01T10:00:00Z'), extra: 1 };
  const b = { id: 'b', time: Date.parse('2026-05-02T10:00:00Z'), extra: 2 };
  const c = { id: 'c', time: '2026-05-03T12:00:00+02:00', extra: 3 };
  const decision = applyRetention([a, b, c], policy({ keep_last: 2 }), UTC);
  assert.ok(decision.keep[0].snapshot === c && decision.keep[1].snapshot === b && decision.remove[0] === a);
});

test('the preview is ids and reasons only, newest first', () => {
  const snapshots = [
    { id: 'x', time: '2026-05-01T10:00:00Z', tags: ['keep'], path: '/secret/place' },
    { id: 'y', time: '2026-05-02T10:00:00Z', path: '/secret/place' },
    { id: 'z', time: '2026-04-01T10:00:00Z', path: '/secret/place' },
  ];
  const preview = retentionPreviewOf(applyRetention(snapshots, policy({ keep_last: 1, keep_tags: ['keep'] }), UTC));
  assert.equal(preview, {
    keep: [
      { id: 'y', reasons: [{ rule: 'keep_last' }] },
      { id: 'x', reasons: [{ rule: 'keep_tags', tags: 'keep' }] },
    ],
    remove: [{ id: 'z' }],
  });
  assert.equal(JSON.parse(JSON.stringify(preview)), preview, 'plain JSON');
});

test('a list the engine cannot order is refused with a clear internal error', () => {
  const refuse = (fn: () => unknown, code: string) => {
    try {
      fn();
    } catch (error) {
      assert.instance(error, CairnError);
      assert.is((error as CairnError).code, code);
      assert.is((error as CairnError).kind, 'internal');
      return;
    }
    assert.unreachable(`expected ${code}`);
  };
  refuse(() => applyRetention([{ id: 1, time: 0 }, { id: 1, time: 5 }], policy({ keep_last: 1 }), UTC), 'SNAPSHOT_LIST_INVALID');
  refuse(() => applyRetention([{ id: 1, time: 'yesterday' }], policy({ keep_last: 1 }), UTC), 'SNAPSHOT_LIST_INVALID');
  refuse(() => applyRetention([{ id: 1, time: 0 }], policy({ keep_last: 1 }), { timezone: 'Mars/Olympus', now: NOW }), 'TIMEZONE_INVALID');
});

const validate = (body: unknown) => retentionPolicySchema.validate(body, { convert: false, abortEarly: false });

test('a policy body: every field optional, defaults make it complete, durations trimmed', () => {
  const { value, error } = validate({ keep_daily: 7, keep_within: ' 1y6m ', keep_tags: ['foo,bar', ''] });
  assert.is(error, undefined);
  assert.equal(value, { ...emptyRetentionPolicy(), keep_daily: 7, keep_within: '1y6m', keep_tags: ['foo,bar', ''] });
  assert.equal(validate({}).value, emptyRetentionPolicy());
  assert.is(validate({ keep_last: -1, keep_within_daily: null }).error, undefined);
});

test('a bad policy body is refused with a message naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ keep_last: -2 }, /"keep_last" must be 0 \(off\), a positive count, or -1 \(unlimited\)/],
    [{ keep_daily: 1.5 }, /"keep_daily" must be an integer/],
    [{ keep_daily: '7' }, /"keep_daily" must be a number/],
    [{ keep_within: '1w' }, /"keep_within": "1w" is not a retention duration/],
    [{ keep_within: '5' }, /"keep_within": "5" is not a retention duration/],
    [{ keep_within: '-1d' }, /"keep_within": "-1d" is not a retention duration/],
    [{ keep_within_hourly: '1d2d' }, /the unit "d" appears twice/],
    [{ keep_within: '' }, /"keep_within" is not allowed to be empty/],
    [{ keep_tags: 'foo' }, /"keep_tags" must be an array/],
    [{ keep_tags: ['a\nb'] }, /keep_tags\[0\]/],
    [{ keep_forever: true }, /"keep_forever" is not allowed/],
  ];
  for (const [body, message] of cases) {
    const { error } = validate(body);
    assert.ok(error, `${JSON.stringify(body)} is refused`);
    assert.match(error!.message, message);
  }
});

test("durations read restic's notation", () => {
  assert.equal(parseRetentionDuration('2y5m7d3h'), { years: 2, months: 5, days: 7, hours: 3 });
  assert.equal(parseRetentionDuration('4h3d9m'), { years: 0, months: 9, days: 3, hours: 4 }, 'any order');
  assert.equal(parseRetentionDuration('30d'), { years: 0, months: 0, days: 30, hours: 0 });
  assert.throws(() => parseRetentionDuration('1y 2m'), (e: unknown) => (e as CairnError).code === 'RETENTION_DURATION_INVALID');
  assert.throws(() => parseRetentionDuration('100000d'), /at most 99999/);
});

test.run();
