/**
 * A retention policy as one line of text, for the job form and the snapshots screen:
 * "last=7 daily=14 weekly=8 within=30d tags=keep,final". Each rule is its policy field without
 * `keep_`; a count is a number or `all` (unlimited); a duration is restic's notation, sent as typed
 * so the API's message names what is wrong; `tags=` may repeat (one entry each, commas inside an
 * entry mean "all of these tags"). An empty line is the empty policy: every snapshot is kept.
 */
import type { KeepReason, RetentionPolicy } from '../wire.ts';

const COUNTS = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
const DURATIONS = ['within', 'within_hourly', 'within_daily', 'within_weekly', 'within_monthly', 'within_yearly'] as const;
type Count = (typeof COUNTS)[number];
type Duration = (typeof DURATIONS)[number];

/** A line that is not a policy; the message says what is wrong and what a valid line looks like. */
export class RetentionTextError extends Error {}

/** What the Keep field takes, for its help line. */
export const RETENTION_HELP =
  'Snapshots to keep, e.g. "last=7 daily=14 weekly=8 monthly=12 within=30d tags=keep": counts are numbers or "all", ' +
  'durations like 30d, 1y6m, 12h; empty keeps every snapshot. The newest snapshot is never removed.';

/** The policy that keeps everything (no rule set). */
export function emptyPolicy(): RetentionPolicy {
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

/** The line for a policy (the inverse of `parseRetentionText`); "" for the empty policy. */
export function retentionText(policy: RetentionPolicy): string {
  const parts: string[] = [];
  for (const name of COUNTS) {
    const value = policy[`keep_${name}`];
    if (value !== 0) parts.push(`${name}=${value === -1 ? 'all' : value}`);
  }
  for (const name of DURATIONS) {
    const value = policy[`keep_${name}`];
    if (value !== null && value !== '') parts.push(`${name}=${value}`);
  }
  for (const tags of policy.keep_tags) parts.push(`tags=${tags}`);
  return parts.join(' ');
}

/**
 * The policy a line names. Throws RetentionTextError for a word that is not `rule=value`, an
 * unknown rule, a rule given twice (but `tags`), or a count that is neither a number nor `all`.
 */
export function parseRetentionText(text: string): RetentionPolicy {
  const policy = emptyPolicy();
  const seen = new Set<string>();
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const at = word.indexOf('=');
    const name = (at < 0 ? word : word.slice(0, at)).toLowerCase().replace(/^keep_/, '');
    const value = at < 0 ? null : word.slice(at + 1);
    const known = [...COUNTS, ...DURATIONS, 'tags'];
    if (!known.includes(name)) throw new RetentionTextError(`"${word}" is not a rule: use ${known.map((rule) => `${rule}=`).join(', ')}`);
    if (value === null) throw new RetentionTextError(`"${name}" needs a value after "=", e.g. ${name === 'tags' ? 'tags=keep' : COUNTS.includes(name as Count) ? `${name}=7` : `${name}=30d`}`);
    if (name === 'tags') {
      policy.keep_tags.push(value);
      continue;
    }
    if (seen.has(name)) throw new RetentionTextError(`"${name}" is given twice`);
    seen.add(name);
    if (COUNTS.includes(name as Count)) policy[`keep_${name as Count}`] = countOf(name, value);
    else policy[`keep_${name as Duration}`] = value === '' ? null : value;
  }
  return policy;
}

function countOf(name: string, value: string): number {
  if (/^all$/i.test(value)) return -1;
  if (!/^\d+$/.test(value)) throw new RetentionTextError(`"${name}=" takes a number or "all", not "${value}"`);
  return Number(value);
}

/** One reason as the screens show it: "daily", "tag keep,final", "monthly (oldest)", "newest", "no policy". */
export function reasonText(reason: KeepReason): string {
  const rule = reason.rule === 'newest_successful' ? 'newest' : reason.rule === 'no_policy' ? 'no policy' : reason.rule.replace(/^keep_/, '');
  const named = reason.rule === 'keep_tags' ? `tag ${reason.tags === '' ? '(untagged)' : (reason.tags ?? '')}` : rule;
  return reason.oldest ? `${named} (oldest)` : named;
}

/** Every reason, comma-separated; "removed at the next prune" for none. */
export function keptByText(reasons: readonly KeepReason[]): string {
  return reasons.length === 0 ? 'removed at the next prune' : reasons.map(reasonText).join(', ');
}
