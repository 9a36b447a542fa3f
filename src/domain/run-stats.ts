/**
 * Run statistics that outlive the runs themselves: runs are pruned to `max_runs_per_job`, but a
 * job's last success, its counters and the daily series must not forget what the pruning removed.
 * Pure: the store keeps these records and applies `recordOutcome` when a run finishes.
 */
import { isBackupRun, type RunRecord, type RunStatus, type RunTrigger } from './runs.ts';
import { byCodeUnits } from './code-units.ts';

/** How many days of the daily series are kept (a bit over a year, for a yearly view). */
export const DAYS_KEPT = 400;

/** A finished backup run, as the statistics remember it. */
export interface FinishedRunSummary {
  run_id: number;
  status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>;
  trigger: RunTrigger;
  started_at: string | null;
  completed_at: string;
  error_message: string | null;
  files_transferred: number;
  bytes_transferred: number;
}

/** One job's backup runs since statistics began (schema 6), never lowered by pruning. */
export interface JobRunStats {
  job_id: number;
  /** Finished backup runs by their final status. */
  runs: { completed: number; failed: number; cancelled: number };
  /** Failed backup runs since the last completed one; a cancelled run leaves it as it was. */
  consecutive_failures: number;
  last_run: FinishedRunSummary | null;
  last_success: FinishedRunSummary | null;
}

/** The backup runs that finished on one calendar day (in the settings' time zone). */
export interface DailyRunStats {
  /** YYYY-MM-DD. */
  date: string;
  runs: number;
  failures: number;
  /** Bytes sent by that day's runs (a failed run counts what it sent before it failed). */
  bytes: number;
}

/** Everything the statistics keep, as stored (`run_stats` in the database). */
export interface RunStatsData {
  jobs: JobRunStats[];
  /** Oldest first; only days with runs are stored, at most DAYS_KEPT days back. */
  days: DailyRunStats[];
}

/** Statistics before any run finished. */
export function emptyRunStats(): RunStatsData {
  return { jobs: [], days: [] };
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) an instant falls on in an IANA time zone. */
export function calendarDayOf(instant: Date | string | number, timezone: string): string {
  let format = dayFormats.get(timezone);
  if (!format) {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timezone, format);
  }
  return format.format(new Date(instant));
}

/** The calendar day `days` before `date` (YYYY-MM-DD arithmetic, no time zone involved). */
export function dayBefore(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day - days)).toISOString().slice(0, 10);
}

/**
 * Adds a finished run to the statistics (in place). Runs that are not backups (restores) and runs
 * not finished are ignored. Returns whether anything changed.
 */
export function recordOutcome(stats: RunStatsData, run: RunRecord, timezone: string): boolean {
  if (!isBackupRun(run) || (run.status !== 'completed' && run.status !== 'failed' && run.status !== 'cancelled')) return false;
  const completedAt = run.completed_at ?? new Date().toISOString();
  const summary: FinishedRunSummary = {
    run_id: run.id,
    status: run.status,
    trigger: run.trigger,
    started_at: run.started_at,
    completed_at: completedAt,
    error_message: run.error_message,
    files_transferred: run.files_transferred,
    bytes_transferred: run.bytes_transferred,
  };
  let job = stats.jobs.find((entry) => entry.job_id === run.job_id);
  if (!job) {
    job = { job_id: run.job_id, runs: { completed: 0, failed: 0, cancelled: 0 }, consecutive_failures: 0, last_run: null, last_success: null };
    stats.jobs.push(job);
  }
  job.runs[run.status] += 1;
  // A run recorded out of order (an interrupted run found at start) does not replace a later one.
  if (!job.last_run || job.last_run.run_id < run.id) {
    job.last_run = summary;
    if (run.status === 'completed') job.consecutive_failures = 0;
  }
  if (run.status === 'failed') job.consecutive_failures += 1;
  if (run.status === 'completed' && (!job.last_success || job.last_success.run_id < run.id)) job.last_success = summary;

  const date = calendarDayOf(completedAt, timezone);
  let day = stats.days.find((entry) => entry.date === date);
  if (!day) {
    day = { date, runs: 0, failures: 0, bytes: 0 };
    stats.days.push(day);
    stats.days.sort((a, b) => byCodeUnits(a.date, b.date));
  }
  day.runs += 1;
  if (run.status === 'failed') day.failures += 1;
  day.bytes += run.bytes_transferred;
  const oldest = dayBefore(date, DAYS_KEPT - 1);
  stats.days = stats.days.filter((entry) => entry.date >= oldest);
  return true;
}
