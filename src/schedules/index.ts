/**
 * Schedules: when each runs next in the settings' time zone, how one is shown, the in-process
 * scheduler that fires them, and the service that saves them and decides what a fire does. The
 * public surface of this folder; nobody imports deeper.
 */
export { nextRunAfter, nextRunOf } from './next-run.ts';
export { checkCronExpression } from './cron-patterns.ts';
export { LocalClock } from './local-time.ts';
export { scheduleViewOf, scheduleViewsOf } from './schedule-view.ts';
export { Scheduler, type SchedulerOptions } from './scheduler.ts';
export { ScheduleService, type ScheduleServiceDependencies, type ScheduledRuns } from './schedule-service.ts';
export { ClockSyncWatch, CLOCK_PROBE_EVERY_MS, systemClockSynchronized, TIMESYNC_FLAG_FILE, TRUSTED_CLOCK, type ClockSyncWatchOptions, type ClockTrust } from './clock-sync.ts';
