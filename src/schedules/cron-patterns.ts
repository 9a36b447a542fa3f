/** Schedules as cron patterns: what next-run.ts hands to croner, and the check of a custom one. */
import { cronExpressionProblem, type ScheduleRule } from '../domain/schedules.ts';
import { invalid } from '../domain/errors.ts';

/** Days in each month of a common year (February: 28, so a leap year's 29th is matched by day 29 itself). */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Months (1–12) that in some year have fewer than `day` days. */
function monthsShorterThan(day: number): number[] {
  return DAYS_IN_MONTH.flatMap((days, i) => (days < day ? [i + 1] : []));
}

/**
 * The five-field cron patterns whose union is the rule's set of local wall-clock times. Only a
 * monthly rule past day 28 needs two: its own day, plus the last day (`L`) of the months that lack
 * it, so day 31 runs on 30 April and on 28 or 29 February instead of skipping those months.
 */
export function cronPatternsOf(rule: ScheduleRule): string[] {
  const { minute, hour } = rule;
  switch (rule.schedule_type) {
    case 'daily':
      return [`${minute} ${hour} * * *`];
    case 'weekly':
      return [`${minute} ${hour} * * ${rule.day_of_week}`];
    case 'monthly': {
      const day = rule.day_of_month!;
      const shorter = monthsShorterThan(day);
      const own = `${minute} ${hour} ${day} * *`;
      return shorter.length === 0 ? [own] : [own, `${minute} ${hour} L ${shorter.join(',')} *`];
    }
    case 'custom':
      return [rule.cron_expression!];
  }
}

/**
 * Throws `INVALID_CRON` (a 400 naming `cron_expression`) unless `expression` is a cron expression
 * Cairn runs; the same check the body schema makes, for callers that hold an expression outside one.
 */
export function checkCronExpression(expression: string): void {
  const problem = cronExpressionProblem(expression);
  if (problem !== null) throw invalid('INVALID_CRON', `"cron_expression" ${problem}`);
}
