/**
 * When a job counts as overdue: no successful backup for longer than its threshold. The threshold is
 * one function of the job (`OverdueRule`), so the rule can come from elsewhere (an owner's alert
 * setting) without the dashboard knowing; this file holds the default, read from the schedules.
 */
import type { JobRecord } from '../domain/jobs.ts';
import type { ScheduleRecord } from '../domain/schedules.ts';
import { nextRunOf } from '../schedules/index.ts';

/**
 * How long (ms) a job may go without a successful backup before it is overdue, or null when it is
 * never overdue.
 */
export type OverdueRule = (job: JobRecord, now: Date) => number | null;

/** Added to twice the longest gap, so a run that takes a while is not overdue the minute it is due. */
export const OVERDUE_SLACK_MS = 60 * 60 * 1000;

/** How long a computed gap is reused (a daylight-saving change moves it by an hour at most). */
const REMEMBER_GAP_MS = 60 * 60 * 1000;

/** Coming runs of each schedule looked at to find the longest gap. */
const RUNS_LOOKED_AT = 8;

/**
 * The default rule: a job with enabled schedules is overdue when it has not succeeded within twice
 * the longest gap between its coming scheduled runs, plus an hour (daily: 49 hours; weekly: 14 days
 * and an hour), so one missed or failed run is not yet overdue but two are. A job without enabled
 * schedules (plug-in or manual backups) is never overdue by this rule: nothing says how often it
 * should run.
 */
export function scheduleOverdueRule(deps: { schedulesOf(jobId: number): readonly ScheduleRecord[]; timezone(): string }): OverdueRule {
  // Health is open to anonymous callers: the gaps are remembered per set of rules for an hour
  // instead of asking croner for eight runs of every schedule on every call.
  const remembered = new Map<string, { gap: number | null; until: number }>();
  return (job, now) => {
    const schedules = deps.schedulesOf(job.id).filter((schedule) => schedule.enabled);
    const timezone = deps.timezone();
    const key = JSON.stringify([timezone, schedules.map(({ schedule_type, hour, minute, day_of_week, day_of_month, cron_expression }) => [schedule_type, hour, minute, day_of_week, day_of_month, cron_expression])]);
    let entry = remembered.get(key);
    if (!entry || entry.until <= now.getTime()) {
      if (remembered.size > 1000) remembered.clear();
      entry = { gap: longestGap(schedules, timezone, now), until: now.getTime() + REMEMBER_GAP_MS };
      remembered.set(key, entry);
    }
    return entry.gap === null ? null : 2 * entry.gap + OVERDUE_SLACK_MS;
  };
}

/**
 * The longest time between two consecutive coming runs of the schedules together (ms), over the
 * stretch all of them cover (up to each one's 8th coming run); null when fewer than two runs come.
 */
export function longestGap(schedules: readonly ScheduleRecord[], timezone: string, now: Date): number | null {
  const runsOfEach = schedules
    .filter((schedule) => schedule.enabled)
    .map((schedule) => {
      const runs: number[] = [];
      for (let after = now; runs.length < RUNS_LOOKED_AT; ) {
        const next = nextRunOf(schedule, timezone, after);
        if (!next) break;
        runs.push(next.getTime());
        after = next;
      }
      return runs;
    })
    .filter((runs) => runs.length > 0);
  if (runsOfEach.length === 0) return null;
  // Beyond the end of the shortest list, a frequent schedule's runs are missing and gaps would look long.
  const horizon = Math.min(...runsOfEach.map((runs) => runs[runs.length - 1]));
  const merged = [...new Set(runsOfEach.flat().filter((at) => at <= horizon))].sort((a, b) => a - b);
  if (merged.length < 2) return null;
  let longest = 0;
  for (let index = 1; index < merged.length; index++) longest = Math.max(longest, merged[index] - merged[index - 1]);
  return longest;
}
