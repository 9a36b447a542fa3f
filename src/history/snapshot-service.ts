/**
 * A snapshots job's history as the API reads and edits it: list, get, delete and browse its snapshots,
 * preview a retention policy over them, pick the snapshot a restore reads, and keep the last known
 * count and newest time per job in the store so job views show them while the drive is unplugged.
 * Snapshot ids are always looked up in the listing before anything uses them as a path.
 */
import { promises as fs } from 'node:fs';
import { CairnError, conflict, isCairnError, notFound } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';
import type { RetentionPolicy } from '../domain/retention.ts';
import type { RunRecord } from '../domain/runs.ts';
import type { Destination } from '../destinations/types.ts';
import type { EventBus } from '../events.ts';
import { pathProblem } from '../files/fs-errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotTally, SnapshotTallyRepository } from '../store/index.ts';
import { deleteSnapshot, listSnapshots, type SnapshotInfo } from './drive-snapshots/index.ts';
import { applyRetention, type KeepReason } from './retention.ts';
import { retentionPreviewOf } from './retention-preview.ts';
import { listSnapshotFolder, snapshotPathParts, type TreeEntry, type TreePage, type TreeQuery } from './snapshot-tree.ts';

/** A snapshot as the API shows it. */
export interface SnapshotView {
  id: string;
  time: string;
  run_id: number | null;
  files: number;
  total_size: number;
  bytes_added: number;
  /** Why the job's current retention keeps it; [] when that policy would remove it at the next prune. */
  kept_by: KeepReason[];
}

/** A retention preview as the API shows it: what stays (and why) and what goes, newest first. */
export interface RetentionPreviewView {
  keep: Array<{ id: string; time: string; reasons: KeepReason[] }>;
  remove: Array<{ id: string; time: string }>;
}

/** The snapshot fields of a job view. */
export interface JobSnapshotFields {
  /** Snapshots found when the job's folder was last read; null for a mirror job or a folder never read. */
  snapshot_count: number | null;
  /** Time of the newest of them; null for a mirror job, none, or a folder never read. */
  latest_snapshot_at: string | null;
}

/** A `repository` job's history, read in its restic-format repository (runs/repository-runs.ts). */
export interface RepositoryHistory {
  /** The job's snapshots, newest first. */
  list(job: JobRecord): Promise<SnapshotInfo[]>;
  /** One page of the folder `path` (parts below the snapshot's top, which lists its sources by name). */
  tree(job: JobRecord, snapshotId: string, query: { path: string[]; limit: number; offset: number }): Promise<{ entries: TreeEntry[]; total: number }>;
  /** Forgets one snapshot (its data stays until a prune). */
  forget(job: JobRecord, snapshotId: string): Promise<void>;
}

export interface SnapshotServiceDependencies {
  /** The job with this id; throws 404 JOB_NOT_FOUND. */
  jobOf(id: number): JobRecord;
  /** Every job (to refresh the counts of snapshots jobs at start). */
  allJobs(): readonly JobRecord[];
  destinationOf(type: string): Destination;
  /** The settings' IANA zone: retention buckets are read in it. */
  timezone(): string;
  /** The job's pending or running run, if any. */
  activeRunOf(jobId: number): RunRecord | undefined;
  events: EventBus;
  tallies: SnapshotTallyRepository;
  log: Logger;
  /** Reads and edits repository jobs' history (absent: such jobs answer 503 REPOSITORY_UNAVAILABLE). */
  repositories?: RepositoryHistory;
}

export class SnapshotService {
  /** Per job, the number of the latest listing whose result is stored: an older listing never overwrites a newer one. */
  private readonly recorded = new Map<number, number>();
  private listings = 0;
  /** Per job, the delete under way, so two deletes of one job never race on the same folder. */
  private readonly deleting = new Map<number, Promise<unknown>>();

  constructor(private readonly deps: SnapshotServiceDependencies) {}

  /**
   * Follows snapshots made and removed by runs (the counts in the store), and reads each snapshots
   * job's folder once in the background (a drive that is away keeps its last known counts).
   * Returns the function that stops following and waits for the reads under way.
   */
  start(): () => Promise<void> {
    const pending = new Set<Promise<void>>();
    const track = (work: Promise<void>) => {
      pending.add(work);
      void work.finally(() => pending.delete(work));
    };
    // A drive may be unmounted right after its run: then the event itself moves the known counts.
    const unsubscribe = [
      this.deps.events.on('snapshot:created', ({ job_id, snapshot }) =>
        track(this.refresh(job_id, (known) => ({ count: known.count + 1, latest: latestOf(known.latest_at, snapshot.time) }))),
      ),
      this.deps.events.on('snapshot:removed', ({ job_id }) =>
        track(this.refresh(job_id, (known) => ({ count: Math.max(0, known.count - 1), latest: known.latest_at }))),
      ),
    ];
    track(
      (async () => {
        for (const job of this.deps.allJobs()) if (job.backup_mode !== 'mirror') await this.refresh(job.id);
      })(),
    );
    return async () => {
      unsubscribe.forEach((stop) => stop());
      await Promise.allSettled([...pending]);
    };
  }

  /** The job's snapshots, newest first, each with what keeps it under the job's current retention. */
  async list(jobId: number): Promise<{ snapshots: SnapshotView[]; total: number }> {
    const job = this.snapshotsJob(jobId);
    const snapshots = await this.snapshotsOf(job);
    const keptBy = this.keptByOf(snapshots, job.retention);
    return { snapshots: snapshots.map((snapshot) => viewOf(snapshot, keptBy.get(snapshot.id) ?? [])), total: snapshots.length };
  }

  /** One snapshot; 404 SNAPSHOT_NOT_FOUND when the job's folder holds no complete snapshot by that id. */
  async get(jobId: number, snapshotId: string): Promise<SnapshotView> {
    const job = this.snapshotsJob(jobId);
    const snapshots = await this.snapshotsOf(job);
    const snapshot = findIn(snapshots, snapshotId);
    return viewOf(snapshot, this.keptByOf(snapshots, job.retention).get(snapshot.id) ?? []);
  }

  /**
   * Deletes one snapshot crash-safely (see deleteSnapshot) and announces `snapshot:removed`. The owner
   * may delete any snapshot, the newest too. 409 RUN_IN_PROGRESS while the job has a run: a run may
   * be linking against it or restoring from it.
   */
  async remove(jobId: number, snapshotId: string): Promise<void> {
    const job = this.snapshotsJob(jobId);
    const active = this.deps.activeRunOf(job.id);
    if (active) throw conflict('RUN_IN_PROGRESS', `The job has a ${active.status} run (${active.id}); wait for it or cancel it first`, { details: { run_id: active.id } });
    const previous = this.deleting.get(job.id) ?? Promise.resolve();
    const removal = previous.catch(() => undefined).then(async () => {
      if (job.backup_mode === 'repository') {
        snapshotId = findIn(await this.snapshotsOf(job), snapshotId).id;
        await this.repositoriesOf().forget(job, snapshotId);
        return;
      }
      const folder = await this.folderOf(job);
      await deleteSnapshot(folder, snapshotId).catch(asDriveProblem(`snapshot ${snapshotId}`));
    });
    this.deleting.set(job.id, removal);
    try {
      await removal;
    } finally {
      if (this.deleting.get(job.id) === removal) this.deleting.delete(job.id);
    }
    // Announced first: the listeners' fallback (count - 1) then yields to this listing when it succeeds.
    this.deps.events.emit('snapshot:removed', { job_id: job.id, snapshot_id: snapshotId });
    await this.refresh(job.id);
  }

  /** One page of a folder inside a snapshot (see listSnapshotFolder). */
  async tree(jobId: number, snapshotId: string, query: TreeQuery): Promise<TreePage> {
    const job = this.snapshotsJob(jobId);
    if (job.backup_mode === 'repository') {
      const parts = snapshotPathParts(query.path);
      const snapshot = findIn(await this.snapshotsOf(job), snapshotId);
      const page = await this.repositoriesOf().tree(job, snapshot.id, { path: parts, limit: query.limit, offset: query.offset });
      return { path: parts.join('/'), entries: page.entries, total: page.total, limit: query.limit, offset: query.offset };
    }
    const snapshot = findIn(await this.snapshotsOf(job), snapshotId);
    const top = await fs.realpath(snapshot.path).catch(asDriveProblem(`snapshot ${snapshot.id}`));
    return listSnapshotFolder(top, query);
  }

  /** What `policy` (the job's stored one when null) would keep and remove now; changes nothing. */
  async preview(jobId: number, policy: RetentionPolicy | null): Promise<RetentionPreviewView> {
    const job = this.snapshotsJob(jobId);
    const snapshots = await this.snapshotsOf(job);
    const times = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot.time]));
    const preview = retentionPreviewOf(applyRetention(snapshots, policy ?? job.retention, this.retentionContext()));
    return {
      keep: preview.keep.map(({ id, reasons }) => ({ id: String(id), time: times.get(String(id))!, reasons })),
      remove: preview.remove.map(({ id }) => ({ id: String(id), time: times.get(String(id))! })),
    };
  }

  /**
   * The snapshot a restore of this job reads: null for a mirror job asked for none; for a snapshots
   * job the one named, else the newest.
   * @throws CairnError 409 NOT_A_SNAPSHOT_JOB (an id for a mirror job), 404 SNAPSHOT_NOT_FOUND.
   */
  async snapshotForRestore(job: JobRecord, snapshotId: string | null): Promise<string | null> {
    if (job.backup_mode === 'mirror' && snapshotId === null) return null;
    const snapshots = await this.snapshotsOf(this.snapshotsJob(job.id));
    if (snapshotId !== null) return findIn(snapshots, snapshotId).id;
    if (snapshots.length === 0) throw notFound('SNAPSHOT_NOT_FOUND', `Job "${job.name}" has no snapshot yet; run it first`);
    return snapshots[0].id;
  }

  /**
   * The snapshot fields of a job view, from the store: never reads the drive. Counts read from
   * another folder (the job was pointed elsewhere since) are not shown.
   */
  fieldsOf(job: JobRecord): JobSnapshotFields {
    const tally = job.backup_mode !== 'mirror' ? this.deps.tallies.of(job.id) : undefined;
    if (!tally || tally.folder !== this.identityOf(job)) return { snapshot_count: null, latest_snapshot_at: null };
    return { snapshot_count: tally.count, latest_snapshot_at: tally.latest_at };
  }

  /**
   * Reads the job's folder again to update its stored counts. When it cannot be read (the drive is
   * away), the last known counts stay, moved by `otherwise` when given (an event said what changed).
   */
  private async refresh(jobId: number, otherwise?: (known: SnapshotTally) => { count: number; latest: string | null }): Promise<void> {
    const listing = this.listings + 1;
    try {
      const job = this.deps.jobOf(jobId);
      if (job.backup_mode !== 'mirror') await this.snapshotsOf(job);
    } catch (error) {
      if (!isCairnError(error)) this.deps.log.warn('could not read the snapshots of a job', { job_id: jobId, error: String(error) });
      const known = this.deps.tallies.of(jobId);
      // Only when no listing since has stored what is really there.
      if (otherwise && known && (this.recorded.get(jobId) ?? 0) < listing) {
        const moved = otherwise(known);
        await this.deps.tallies.record(jobId, known.folder, moved.count, moved.latest).catch(() => undefined);
      }
    }
  }

  /** The job, refused 409 NOT_A_SNAPSHOT_JOB unless it keeps snapshots (in folders or a repository). */
  private snapshotsJob(jobId: number): JobRecord {
    const job = this.deps.jobOf(jobId);
    if (job.backup_mode === 'mirror') {
      throw conflict('NOT_A_SNAPSHOT_JOB', 'This job keeps a mirror; set backup_mode to snapshots to keep history');
    }
    return job;
  }

  /** The job's backup folder (the drive checked: 503 DRIVE_NOT_MOUNTED when it is away). */
  private async folderOf(job: JobRecord): Promise<string> {
    const destination = this.deps.destinationOf(job.destination_type);
    if (!destination.snapshotFolder) throw conflict('NOT_A_SNAPSHOT_JOB', `A ${job.destination_type} destination keeps no snapshots`);
    return destination.snapshotFolder(job.destination_config, false);
  }

  private repositoriesOf(): RepositoryHistory {
    if (!this.deps.repositories) throw new CairnError('unavailable', 'REPOSITORY_UNAVAILABLE', 'This daemon was built without the repository engine');
    return this.deps.repositories;
  }

  /** The job's complete snapshots (of its folder or repository), newest first; stores their count and newest time for the job views. */
  private async snapshotsOf(job: JobRecord): Promise<SnapshotInfo[]> {
    const listing = (this.listings += 1);
    const snapshots =
      job.backup_mode === 'repository'
        ? await this.repositoriesOf().list(job)
        : await listSnapshots(await this.folderOf(job)).catch(asDriveProblem('the backup folder'));
    if ((this.recorded.get(job.id) ?? 0) < listing) {
      this.recorded.set(job.id, listing);
      await this.deps.tallies.record(job.id, this.identityOf(job), snapshots.length, snapshots[0]?.time ?? null);
    }
    return snapshots;
  }

  /** Names the job's backup folder (type and path) without reading it. */
  private identityOf(job: JobRecord): string {
    return this.deps.destinationOf(job.destination_type).identity(job.destination_config);
  }

  private keptByOf(snapshots: SnapshotInfo[], policy: RetentionPolicy): Map<string, KeepReason[]> {
    const decision = applyRetention(snapshots, policy, this.retentionContext());
    return new Map(decision.keep.map(({ snapshot, reasons }) => [snapshot.id, reasons]));
  }

  private retentionContext() {
    return { timezone: this.deps.timezone(), now: Date.now() };
  }
}

/** The later of two ISO-8601 UTC times (null: none). */
function latestOf(known: string | null, time: string): string {
  return known === null || Date.parse(time) > Date.parse(known) ? time : known;
}

/**
 * The snapshot named `snapshotId`: its exact id, or (a repository's ids are restic's 64 hex digits)
 * a prefix of at least 8 of them that names one only, as restic's short ids do.
 */
function findIn(snapshots: SnapshotInfo[], snapshotId: string): SnapshotInfo {
  const prefixed = /^[0-9a-f]{8,63}$/.test(snapshotId) ? snapshots.filter((info) => /^[0-9a-f]{64}$/.test(info.id) && info.id.startsWith(snapshotId)) : [];
  const snapshot = snapshots.find((info) => info.id === snapshotId) ?? (prefixed.length === 1 ? prefixed[0] : undefined);
  if (!snapshot) throw notFound('SNAPSHOT_NOT_FOUND', `There is no snapshot ${JSON.stringify(snapshotId)} in this job's backup folder`);
  return snapshot;
}

/**
 * The one serializer of a snapshot's own fields (routes and the status socket alike): picks each
 * field, so the folder's path on the drive stays inside.
 */
export function snapshotFieldsOf(snapshot: SnapshotInfo): Omit<SnapshotView, 'kept_by'> {
  return {
    id: snapshot.id,
    time: snapshot.time,
    run_id: snapshot.run_id,
    files: snapshot.files,
    total_size: snapshot.total_size,
    bytes_added: snapshot.bytes_added,
  };
}

function viewOf(snapshot: SnapshotInfo, keptBy: KeepReason[]): SnapshotView {
  return { ...snapshotFieldsOf(snapshot), kept_by: keptBy.map((reason) => ({ ...reason })) };
}

/** A filesystem failure on the drive as a 4xx naming what was read (CairnErrors pass through). */
function asDriveProblem(where: string) {
  return (error: unknown): never => {
    throw isCairnError(error) ? error : pathProblem(where, error);
  };
}
