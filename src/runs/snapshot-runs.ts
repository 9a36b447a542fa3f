/**
 * The work of the runs a `snapshots` job has beyond a mirror's: make a snapshot and prune by the
 * job's retention after it, prune on demand, verify a snapshot against its manifest. Each function
 * is one run's work; the run manager creates, starts and finishes the run, and a throw fails it.
 */
import { CairnError, conflict, isCairnError, notFound } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';
import { isEmptyPolicy } from '../domain/retention.ts';
import { requireSnapshotMode, type LogLevel, type RunVerify, type TransferTotals } from '../domain/runs.ts';
import type { Destination, SyncContext } from '../destinations/types.ts';
import type { EventBus } from '../events.ts';
import { applyRetention, createSnapshot, listSnapshots, pruneSnapshots, verifySnapshot, type KeepReason, type SnapshotInfo } from '../history/index.ts';

/** What each of these runs works with. */
export interface SnapshotRunContext {
  job: JobRecord;
  runId: number;
  destination: Destination;
  /** The settings' IANA zone: snapshot names and retention buckets are read in it. */
  timezone: string;
  events: EventBus;
  signal: AbortSignal;
  log(level: LogLevel, message: string): void;
}

/** What a verify run checks. */
export interface VerifyRequest {
  /** Found when the run was asked for (the API); null: the newest when the run starts (a schedule). */
  snapshot_id: string | null;
  percent: number;
}

/** How many damaged files a verify run names in its log; the rest are counted. */
export const VERIFY_NAMED_MAX = 1000;

/**
 * The job's backup folder, which holds its snapshots (made with `create`).
 * @throws CairnError 409 `NOT_A_SNAPSHOT_JOB` for a mirror job; the destination's own errors
 *   (`DRIVE_NOT_MOUNTED` …) when the folder cannot be reached.
 */
export async function snapshotFolderOf(job: JobRecord, destination: Destination, create: boolean): Promise<string> {
  requireSnapshotJob(job, destination);
  return destination.snapshotFolder!(job.destination_config, create);
}

/**
 * @throws CairnError 409 `NOT_A_SNAPSHOT_JOB` unless the job keeps history: snapshots on a
 *   destination that can hold them, or a repository (which every destination holds).
 */
export function requireSnapshotJob(job: JobRecord, destination: Destination): void {
  requireSnapshotMode(job);
  if (job.backup_mode === 'snapshots' && !destination.snapshotFolder) throw conflict('NOT_A_SNAPSHOT_JOB', `A ${destination.type} destination cannot hold snapshots`);
}

/**
 * The snapshot a verify of `job` would read: `snapshotId`, or the newest.
 * @throws CairnError 404 `SNAPSHOT_NOT_FOUND` (no such snapshot, or none yet), 409 `NOT_A_SNAPSHOT_JOB`.
 */
export async function snapshotToVerify(job: JobRecord, destination: Destination, snapshotId: string | undefined): Promise<SnapshotInfo> {
  const snapshots = await listSnapshots(await snapshotFolderOf(job, destination, false));
  const found = snapshotId === undefined ? snapshots[0] : snapshots.find((snapshot) => snapshot.id === snapshotId);
  if (found) return found;
  throw notFound('SNAPSHOT_NOT_FOUND', snapshotId === undefined ? `Job "${job.name}" has no snapshot yet` : `Job "${job.name}" has no snapshot ${snapshotId}`);
}

/**
 * A backup run of a snapshots job: a new snapshot of `sync`'s sources taken at `time`, announced
 * (`snapshot:created`), then the retention policy applied. The backup worked once the snapshot is
 * in place, so a prune that fails after it is a warning in the log, not a failed run. Returns
 * rsync's totals.
 */
export async function snapshotRun(run: SnapshotRunContext, sync: SyncContext<Record<string, unknown>>, time: Date): Promise<TransferTotals> {
  const root = await snapshotFolderOf(run.job, run.destination, true);
  const context = sync as SyncContext<{ mount_point: string; usb_uuid?: string | null }>;
  const { snapshot, totals } = await createSnapshot(context, { root, timezone: run.timezone, time, runId: run.runId });
  run.events.emit('snapshot:created', { job_id: run.job.id, snapshot });
  try {
    await pruneByRetention(run, root);
  } catch (error) {
    run.log('warning', `Snapshot ${snapshot.id} is complete, but applying the retention policy failed: ${messageOf(error)}`);
  }
  return totals;
}

/** A `prune` run: the job's retention policy applied to its snapshots now. */
export async function pruneRun(run: SnapshotRunContext): Promise<void> {
  await pruneByRetention(run, await snapshotFolderOf(run.job, run.destination, false));
}

/**
 * Applies the job's retention policy to the snapshots under `root` (an empty policy keeps
 * everything): logs which stay and by which rules, removes the others crash-safely (never the
 * newest) and announces each removed one (`snapshot:removed`), also when the prune stops half-way.
 * @throws CairnError `PRUNE_FAILED` saying what was not removed.
 */
async function pruneByRetention(run: SnapshotRunContext, root: string): Promise<void> {
  if (isEmptyPolicy(run.job.retention)) {
    run.log('info', 'No retention policy: every snapshot is kept');
    return;
  }
  const snapshots = await listSnapshots(root);
  const decision = applyRetention(snapshots, run.job.retention, { timezone: run.timezone, now: new Date() });
  for (const { snapshot, reasons } of decision.keep) run.log('info', `Keeping snapshot ${snapshot.id} (${reasons.map(describeReason).join(', ')})`);
  if (decision.remove.length === 0) {
    run.log('info', `Retention: all ${snapshots.length} snapshot(s) kept`);
    return;
  }
  try {
    const result = await pruneSnapshots(root, decision.remove, run.signal);
    announceRemoved(run, result.removed);
    for (const { id, reason } of result.skipped) {
      run.log('info', reason === 'newest' ? `Kept snapshot ${id}: the newest snapshot is never removed` : `Snapshot ${id} was already gone`);
    }
  } catch (error) {
    // Announce what did go before saying what did not.
    const left = await listSnapshots(root).catch(() => snapshots);
    const present = new Set(left.map((snapshot) => snapshot.id));
    announceRemoved(run, decision.remove.filter((snapshot) => !present.has(snapshot.id)).map((snapshot) => snapshot.id));
    const kept = decision.remove.filter((snapshot) => present.has(snapshot.id)).map((snapshot) => snapshot.id);
    throw new CairnError('unavailable', 'PRUNE_FAILED', `${messageOf(error)}; not removed: ${kept.join(', ') || 'none'}`, { cause: error });
  }
}

function announceRemoved(run: SnapshotRunContext, ids: string[]): void {
  for (const id of ids) {
    run.log('info', `Removed snapshot ${id}: no retention rule keeps it`);
    run.events.emit('snapshot:removed', { job_id: run.job.id, snapshot_id: id });
  }
}

/** A keep reason as the run log says it: `keep_daily`, `keep_monthly (oldest)`, `keep_tags "a,b"`, `newest_successful`. */
export function describeReason(reason: KeepReason): string {
  if (reason.tags !== undefined) return `${reason.rule} "${reason.tags}"`;
  return reason.oldest ? `${reason.rule} (oldest)` : reason.rule;
}

/**
 * A `verify` run: re-reads the snapshot (all of it or `percent` of its files at random) and compares
 * each file with the manifest. `report` receives the figures as they grow and at the end. Every
 * damaged file is named in the log at error level (the first VERIFY_NAMED_MAX, then the count).
 * @throws CairnError `SNAPSHOT_DAMAGED` naming how many files of which snapshot are damaged, and
 *   the first of them; `SNAPSHOT_NOT_FOUND` when the snapshot went away before the run started (or
 *   there is none); the destination's errors when the drive is not there.
 */
export async function verifyRun(run: SnapshotRunContext, request: VerifyRequest, report: (figures: RunVerify) => void): Promise<void> {
  const snapshot = await snapshotToVerify(run.job, run.destination, request.snapshot_id ?? undefined);
  const share = request.percent === 100 ? 'every file' : `${request.percent}% of its files, chosen at random`;
  run.log('info', `Verifying snapshot ${snapshot.id} (${snapshot.files} file(s)): reading ${share}`);
  const figures: RunVerify = { snapshot_id: snapshot.id, files_checked: 0, bytes_read: 0, mismatched: 0, missing: 0, unreadable: 0 };
  report(figures);
  const result = await verifySnapshot(snapshot.path, {
    percent: request.percent,
    signal: run.signal,
    progress: (checked, bytes) => report({ ...figures, files_checked: checked, bytes_read: bytes }),
  });
  const final: RunVerify = {
    ...figures,
    files_checked: result.files_checked,
    bytes_read: result.bytes_read,
    mismatched: result.mismatched.count,
    missing: result.missing.count,
    unreadable: result.unreadable.count,
  };
  report(final);
  const damaged = [
    ...result.mismatched.list().map((name) => `${name}: its size or bytes no longer match`),
    ...result.missing.list().map((name) => `${name}: missing`),
    ...result.unreadable.list().map((name) => `${name}: unreadable`),
  ];
  const total = final.mismatched + final.missing + final.unreadable;
  for (const line of damaged.slice(0, VERIFY_NAMED_MAX)) run.log('error', `Damaged: ${line}`);
  if (total > VERIFY_NAMED_MAX) run.log('error', `… and ${total - VERIFY_NAMED_MAX} more damaged file(s) not named here`);
  if (total > 0) {
    const names = [...result.mismatched.list(), ...result.missing.list(), ...result.unreadable.list()];
    const shown = names.slice(0, 5).join(', ') + (total > 5 ? ` and ${total - 5} more` : '');
    throw new CairnError('invalid', 'SNAPSHOT_DAMAGED', `Verify found ${total} damaged file(s) in snapshot ${snapshot.id}: ${shown}`);
  }
  run.log('info', `Verified snapshot ${snapshot.id}: ${final.files_checked} file(s), ${final.bytes_read} byte(s) read, all match`);
}

function messageOf(error: unknown): string {
  if (isCairnError(error)) return error.message;
  if (typeof error === 'string') return `stopped (${error})`;
  return (error as Error)?.message ?? String(error);
}
