/**
 * Retention policies for a job's history (hard-link snapshots on a drive, restic-format
 * repositories): the policy's shape, the rules for a valid one, and the duration and tag-list
 * notations it borrows from restic's `forget` (`--keep-within 1y6m`, `--keep-tag foo,bar`).
 * Pure: what the policy *does* is src/history/retention.ts; its joi schema is retention-schema.ts.
 */
import { invalid } from './errors.ts';

/** The count rules, newest first within each: keep the newest snapshot of each of the last n buckets. */
export const COUNT_RULES = ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'] as const;
export type CountRule = (typeof COUNT_RULES)[number];

/** The duration rules: `keep_within` keeps everything in the span, the others one snapshot per bucket. */
export const WITHIN_RULES = [
  'keep_within',
  'keep_within_hourly',
  'keep_within_daily',
  'keep_within_weekly',
  'keep_within_monthly',
  'keep_within_yearly',
] as const;
export type WithinRule = (typeof WITHIN_RULES)[number];

/** Every rule a policy can hold; a kept snapshot's reasons name these. */
export type RetentionRule = CountRule | WithinRule | 'keep_tags';

/** A count meaning "no limit" (restic's `unlimited`). 0 turns a rule off. */
export const UNLIMITED = -1;

/** The largest count accepted; far beyond any real history, small enough to stay an exact integer. */
export const COUNT_MAX = 1_000_000;

/**
 * A complete policy. A snapshot kept by any rule stays. A policy with every count 0, no duration
 * and no tag list is *empty*: it removes nothing (see isEmptyPolicy).
 */
export interface RetentionPolicy {
  /** Keep the n newest snapshots. -1: all. */
  keep_last: number;
  /** For the last n local hours that have snapshots, keep the newest of each. -1: every such hour. */
  keep_hourly: number;
  /** Likewise per local calendar day (a daylight-saving day of 23 or 25 hours is one day). */
  keep_daily: number;
  /** Likewise per ISO week, Monday 00:00 to Sunday 24:00 local. */
  keep_weekly: number;
  /** Likewise per calendar month. */
  keep_monthly: number;
  /** Likewise per calendar year. */
  keep_yearly: number;
  /** Keep every snapshot newer than this span before the newest snapshot, e.g. "30d", "1y6m", "2h". */
  keep_within: string | null;
  /** Within that span, keep the newest snapshot of each hour; the others likewise per day, week, month, year. */
  keep_within_hourly: string | null;
  keep_within_daily: string | null;
  keep_within_weekly: string | null;
  keep_within_monthly: string | null;
  keep_within_yearly: string | null;
  /**
   * Keep every snapshot that matches any of these tag lists. Each entry is restic's `--keep-tag`
   * value: tags separated by commas, all of which the snapshot must carry; `""` matches snapshots
   * with no tags at all.
   */
  keep_tags: string[];
}

/** A policy that keeps everything: no rule set. */
export function emptyRetentionPolicy(): RetentionPolicy {
  return {
    keep_last: 0,
    keep_hourly: 0,
    keep_daily: 0,
    keep_weekly: 0,
    keep_monthly: 0,
    keep_yearly: 0,
    keep_within: null,
    keep_within_hourly: null,
    keep_within_daily: null,
    keep_within_weekly: null,
    keep_within_monthly: null,
    keep_within_yearly: null,
    keep_tags: [],
  };
}

/**
 * True when no rule is set (every count 0, every duration absent or zero, no tag list). Restic
 * refuses to apply such a policy rather than forget everything; Cairn reads it as "retention
 * off" and removes nothing, which is also what a job that never set a policy gets.
 */
export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return (
    COUNT_RULES.every((rule) => policy[rule] === 0) &&
    WITHIN_RULES.every((rule) => isZeroDuration(policy[rule])) &&
    policy.keep_tags.length === 0
  );
}

/** A span of calendar time in restic's notation: years, months, days, hours. */
export interface RetentionDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const DURATION_UNITS: Record<string, keyof RetentionDuration> = { y: 'years', m: 'months', d: 'days', h: 'hours' };
export const DURATION_TEXT_MAX = 40;
/** Each part of a duration stays below this; 9999y reaches before any clock a backup could carry. */
const DURATION_PART_MAX = 99_999;

/**
 * Reads restic's duration notation: numbers each followed by a unit, y (years), m (months),
 * d (days) or h (hours), in any order, each unit at most once ("1y6m", "30d", "2h", "6m4d8h").
 * Unlike restic, negative parts and a repeated unit are refused instead of read in some way.
 * @throws CairnError `RETENTION_DURATION_INVALID` naming what is wrong.
 */
export function parseRetentionDuration(text: string): RetentionDuration {
  const duration: RetentionDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > DURATION_TEXT_MAX || !/^(\d+[ymdh])+$/.test(trimmed)) {
    throw badDuration(text, 'write numbers each followed by y, m, d or h, such as 30d, 1y6m or 2h');
  }
  const seen = new Set<string>();
  for (const [, digits, unit] of trimmed.matchAll(/(\d+)([ymdh])/g)) {
    if (seen.has(unit)) throw badDuration(text, `the unit "${unit}" appears twice`);
    seen.add(unit);
    const value = Number(digits);
    if (value > DURATION_PART_MAX) throw badDuration(text, `each part must be at most ${DURATION_PART_MAX}`);
    duration[DURATION_UNITS[unit]] = value;
  }
  return duration;
}

function badDuration(text: string, why: string) {
  return invalid('RETENTION_DURATION_INVALID', `"${text}" is not a retention duration: ${why}`);
}

/** True for an absent duration or one whose parts are all zero ("0d"): such a rule is off. */
export function isZeroDuration(text: string | null): boolean {
  if (text === null) return true;
  const { years, months, days, hours } = parseRetentionDuration(text);
  return years === 0 && months === 0 && days === 0 && hours === 0;
}

/**
 * The tags one `keep_tags` entry requires, split on commas with spaces trimmed; empty parts are
 * dropped, so `""` (or `","`) gives no tags, which matches untagged snapshots only.
 */
export function parseTagList(entry: string): string[] {
  return entry
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}
