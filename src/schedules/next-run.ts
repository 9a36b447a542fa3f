/**
 * When a schedule runs next, in the settings' time zone.
 *
 * A rule names local wall-clock times ("daily 02:30" is 02:30 on the clocks of the time zone).
 * croner finds the matching wall-clock times on a clock without time zones, and LocalClock turns
 * each into one instant. croner's own time-zone mode is not used: around the autumn change it
 * skips runs (croner 9.1: `0 2 * * *` in Europe/Berlin, asked after 02:30 CEST on 25 October
 * 2026, answers 26 October; every 20 minutes leaves an 80-minute hole that night).
 *
 * What a person sees, the same for every type (custom cron expressions included):
 * - Spring forward: a local time that does not exist that day (02:30 in Europe/Berlin on the last
 *   Sunday of March, when clocks jump from 02:00 to 03:00) runs shifted by the gap, at 03:30
 *   local; the backup still runs that day. Times outside the gap (01:30, 03:30) are unaffected, so
 *   a daily 02:30 and a daily 03:30 both come due at 03:30 that day.
 * - Fall back: a local time that happens twice (02:30 in Europe/Berlin on the last Sunday of
 *   October) runs once, at its first occurrence (02:30 summer time), as cron runs such jobs. A
 *   custom expression that runs every few minutes therefore pauses for the repeated hour.
 * - Both are one rule: a local time is read with the UTC offset in force before the change
 *   (RFC 5545, java.time and Temporal's "compatible" read it so).
 * - Monthly on day 29, 30 or 31 runs on the last day of months without that day (day 31 →
 *   30 April, 28 February, 29 February in leap years): no month goes without its backup. A custom
 *   expression follows cron instead: `0 2 31 * *` runs only in months that have a 31st.
 */
import { Cron } from 'croner';
import type { ScheduleRecord, ScheduleRule } from '../domain/schedules.ts';
import { cronPatternsOf } from './cron-patterns.ts';
import { LocalClock } from './local-time.ts';

/**
 * The first run of `rule` strictly after `after`, with its local times in `timezone` (an IANA
 * name); null when the rule never runs again. `after` equal to a run time gives the following one.
 * @throws RangeError for a time zone this Node does not know.
 */
export function nextRunAfter(rule: ScheduleRule, after: Date, timezone: string): Date | null {
  const clock = new LocalClock(timezone);
  // utcOffset 0: croner counts on the wall clock itself; LocalClock does the time zone.
  const crons = cronPatternsOf(rule).map((pattern) => new Cron(pattern, { paused: true, utcOffset: 0 }));
  const nextWallClock = (from: number): number | null => {
    const found = crons.map((cron) => cron.nextRun(new Date(from))?.getTime() ?? Infinity);
    const earliest = Math.min(...found);
    return earliest === Infinity ? null : earliest;
  };

  const afterMs = after.getTime();
  // A wall-clock time a little before now can land after it once a spring gap shifts it.
  let wallClock = nextWallClock(clock.wallClockAt(afterMs) - clock.offsetChangeNear(afterMs));
  let best: number | null = null;
  let searchUntil = Infinity;
  for (; wallClock !== null && wallClock <= searchUntil; wallClock = nextWallClock(wallClock)) {
    const { instant, shiftedBy } = clock.resolve(wallClock);
    if (instant <= afterMs) continue;
    if (best === null || instant < best) best = instant;
    // Past a shifted time, the wall-clock times within the gap's length after it resolve to
    // instants before it; any later one resolves after it.
    if (searchUntil === Infinity) searchUntil = wallClock + shiftedBy;
  }
  return best === null ? null : new Date(best);
}

/**
 * A schedule's next run after `after`, or null when it is disabled (or never runs again): what
 * the API shows as `next_run` and what the scheduler waits for.
 */
export function nextRunOf(schedule: ScheduleRecord, timezone: string, after: Date): Date | null {
  return schedule.enabled ? nextRunAfter(schedule, after, timezone) : null;
}
