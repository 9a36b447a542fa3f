/**
 * The engine against restic's own policy tests: the input list of restic's
 * internal/data/snapshot_policy_test.go, its 40 policies, and the keep lists and reasons of its
 * golden files (derived into test/fixtures/retention/restic-policy-keep.json by the script beside it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy, type RetentionPolicy } from '../../../src/domain/retention.ts';
import { applyRetention, type KeepReason } from '../../../src/history/index.ts';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/retention/restic-policy-keep.json', import.meta.url), 'utf8')) as {
  input_sha256: string;
  input_count: number;
  reasons: Record<string, string>;
  keep: string[];
};

// restic's testExpireSnapshots, in its order: UTC times, "| tags" where a snapshot has them.
const RESTIC_INPUT = `
2014-09-01 10:20:30, 2014-09-02 10:20:30, 2014-09-05 10:20:30, 2014-09-06 10:20:30, 2014-09-08 10:20:30,
2014-09-09 10:20:30, 2014-09-10 10:20:30, 2014-09-11 10:20:30, 2014-09-20 10:20:30, 2014-09-22 10:20:30,
2014-08-08 10:20:30, 2014-08-10 10:20:30, 2014-08-12 10:20:30, 2014-08-13 10:20:30, 2014-08-13 10:20:30.1,
2014-08-15 10:20:30, 2014-08-18 10:20:30, 2014-08-20 10:20:30, 2014-08-21 10:20:30, 2014-08-22 10:20:30,
2014-10-01 10:20:30|foo, 2014-10-02 10:20:30|foo, 2014-10-05 10:20:30|foo, 2014-10-06 10:20:30|foo, 2014-10-08 10:20:30|foo,
2014-10-09 10:20:30|foo, 2014-10-10 10:20:30|foo, 2014-10-11 10:20:30|foo, 2014-10-20 10:20:30|foo, 2014-10-22 10:20:30|foo,
2014-11-08 10:20:30|foo, 2014-11-10 10:20:30|foo, 2014-11-12 10:20:30|foo, 2014-11-13 10:20:30|foo, 2014-11-13 10:20:30.1|bar,
2014-11-15 10:20:30|foo bar, 2014-11-18 10:20:30, 2014-11-20 10:20:30, 2014-11-21 10:20:30, 2014-11-22 10:20:30,
2015-09-01 10:20:30, 2015-09-02 10:20:30, 2015-09-05 10:20:30, 2015-09-06 10:20:30, 2015-09-08 10:20:30,
2015-09-09 10:20:30, 2015-09-10 10:20:30, 2015-09-11 10:20:30, 2015-09-20 10:20:30, 2015-09-22 10:20:30,
2015-08-08 10:20:30, 2015-08-10 10:20:30, 2015-08-12 10:20:30, 2015-08-13 10:20:30, 2015-08-13 10:20:30.1,
2015-08-15 10:20:30, 2015-08-18 10:20:30, 2015-08-20 10:20:30, 2015-08-21 10:20:30, 2015-08-22 10:20:30,
2015-10-01 10:20:30, 2015-10-02 10:20:30, 2015-10-05 10:20:30, 2015-10-06 10:20:30, 2015-10-08 10:20:30,
2015-10-09 10:20:30, 2015-10-10 10:20:30, 2015-10-11 10:20:30, 2015-10-20 10:20:30, 2015-10-22 10:20:30,
2015-10-22 10:20:30, 2015-10-22 10:20:30|foo bar, 2015-10-22 10:20:30|foo bar, 2015-10-22 10:20:30|foo bar,
2015-11-08 10:20:30, 2015-11-10 10:20:30, 2015-11-12 10:20:30, 2015-11-13 10:20:30, 2015-11-13 10:20:30.1,
2015-11-15 10:20:30, 2015-11-18 10:20:30, 2015-11-20 10:20:30, 2015-11-21 10:20:30, 2015-11-22 10:20:30,
2016-01-01 01:02:03, 2016-01-01 01:03:03, 2016-01-01 07:08:03, 2016-01-03 07:02:03, 2016-01-04 10:23:03,
2016-01-04 11:23:03, 2016-01-04 12:23:03, 2016-01-04 12:24:03, 2016-01-04 12:28:03, 2016-01-04 12:30:03,
2016-01-04 16:23:03, 2016-01-05 09:02:03, 2016-01-06 08:02:03, 2016-01-07 10:02:03, 2016-01-08 20:02:03,
2016-01-09 21:02:03, 2016-01-12 21:02:03, 2016-01-12 21:08:03, 2016-01-18 12:02:03`;

interface TestSnapshot {
  id: number;
  time: string;
  tags: string[];
  successful: boolean;
}

/**
 * restic sorts with a stable sort, so among equal times the one listed first counts as newer.
 * Cairn orders equal times by id, the larger newer, whatever the list order: ids here fall along
 * restic's list so both orders agree.
 */
function resticInput(successful: boolean): TestSnapshot[] {
  return RESTIC_INPUT.split(',').map((item, index) => {
    const [time, tags = ''] = item.trim().split('|');
    return { id: 1000 - index, time: `${time.replace(' ', 'T')}Z`, tags: tags.split(' ').filter(Boolean), successful };
  });
}
const indexOf = (id: number) => 1000 - id;

const policy = (fields: Partial<RetentionPolicy>): RetentionPolicy => ({ ...emptyRetentionPolicy(), ...fields });
const FULL = '1y2m3d3h';

// restic's `tests` table, entry N matching golden file N.
const RESTIC_POLICIES: RetentionPolicy[] = [
  policy({}),
  policy({ keep_last: 10 }),
  policy({ keep_last: 15 }),
  policy({ keep_last: 99 }),
  policy({ keep_last: 200 }),
  policy({ keep_hourly: 20 }),
  policy({ keep_daily: 3 }),
  policy({ keep_daily: 10 }),
  policy({ keep_daily: 30 }),
  policy({ keep_last: 5, keep_daily: 5 }),
  policy({ keep_last: 2, keep_daily: 10 }),
  policy({ keep_weekly: 2 }),
  policy({ keep_weekly: 4 }),
  policy({ keep_daily: 3, keep_weekly: 4 }),
  policy({ keep_monthly: 6 }),
  policy({ keep_daily: 2, keep_weekly: 2, keep_monthly: 6 }),
  policy({ keep_yearly: 10 }),
  policy({ keep_daily: 7, keep_weekly: 2, keep_monthly: 3, keep_yearly: 10 }),
  policy({ keep_tags: ['foo'] }),
  policy({ keep_tags: ['foo,bar'] }),
  policy({ keep_tags: ['foo', 'bar'] }),
  policy({ keep_within: '1d' }),
  policy({ keep_within: '2d' }),
  policy({ keep_within: '7d' }),
  policy({ keep_within: '1m' }),
  policy({ keep_within: '1m14d' }),
  policy({ keep_within: '1y1d1m' }),
  policy({ keep_within: '13d23h' }),
  policy({ keep_within: '2m2h' }),
  policy({ keep_within: FULL }),
  policy({ keep_within_hourly: FULL }),
  policy({ keep_within_daily: FULL }),
  policy({ keep_within_weekly: FULL }),
  policy({ keep_within_monthly: FULL }),
  policy({ keep_within_yearly: FULL }),
  policy({
    keep_within: '1h',
    keep_within_hourly: '1d',
    keep_within_daily: '7d',
    keep_within_weekly: '1m',
    keep_within_monthly: '1y',
    keep_within_yearly: '9999y',
  }),
  policy({ keep_last: -1 }),
  policy({ keep_last: -1, keep_hourly: -1 }),
  policy({ keep_hourly: -1 }),
  policy({ keep_daily: 3, keep_weekly: 2, keep_monthly: -1, keep_yearly: -1 }),
];

const RULE_OF_UNIT: Record<string, string> = {
  last: 'keep_last',
  hourly: 'keep_hourly',
  daily: 'keep_daily',
  weekly: 'keep_weekly',
  monthly: 'keep_monthly',
  yearly: 'keep_yearly',
};

/** restic's reason text ("oldest daily snapshot", "has tags [foo, bar]", "weekly within 1m") as Cairn's reason. */
function reasonOf(text: string, entries: readonly string[]): KeepReason {
  let match = /^(oldest )?(\w+) snapshot$/.exec(text);
  if (match) return match[1] ? { rule: RULE_OF_UNIT[match[2]] as KeepReason['rule'], oldest: true } : { rule: RULE_OF_UNIT[match[2]] as KeepReason['rule'] };
  match = /^has tags \[(.*)\]$/.exec(text);
  if (match) {
    const tags = match[1].split(', ').join(',');
    assert.ok(entries.includes(tags), `restic's tag list [${match[1]}] is one of the policy's entries`);
    return { rule: 'keep_tags', tags };
  }
  if (/^within \S+$/.test(text)) return { rule: 'keep_within' };
  match = /^(oldest )?(\w+) within \S+$/.exec(text);
  if (match) {
    const rule = `keep_within_${match[2]}` as KeepReason['rule'];
    return match[1] ? { rule, oldest: true } : { rule };
  }
  throw new Error(`unknown restic reason "${text}"`);
}

/** restic's answer for golden file N: the indexes it keeps, in its order, each with its reasons. */
function resticAnswer(file: number): Array<{ index: number; reasons: KeepReason[] }> {
  const line = fixture.keep[file];
  if (line === '') return [];
  return line.split(' ').map((item) => {
    const [index, letters] = item.split(':');
    return { index: Number(index), reasons: [...letters].map((letter) => reasonOf(fixture.reasons[letter], RESTIC_POLICIES[file].keep_tags)) };
  });
}

const NOW = Date.parse('2026-01-01T00:00:00Z');
const UTC = { timezone: 'UTC', now: NOW };

test('the input list is the one the golden files were made from', () => {
  const input = resticInput(true);
  assert.is(input.length, fixture.input_count);
  const text = input.map((s) => `${new Date(s.time).toISOString()} ${s.tags.join(',')}`).join('\n');
  assert.is(createHash('sha256').update(text).digest('hex'), fixture.input_sha256);
  assert.is(fixture.keep.length, RESTIC_POLICIES.length, 'one golden file per policy');
});

test("every policy of restic's test keeps exactly restic's snapshots, in restic's order, for restic's reasons", () => {
  // Unsuccessful snapshots switch off the one safeguard restic lacks (the newest successful one stays).
  const input = resticInput(false);
  for (let file = 1; file < RESTIC_POLICIES.length; file++) {
    const decision = applyRetention(input, RESTIC_POLICIES[file], UTC);
    const got = decision.keep.map(({ snapshot, reasons }) => ({ index: indexOf(snapshot.id), reasons }));
    assert.equal(got, resticAnswer(file), `policy_keep_snapshots_${file}`);
    assert.is(decision.keep.length + decision.remove.length, input.length, `file ${file}: every snapshot decided once`);
  }
});

test("the same, given the list in another order: equal times are ordered by id, not by the caller's order", () => {
  const input = resticInput(false).reverse();
  for (const file of [6, 9, 17, 20, 36, 37]) {
    const got = applyRetention(input, RESTIC_POLICIES[file], UTC).keep.map(({ snapshot, reasons }) => ({ index: indexOf(snapshot.id), reasons }));
    assert.equal(got, resticAnswer(file), `policy_keep_snapshots_${file}, reversed input`);
  }
});

test('with successful snapshots the newest one is added where restic would remove it, and nothing else changes', () => {
  const input = resticInput(true);
  const newest = 102; // 2016-01-18 12:02:03, untagged
  let protectedCount = 0;
  for (let file = 1; file < RESTIC_POLICIES.length; file++) {
    const expected = resticAnswer(file);
    if (!expected.some(({ index }) => index === newest)) {
      expected.unshift({ index: newest, reasons: [{ rule: 'newest_successful' }] });
      protectedCount += 1;
    }
    const got = applyRetention(input, RESTIC_POLICIES[file], UTC).keep.map(({ snapshot, reasons }) => ({ index: indexOf(snapshot.id), reasons }));
    assert.equal(got, expected, `policy_keep_snapshots_${file}`);
  }
  assert.is(protectedCount, 3, 'the tag-only policies (18, 19, 20) do not keep the newest snapshot in restic');
});

test("restic's empty policy (golden file 0) removes everything there; in Cairn it removes nothing", () => {
  assert.equal(resticAnswer(0), []);
  const decision = applyRetention(resticInput(false), RESTIC_POLICIES[0], UTC);
  assert.is(decision.remove.length, 0);
  assert.is(decision.keep.length, fixture.input_count);
  assert.ok(decision.keep.every(({ reasons }) => reasons.length === 1 && reasons[0].rule === 'no_policy'));
});

test.run();
