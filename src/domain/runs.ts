/** Runs and their log entries, as the contract names them. */
import Joi from 'joi';
import { conflict } from './errors.ts';

export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * What started a run: the API or CLI, a schedule, a USB drive being plugged in, or a restore; a
 * `verify` re-reads a snapshot (from the API or a schedule with `action: "verify"`, whose id is then
 * the run's schedule_id), a `prune` applies the job's retention policy on demand.
 */
export const RUN_TRIGGERS = ['manual', 'scheduled', 'device', 'restore', 'verify', 'prune'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * Triggers of runs that back up (copy sources to the destination): only these count as a job's
 * successes and failures in its statistics, the dashboard and the metrics. A restore that worked is
 * not a backup, and one that failed does not mean the backups fail.
 */
export const BACKUP_TRIGGERS: readonly RunTrigger[] = ['manual', 'scheduled', 'device'];

/** True when the run is a backup (see BACKUP_TRIGGERS). */
export function isBackupRun(run: Pick<RunRecord, 'trigger'>): boolean {
  return BACKUP_TRIGGERS.includes(run.trigger);
}

export const LOG_LEVELS = ['info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Counters a run reports while it works and when it ends; same meaning for every destination. */
export interface TransferTotals {
  /** Regular files written (or, on a dry run, that would be written) to the destination. */
  files_transferred: number;
  /** Bytes of file content sent to the destination. */
  bytes_transferred: number;
  /** Files removed from the destination because they are no longer in the source. */
  files_deleted: number;
}

/**
 * How far a running transfer is, against what it will send (its plan, known before copying: rsync's
 * counting pass, the remote engine's comparison), or, without a plan, against the share of its work
 * the destination says it has done (local: rsync's progress through its file list; the totals are
 * then known only at the end). Fields that are not known (no plan yet, a restore, no rate measured
 * yet) are null. `percent` never goes backwards within one attempt.
 */
export interface RunProgress {
  /** 0–100, one decimal, by bytes (by files when nothing but empty files is sent) or by the share of work done; null without either. */
  percent: number | null;
  bytes_done: number;
  bytes_total: number | null;
  files_done: number;
  files_total: number | null;
  /** Bytes per second over the last seconds; null until measured. */
  rate_bytes_per_s: number | null;
  /** Seconds left at that rate; null when unknown. */
  eta_seconds: number | null;
}

/** What an attempt will send, told by the destination before it copies (see SyncContext.plan). */
export interface TransferPlan {
  files: number;
  bytes: number;
}

export interface LogEntry {
  /** 1-based position in the run's log; stable, so clients can page and resume. */
  id: number;
  run_id: number;
  timestamp: string;
  level: LogLevel;
  message: string;
}

/** The failure message of a run whose drive went away under it. */
export const DRIVE_REMOVED_MESSAGE = 'Drive removed during the run; the backup on it is incomplete';

export function isFinished(status: RunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export interface RunRecord extends TransferTotals {
  id: number;
  job_id: number;
  /** The job's name when the run was made, so history reads right after a rename. */
  job_name: string;
  status: RunStatus;
  trigger: RunTrigger;
  schedule_id: number | null;
  /** When the run was requested (it may wait `pending` for a free slot). */
  created_at: string;
  /** When it began running; null while pending. */
  started_at: string | null;
  completed_at: string | null;
  /** Why it failed or was cancelled; null when it completed. */
  error_message: string | null;
  /** For a `verify` run: what it checked and found so far (final once the run ended); null otherwise. */
  verify: RunVerify | null;
  /** A backup's or restore's progress against its plan (the last one once it ended); null before it transfers, and for verify and prune runs. Absent on older records. */
  progress?: RunProgress | null;
}

/** The figures of a verify run. */
export interface RunVerify {
  snapshot_id: string;
  /** Files read and compared with the snapshot's manifest. */
  files_checked: number;
  bytes_read: number;
  /** Files whose size or bytes differ from the manifest. */
  mismatched: number;
  /** Files in the manifest that are gone. */
  missing: number;
  /** Files that could not be read (I/O errors). */
  unreadable: number;
}

/** What a verify run checks: one snapshot, all of it or a random share of its files. */
export interface VerifyInput {
  /** The snapshot's id; the newest complete snapshot when absent. */
  snapshot_id?: string;
  /** Share of the files to read, 1–100 (default 100). */
  percent: number;
}

/** Body of `POST /jobs/:id/verify`; `{}` means the newest snapshot, all of it. */
export const verifyInputSchema = Joi.object({
  snapshot_id: Joi.string().min(1).max(200),
  percent: Joi.number().min(1).max(100).default(100),
});

/** The summary of a job's latest run, as `last_run` in a job. */
export type RunSummary = Pick<RunRecord, 'id' | 'status' | 'started_at' | 'completed_at'>;

/**
 * Refuses what only a job that keeps history can do (verify, prune, a verify schedule).
 * @throws CairnError 409 `NOT_A_SNAPSHOT_JOB` for a job with `backup_mode: "mirror"`.
 */
export function requireSnapshotMode(job: { backup_mode: string }): void {
  if (job.backup_mode === 'mirror') throw conflict('NOT_A_SNAPSHOT_JOB', 'this job keeps a mirror; set backup_mode to snapshots to keep history');
}
