/** The one serializer of a schedule: the contract's fields, in its order, with `next_run` filled. */
import type { ScheduleRecord, ScheduleView } from '../domain/schedules.ts';
import { nextRunOf } from './next-run.ts';

/** A schedule as the API shows it, its `next_run` computed in `timezone` from `now`. */
export function scheduleViewOf(schedule: ScheduleRecord, timezone: string, now = new Date()): ScheduleView {
  return {
    id: schedule.id,
    job_id: schedule.job_id,
    enabled: schedule.enabled,
    schedule_type: schedule.schedule_type,
    hour: schedule.hour,
    minute: schedule.minute,
    day_of_week: schedule.day_of_week,
    day_of_month: schedule.day_of_month,
    cron_expression: schedule.cron_expression,
    // Schedules stored before `action` existed are backups.
    action: schedule.action ?? 'backup',
    verify_percent: schedule.verify_percent ?? null,
    next_run: nextRunOf(schedule, timezone, now)?.toISOString() ?? null,
    created_at: schedule.created_at,
  };
}

/** Many schedules as the API shows them, all from the same `now`. */
export function scheduleViewsOf(schedules: readonly ScheduleRecord[], timezone: string, now = new Date()): ScheduleView[] {
  return schedules.map((schedule) => scheduleViewOf(schedule, timezone, now));
}
