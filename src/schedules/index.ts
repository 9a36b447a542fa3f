/** Schedules: next-run computation and the scheduler that fires runs. */
import type { ScheduleView, StoredSchedule } from '../domain/schedules.ts';
import { nextRunAfter } from './next-run.ts';

export { Scheduler, type SchedulerOptions } from './scheduler.ts';
export { nextRunAfter, cronPatternsOf, checkCronExpression } from './next-run.ts';

/** Schedules as the API shows them, each with its next run in `timezone`. */
export function scheduleViewsOf(schedules: readonly StoredSchedule[], timezone: string, now = new Date()): ScheduleView[] {
  return schedules.map((schedule) => ({
    id: schedule.id,
    job_id: schedule.job_id,
    enabled: schedule.enabled,
    schedule_type: schedule.schedule_type,
    hour: schedule.hour,
    minute: schedule.minute,
    day_of_week: schedule.day_of_week,
    day_of_month: schedule.day_of_month,
    cron_expression: schedule.cron_expression,
    next_run: schedule.enabled ? (nextRunAfter(schedule, now, timezone)?.toISOString() ?? null) : null,
    created_at: schedule.created_at,
  }));
}
