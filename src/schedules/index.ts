/**
 * Schedules: when each runs next in the settings' time zone, how one is shown, and the in-process
 * scheduler that fires them. The public surface of this folder; nobody imports deeper.
 */
export { nextRunAfter, nextRunOf } from './next-run.ts';
export { checkCronExpression } from './cron-patterns.ts';
export { LocalClock } from './local-time.ts';
export { scheduleViewOf, scheduleViewsOf } from './schedule-view.ts';
export { Scheduler, type SchedulerOptions } from './scheduler.ts';
