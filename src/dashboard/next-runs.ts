/**
 * Each job's next scheduled run for the dashboard, remembered until it passes: croner costs a few
 * milliseconds per schedule (measured: 100 daily schedules, 100–230 ms), and a phone asks often.
 */
import type { ScheduleRecord } from '../domain/schedules.ts';
import { nextRunOf } from '../schedules/index.ts';

/** The job's earliest next run (ISO) after `now`, or null when none of its enabled schedules runs again. */
export type NextRunOf = (jobId: number, now: Date) => string | null;

/**
 * Next runs from the stored schedules, each job's answer reused until its time has come or its
 * schedules or the time zone change.
 */
export function rememberedNextRuns(deps: { schedulesOf(jobId: number): readonly ScheduleRecord[]; timezone(): string }): NextRunOf {
  const remembered = new Map<number, { key: string; next: string | null }>();
  return (jobId, now) => {
    const schedules = deps.schedulesOf(jobId).filter((schedule) => schedule.enabled);
    const timezone = deps.timezone();
    const key = JSON.stringify([timezone, schedules]);
    const entry = remembered.get(jobId);
    if (entry && entry.key === key && (entry.next === null || Date.parse(entry.next) > now.getTime())) return entry.next;
    const next = schedules
      .map((schedule) => nextRunOf(schedule, timezone, now)?.toISOString() ?? null)
      .filter((time): time is string => time !== null)
      .sort()[0] ?? null;
    remembered.set(jobId, { key, next });
    return next;
  };
}
