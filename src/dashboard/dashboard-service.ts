/**
 * What the phone's home screen, the health check and the metrics say about the jobs, drives and
 * destinations: one place computes each job's state, so the three never disagree.
 */
import type { Drive } from '../devices/index.ts';
import type { JobRecord } from '../domain/jobs.ts';
import type { DailyRunStats, FinishedRunSummary, JobRunStats } from '../domain/run-stats.ts';
import type { RunRecord } from '../domain/runs.ts';
import { drivesWithSpace, fullness, type DriveSpace } from './drive-space.ts';
import type { FreeSpaceCache, SpaceReading } from './free-space.ts';
import type { NextRunOf } from './next-runs.ts';
import type { OverdueRule } from './overdue.ts';
import { within } from './within.ts';

/** A job's state on the home screen, in no particular order (see `JobStatus.state` for precedence). */
export const JOB_STATES = ['ok', 'failing', 'overdue', 'running', 'never_run'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Days in the dashboard's series. */
export const SERIES_DAYS = 30;
/** A drive or destination this full (or fuller) makes the daemon `degraded`. */
export const NEARLY_FULL = 0.9;
/** How long health waits for the drive listing (a hung lsblk may take 15 s) before judging without drives. */
export const HEALTH_DRIVES_WAIT_MS = 1000;

/** One job on the home screen. */
export interface JobStatus {
  job_id: number;
  name: string;
  enabled: boolean;
  destination_type: string;
  /**
   * `running` (a run is pending or running) over `failing` (the last finished backup, cancelled ones
   * aside, failed) over `overdue` (no success within the job's threshold) over `never_run` (no backup
   * has completed or failed yet) over `ok`.
   */
  state: JobState;
  /** Overdue whatever the state shows first (a failing job can be overdue too). */
  overdue: boolean;
  /** How long without a success makes it overdue (ms); null: never. */
  overdue_after_ms: number | null;
  consecutive_failures: number;
  last_success: FinishedRunSummary | null;
  /** The last finished backup run, whatever its outcome. */
  last_run: FinishedRunSummary | null;
  /** The pending or running run, if any (a restore too). */
  active_run: { id: number; status: RunRecord['status']; trigger: RunRecord['trigger']; started_at: string | null } | null;
  /** The earliest next run of the job's enabled schedules; null when none (or the job is disabled). */
  next_run: string | null;
  destination_space: SpaceReading;
  /** Finished backup runs by outcome, ever (not lowered by pruning). */
  runs: JobRunStats['runs'];
}

/** `GET /dashboard`: jobs, drives, totals and the daily series, all as of `generated_at`. */
export interface Dashboard {
  generated_at: string;
  jobs: JobStatus[];
  drives: DriveSpace[];
  totals: {
    jobs: number;
    by_state: Record<JobState, number>;
    runs_30d: number;
    failures_30d: number;
    bytes_30d: number;
  };
  /** The last 30 days (in the settings' time zone), oldest first, today last. */
  series: DailyRunStats[];
}

/** Why the daemon is degraded. */
export interface HealthReason {
  code: 'JOB_FAILING' | 'JOB_OVERDUE' | 'DRIVE_NEARLY_FULL' | 'DESTINATION_NEARLY_FULL' | 'CLOCK_NOT_SYNCHRONIZED';
  message: string;
  job_id?: number;
  uuid?: string;
}

/** The health verdict: `degraded` exactly when there is a reason. */
export interface Health {
  status: 'ok' | 'degraded';
  reasons: HealthReason[];
}

/** What the dashboard reads; it changes nothing. */
export interface DashboardDependencies {
  jobs: { all(): readonly JobRecord[] };
  /** Runs as stored: the pending and running ones. */
  runs: { inStatus(...statuses: RunRecord['status'][]): RunRecord[] };
  stats: { ofJob(jobId: number): JobRunStats | null; lastDays(days: number, now?: Date): DailyRunStats[] };
  /** The job's earliest next scheduled run (ISO) after `now`, or null. */
  nextRunOf: NextRunOf;
  overdueAfterMs: OverdueRule;
  space: FreeSpaceCache;
  /** The shared, briefly cached drive listing (devices/DriveListings). */
  drives: { listDrives(): Promise<Drive[]> };
  /** The filesystem UUID of the removable drive the job backs up to, or null (from its destination). */
  driveUuidOf(job: JobRecord): string | null;
  /** Whether scheduled runs may trust the wall clock (schedules/clock-sync.ts; default: yes). */
  clock?: { synchronized(): boolean };
  now?: () => Date;
}

/** Computes job states once for the dashboard, health and metrics; read-only. */
export class DashboardService {
  constructor(private readonly deps: DashboardDependencies) {}

  /** The home screen: every job, drive, the totals and the 30-day series. Destination space may be read (cached per job). */
  async dashboard(): Promise<Dashboard> {
    const now = this.now();
    const [jobs, drives] = await Promise.all([this.jobStatuses(now, 'full'), this.drives()]);
    const series = this.deps.stats.lastDays(SERIES_DAYS, now);
    const by_state = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    for (const job of jobs) by_state[job.state] += 1;
    return {
      generated_at: now.toISOString(),
      jobs,
      drives,
      totals: {
        jobs: jobs.length,
        by_state,
        runs_30d: sum(series, 'runs'),
        failures_30d: sum(series, 'failures'),
        bytes_30d: sum(series, 'bytes'),
      },
      series,
    };
  }

  /**
   * `degraded` when an enabled job fails or is overdue, or its destination or the drive it backs up
   * to is 90% full or more, or scheduled runs wait for the clock to be synchronised. Reads no destination (only cached space) and only the shared drive listing, waited for at
   * most a second, so an anonymous caller cannot make the daemon open connections or hang on lsblk.
   */
  async health(): Promise<Health> {
    const now = this.now();
    const [jobs, drives] = await Promise.all([this.jobStatuses(now, 'cheap'), within(this.drives(), HEALTH_DRIVES_WAIT_MS, [])]);
    const reasons: HealthReason[] = [];
    if (!(this.deps.clock?.synchronized() ?? true)) {
      reasons.push({ code: 'CLOCK_NOT_SYNCHRONIZED', message: 'The system clock is not synchronised yet (no network time): scheduled runs wait until it is' });
    }
    for (const job of jobs.filter((entry) => entry.enabled)) {
      if (job.consecutive_failures > 0) {
        const failures = job.consecutive_failures === 1 ? 'its last backup' : `its last ${job.consecutive_failures} backups`;
        reasons.push({ code: 'JOB_FAILING', job_id: job.job_id, message: `Job "${job.name}" failed ${failures}: ${job.last_run?.error_message ?? 'no reason given'}` });
      }
      if (job.overdue) {
        const since = job.last_success ? `since ${job.last_success.completed_at}` : 'yet';
        reasons.push({ code: 'JOB_OVERDUE', job_id: job.job_id, message: `Job "${job.name}" is overdue: no successful backup ${since}` });
      }
      const used = fullness(job.destination_space.free_bytes, job.destination_space.total_bytes);
      if (used !== null && used >= NEARLY_FULL) {
        reasons.push({ code: 'DESTINATION_NEARLY_FULL', job_id: job.job_id, message: `The destination of job "${job.name}" is ${Math.floor(used * 100)}% full` });
      }
    }
    // Only drives Cairn backs up to: a full stick plugged in for something else is not Cairn's business.
    const backupDrives = new Set(this.deps.jobs.all().filter((job) => job.enabled).map((job) => this.deps.driveUuidOf(job)?.toLowerCase()));
    for (const drive of drives.filter((entry) => backupDrives.has(entry.uuid.toLowerCase()))) {
      const used = fullness(drive.free_bytes, drive.filesystem_bytes);
      if (used !== null && used >= NEARLY_FULL) {
        reasons.push({ code: 'DRIVE_NEARLY_FULL', uuid: drive.uuid, message: `Drive ${drive.label ?? drive.name} (${drive.uuid}) is ${Math.floor(used * 100)}% full` });
      }
    }
    return { status: reasons.length > 0 ? 'degraded' : 'ok', reasons };
  }

  /** Every job's status with the cached destination space only and no next run (for metrics). */
  jobsNow(): Promise<JobStatus[]> {
    return this.jobStatuses(this.now(), 'cheap');
  }

  /** The attached drives with their free space (shared listing). */
  async drives(): Promise<DriveSpace[]> {
    // No drive listing (lsblk missing or hung) leaves the rest of the answer standing.
    const drives = await this.deps.drives.listDrives().catch(() => [] as Drive[]);
    return drivesWithSpace(drives);
  }

  /**
   * `full` (the dashboard): destination space read when the cache is old, and next runs computed.
   * `cheap` (health, metrics): cached space only and no next runs, since those are asked often.
   */
  private async jobStatuses(now: Date, detail: 'full' | 'cheap'): Promise<JobStatus[]> {
    const active = new Map(this.deps.runs.inStatus('pending', 'running').map((run) => [run.job_id, run]));
    return Promise.all(
      this.deps.jobs.all().map(async (job) => {
        const stats = this.deps.stats.ofJob(job.id);
        const run = active.get(job.id);
        const overdueAfter = job.enabled ? this.deps.overdueAfterMs(job, now) : null;
        // A job that never succeeded is late from the day it was made.
        const since = Date.parse(stats?.last_success?.completed_at ?? job.created_at);
        const overdue = overdueAfter !== null && now.getTime() - since > overdueAfter;
        const consecutive = stats?.consecutive_failures ?? 0;
        const decided = stats ? stats.runs.completed + stats.runs.failed > 0 : false;
        const state: JobState = run ? 'running' : consecutive > 0 ? 'failing' : overdue ? 'overdue' : decided ? 'ok' : 'never_run';
        return {
          job_id: job.id,
          name: job.name,
          enabled: job.enabled,
          destination_type: job.destination_type,
          state,
          overdue,
          overdue_after_ms: overdueAfter,
          consecutive_failures: consecutive,
          last_success: stats?.last_success ?? null,
          last_run: stats?.last_run ?? null,
          active_run: run ? { id: run.id, status: run.status, trigger: run.trigger, started_at: run.started_at } : null,
          next_run: job.enabled && detail === 'full' ? this.deps.nextRunOf(job.id, now) : null,
          destination_space: detail === 'full' ? await this.deps.space.get(job) : this.deps.space.cached(job),
          runs: stats?.runs ?? { completed: 0, failed: 0, cancelled: 0 },
        };
      }),
    );
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

function sum(series: DailyRunStats[], field: 'runs' | 'failures' | 'bytes'): number {
  return series.reduce((total, day) => total + day[field], 0);
}
