/**
 * When a schedule runs next, in the owner's time zone (croner does the calendar and DST work).
 *
 * What a person sees:
 * - A local time skipped by the spring-forward change (02:30 in Europe/Berlin on the last Sunday
 *   of March) runs shifted by the gap, at 03:30 that day; the backup is not skipped.
 * - A local time that happens twice at the fall-back change runs once, at its second occurrence.
 * - Monthly on day 29, 30 or 31 runs on the last day of months that are shorter (day 31 → 30 April,
 *   28 or 29 February), so no month goes without a backup.
 * - Custom cron expressions follow cron: `0 2 31 * *` runs only in months that have a 31st.
 */
import { Cron } from 'croner';
import { invalid } from '../domain/errors.ts';
import type { ScheduleInput } from '../domain/schedules.ts';

/** Months (1–12) with fewer than `day` days in any year. */
function monthsShorterThan(day: number): number[] {
  const longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  // February counts as 28 days here: in leap years its last day (29) is also matched by `day` itself.
  return longest.map((days, i) => (i === 1 ? 28 : days)).flatMap((days, i) => (days < day ? [i + 1] : []));
}

/** The cron patterns whose union is the schedule (more than one only for monthly days past 28). */
export function cronPatternsOf(rule: ScheduleInput): string[] {
  const { minute, hour } = rule;
  switch (rule.schedule_type) {
    case 'daily':
      return [`${minute} ${hour} * * *`];
    case 'weekly':
      return [`${minute} ${hour} * * ${rule.day_of_week}`];
    case 'monthly': {
      const day = rule.day_of_month!;
      const shorter = monthsShorterThan(day);
      return shorter.length === 0 ? [`${minute} ${hour} ${day} * *`] : [`${minute} ${hour} ${day} * *`, `${minute} ${hour} L ${shorter.join(',')} *`];
    }
    case 'custom':
      return [rule.cron_expression!];
  }
}

/** Checks that a custom cron expression is one croner understands; a 400 saying why when not. */
export function checkCronExpression(expression: string): void {
  try {
    new Cron(expression, { paused: true });
  } catch (error) {
    throw invalid('INVALID_CRON', `"cron_expression" is not a valid cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`);
  }
}

/** The first run strictly after `after`, or null when the rule never runs again. */
export function nextRunAfter(rule: ScheduleInput, after: Date, timezone: string): Date | null {
  let next: Date | null = null;
  for (const pattern of cronPatternsOf(rule)) {
    const candidate = new Cron(pattern, { timezone, paused: true }).nextRun(after);
    if (candidate && (!next || candidate < next)) next = candidate;
  }
  return next;
}
