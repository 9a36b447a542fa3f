/**
 * The dashboard: each job's state (ok, failing, overdue, running, never run), drives and destination
 * free space, the daily series, the health verdict and the Prometheus metrics built from them.
 */
export { DashboardService, JOB_STATES, NEARLY_FULL, SERIES_DAYS, type Dashboard, type DashboardDependencies, type Health, type HealthReason, type JobState, type JobStatus } from './dashboard-service.ts';
export { FreeSpaceCache, SPACE_MAX_AGE_MS, SPACE_WAIT_MS, UNKNOWN_SPACE, type SpaceReading } from './free-space.ts';
export { rememberedNextRuns, type NextRunOf } from './next-runs.ts';
export { scheduleOverdueRule, longestGap, OVERDUE_SLACK_MS, type OverdueRule } from './overdue.ts';
export { cairnMetrics, renderPrometheus, PROMETHEUS_CONTENT_TYPE, type MetricFamily } from './prometheus.ts';
export type { DriveSpace } from './drive-space.ts';
