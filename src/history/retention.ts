/**
 * The retention engine every kind of history uses (snapshots on a drive, restic-format
 * repositories): given snapshots, a policy and a time zone, which snapshots stay, which go, and
 * which rules keep each. Pure: it reads no clock, touches no disk and changes nothing.
 *
 * The reference is restic's `forget` (internal/data/snapshot_policy.go) and the same answers for
 * its test data; where Cairn decides differently is written at the place, and in docs/ARCHITECTURE.md.
 */
import {
  COUNT_RULES,
  isEmptyPolicy,
  isZeroDuration,
  parseRetentionDuration,
  parseTagList,
  UNLIMITED,
  WITHIN_RULES,
  type CountRule,
  type RetentionPolicy,
  type RetentionRule,
  type WithinRule,
} from '../domain/retention.ts';
import { CairnError } from '../domain/errors.ts';
import { isKnownTimezone } from '../schedules/local-time.ts';
import { ZoneCalendar, type BucketUnit, type Buckets } from './calendar.ts';
import { byCodeUnits } from '../domain/code-units.ts';

/** What the engine needs to know of a snapshot; callers pass their own records, which come back as given. */
export interface RetentionSnapshot {
  /** Unique within the list. Among snapshots with the same time, the larger id counts as newer. */
  id: string | number;
  /** When the snapshot was taken: a Date, epoch milliseconds or an ISO-8601 string with its offset. */
  time: Date | number | string;
  /** Matched by `keep_tags`. */
  tags?: readonly string[];
  /** False for a snapshot of a run that did not succeed; absent means true. */
  successful?: boolean;
}

/** Why a snapshot stays: a rule of the policy, or one of the two safeguards. */
export interface KeepReason {
  /**
   * The rule that keeps it; `newest_successful` when no rule does but it is the newest successful
   * snapshot (never removed); `no_policy` when the policy is empty (nothing is removed).
   */
  rule: RetentionRule | 'newest_successful' | 'no_policy';
  /**
   * A count or within-bucket rule had buckets left when it reached the oldest snapshot, so keeps
   * it although an earlier snapshot of the same bucket was already kept (restic's "oldest").
   */
  oldest?: true;
  /** For `keep_tags`: the policy entry (a comma-separated tag list) the snapshot matches. */
  tags?: string;
}

/** The engine's answer; both lists newest first, every given snapshot in exactly one. */
export interface RetentionDecision<S extends RetentionSnapshot> {
  keep: Array<{ snapshot: S; reasons: KeepReason[] }>;
  remove: S[];
}

/** Where and when the policy is applied. */
export interface RetentionContext {
  /** IANA zone the hour, day, week, month and year buckets are read in (the settings' zone). */
  timezone: string;
  /**
   * The current time. Durations count back from the newest snapshot, not from now; now only
   * decides which snapshots are in the future (a clock set wrong when they were taken): those
   * are not the newest for that purpose, and every duration rule keeps them, as in restic.
   */
  now: Date | number;
}

/** A snapshot with what the rules read of it. */
interface Entry<S> {
  snapshot: S;
  instant: number;
  buckets: Buckets;
}

/** Snapshots newest first, each with the reasons found so far to keep it. */
type Decided = Array<{ entry: Entry<RetentionSnapshot>; reasons: KeepReason[] }>;

/** The bucket each count rule counts in; `keep_last` counts snapshots. */
const COUNT_UNIT: Record<CountRule, BucketUnit | 'snapshot'> = {
  keep_last: 'snapshot',
  keep_hourly: 'hour',
  keep_daily: 'day',
  keep_weekly: 'week',
  keep_monthly: 'month',
  keep_yearly: 'year',
};
const WITHIN_UNIT: Record<Exclude<WithinRule, 'keep_within'>, BucketUnit> = {
  keep_within_hourly: 'hour',
  keep_within_daily: 'day',
  keep_within_weekly: 'week',
  keep_within_monthly: 'month',
  keep_within_yearly: 'year',
};

/** A rule that keeps the newest snapshot of each bucket while it has buckets left. */
interface BucketRule {
  rule: RetentionRule;
  unit: BucketUnit | 'snapshot';
  /** Buckets still to keep; -1 unlimited. Within-rules are unlimited inside their span. */
  remaining: number;
  /** Only snapshots after this instant count (-Infinity for count rules). */
  after: number;
  /** The bucket of the last snapshot this rule kept. */
  lastBucket?: number;
}

/**
 * Decides which snapshots a policy keeps, as restic's `forget` does:
 * - snapshots are taken newest first (same time: larger id first), so the order given does not matter;
 * - a count rule keeps the newest snapshot of each new bucket until its count is used up (-1:
 *   never); when it reaches the oldest snapshot with count left, it keeps that one too, so the
 *   history reaches as far back as the counts allow;
 * - `keep_within` keeps every snapshot strictly newer than the span before the newest snapshot
 *   that is not in the future; the `keep_within_*` rules keep one per bucket inside that span;
 * - `keep_tags` keeps a snapshot carrying every tag of any one entry;
 * - a snapshot kept by any rule stays, with every rule that keeps it listed in restic's order
 *   (tags, within, last … yearly, within-hourly … within-yearly).
 * Two safeguards restic lacks: an empty policy removes nothing (reason `no_policy`), and the newest
 * successful snapshot always stays (reason `newest_successful` when no rule keeps it).
 * The policy is assumed valid (retentionPolicySchema); a bad duration throws RETENTION_DURATION_INVALID.
 * @throws CairnError (internal) for duplicate ids, an unreadable time or an unknown time zone.
 */
export function applyRetention<S extends RetentionSnapshot>(
  snapshots: readonly S[],
  policy: RetentionPolicy,
  context: RetentionContext,
): RetentionDecision<S> {
  const calendar = calendarFor(context.timezone);
  const entries = newestFirst(snapshots, calendar);
  if (isEmptyPolicy(policy)) {
    return { keep: entries.map(({ snapshot }) => ({ snapshot, reasons: [{ rule: 'no_policy' }] })), remove: [] };
  }

  const decided = entries.map((entry) => ({ entry, reasons: [] as KeepReason[] }));
  const now = new Date(context.now).getTime();
  // The newest snapshot not in the future; with none, every span reaches back forever.
  const newest = entries.find((entry) => entry.instant <= now)?.instant;
  const spanStart = (rule: WithinRule) =>
    newest === undefined ? -Infinity : calendar.before(newest, parseRetentionDuration(policy[rule] as string));

  addTagReasons(decided, policy.keep_tags);
  if (!isZeroDuration(policy.keep_within)) {
    const start = spanStart('keep_within');
    for (const { entry, reasons } of decided) if (entry.instant > start) reasons.push({ rule: 'keep_within' });
  }
  const bucketRules: BucketRule[] = [
    ...COUNT_RULES.filter((rule) => policy[rule] !== 0).map((rule) => ({
      rule,
      unit: COUNT_UNIT[rule],
      remaining: policy[rule],
      after: -Infinity,
    })),
    ...WITHIN_RULES.filter((rule): rule is keyof typeof WITHIN_UNIT => rule !== 'keep_within' && !isZeroDuration(policy[rule])).map(
      (rule) => ({ rule, unit: WITHIN_UNIT[rule], remaining: UNLIMITED, after: spanStart(rule) }),
    ),
  ];
  for (const rule of bucketRules) addBucketReasons(decided, rule);

  protectNewestSuccessful(decided);
  const keep = decided.filter(({ reasons }) => reasons.length > 0).map(({ entry, reasons }) => ({ snapshot: entry.snapshot, reasons }));
  const remove = decided.filter(({ reasons }) => reasons.length === 0).map(({ entry }) => entry.snapshot);
  return { keep, remove };
}

function calendarFor(timezone: string): ZoneCalendar {
  if (!isKnownTimezone(timezone)) {
    throw new CairnError('internal', 'TIMEZONE_INVALID', `"${timezone}" is not a time zone this system knows`);
  }
  return new ZoneCalendar(timezone);
}

/** The snapshots with their instants and buckets, newest first; refuses a list the rules cannot order. */
function newestFirst<S extends RetentionSnapshot>(snapshots: readonly S[], calendar: ZoneCalendar): Entry<S>[] {
  const ids = new Set<string | number>();
  const entries = snapshots.map((snapshot) => {
    if (ids.has(snapshot.id)) throw badList(`snapshot id ${String(snapshot.id)} appears twice`);
    ids.add(snapshot.id);
    const instant = new Date(snapshot.time).getTime();
    if (!Number.isFinite(instant)) throw badList(`snapshot ${String(snapshot.id)} has no readable time`);
    return { snapshot, instant, buckets: calendar.bucketsOf(instant) };
  });
  return entries.sort((a, b) => b.instant - a.instant || compareIds(b.snapshot.id, a.snapshot.id));
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return byCodeUnits(String(a), String(b));
}

function badList(message: string) {
  return new CairnError('internal', 'SNAPSHOT_LIST_INVALID', `Cannot apply retention: ${message}`);
}

/** Tags are not counted: every snapshot matching an entry is kept, once per matching entry. */
function addTagReasons(decided: Decided, entries: readonly string[]) {
  const lists = entries.map((entry) => ({ entry, required: parseTagList(entry) }));
  for (const { entry, reasons } of decided) {
    const carried = entry.snapshot.tags ?? [];
    for (const { entry: listEntry, required } of lists) {
      const matches = required.length === 0 ? carried.length === 0 : required.every((tag) => carried.includes(tag));
      if (matches) reasons.push({ rule: 'keep_tags', tags: listEntry });
    }
  }
}

/** One bucket rule over the whole list, newest first; see applyRetention for what it keeps. */
function addBucketReasons(decided: Decided, rule: BucketRule) {
  decided.forEach(({ entry, reasons }, index) => {
    if (rule.remaining === 0 || entry.instant <= rule.after) return;
    const bucket = rule.unit === 'snapshot' ? index : entry.buckets[rule.unit];
    const isOldest = index === decided.length - 1;
    if (bucket === rule.lastBucket && !isOldest) return;
    reasons.push(bucket === rule.lastBucket ? { rule: rule.rule, oldest: true } : { rule: rule.rule });
    rule.lastBucket = bucket;
    if (rule.remaining > 0) rule.remaining -= 1;
  });
}

/** The newest successful snapshot is never removed, whatever the policy says. */
function protectNewestSuccessful(decided: Decided) {
  const newestSuccessful = decided.find(({ entry }) => entry.snapshot.successful !== false);
  if (newestSuccessful && newestSuccessful.reasons.length === 0) newestSuccessful.reasons.push({ rule: 'newest_successful' });
}
