/** Jobs and runs → rows of the dashboard table. */
import type { Provider, RunProgress } from '../wire.ts';
import { addressSummary } from './address.ts';
import { formatAge, formatBytes, formatIn, progressBar } from './format.ts';

export interface JobSummary {
  id: number;
  name: string;
  enabled: boolean;
  destination_type: string;
  destination_config: Record<string, unknown>;
  last_run: { id: number; status: string; started_at: string | null; completed_at: string | null } | null;
  schedules: Array<{ next_run: string | null }>;
}

/** Live state of a running job, from the status socket. */
export interface LiveRun {
  run_id: number;
  files_transferred: number;
  bytes_transferred: number;
  /** Bytes per second over the last updates. */
  rate: number;
  /** The daemon's progress against the run's plan, when it sent one. */
  progress?: RunProgress | null;
}

export const JOB_COLUMNS = ['Name', 'Destination', 'Status', 'Last run', 'Next run'];

/** Where a job writes, as its address (read from the providers' formats). */
export function describeDestination(job: JobSummary, providers: readonly Provider[]): string {
  return addressSummary(providers, job.destination_type, job.destination_config);
}

/**
 * The status cell: while running, a progress bar with the percent, bytes of the total (or sent so
 * far, when only the share is known), rate and time left when the daemon knows the percent; else an activity bar (it moves rather than fills) with files,
 * bytes and rate. Not running: the last run's outcome.
 */
export function statusOf(job: JobSummary, live: LiveRun | undefined, tick = 0): string {
  const progress = live?.progress;
  if (live && progress && progress.percent !== null) {
    const rate = progress.rate_bytes_per_s ?? live.rate;
    const left = progress.eta_seconds === null ? '' : ` ${formatSeconds(progress.eta_seconds)} left`;
    // A local run without a count knows its share of the work but not what it will send: bytes so far alone.
    const bytes = progress.bytes_total === null ? `${formatBytes(progress.bytes_done)} sent` : `${formatBytes(progress.bytes_done)}/${formatBytes(progress.bytes_total)}`;
    return `${progressBar(progress.percent / 100, 5)} ${Math.floor(progress.percent)}% ${bytes} ${formatBytes(rate)}/s${left}`;
  }
  if (live) return `${progressBar(null, 5, tick)} running ${live.files_transferred} files ${formatBytes(live.bytes_transferred)} ${formatBytes(live.rate)}/s`;
  if (!job.enabled) return 'disabled';
  return job.last_run?.status ?? 'never run';
}

/** A time left: `45s`, `12m`, `3h 20m`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h ${Math.round((seconds % 3600) / 60)}m`;
}

/** The earliest next run of the job's schedules. */
export function nextRunOf(job: JobSummary): string | null {
  const times = job.schedules.map((schedule) => schedule.next_run).filter((time): time is string => time !== null);
  return times.sort()[0] ?? null;
}

/** One table row per job. */
export function jobRows(jobs: JobSummary[], live: Map<number, LiveRun>, providers: readonly Provider[], now = Date.now(), tick = 0): string[][] {
  return jobs.map((job) => [
    job.name,
    describeDestination(job, providers),
    statusOf(job, live.get(job.id), tick),
    formatAge(job.last_run?.completed_at ?? job.last_run?.started_at ?? null, now),
    formatIn(nextRunOf(job), now),
  ]);
}

/** A status worth a warning colour: the user should look. */
export function isProblem(status: string): boolean {
  return status.startsWith('failed') || status.startsWith('cancelled');
}
