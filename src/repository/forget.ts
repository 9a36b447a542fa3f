/**
 * `forget`: applies a retention policy to a repository's snapshots and removes the snapshot files
 * of those it does not keep. The rules are the retention engine's (history/retention.ts, restic's
 * `forget` semantics plus Cairn's two safeguards), so a repository job and a drive-snapshot job
 * keep the same snapshots for the same policy. Only snapshot files go: the data they alone used
 * stays until `prune`.
 */
import type { RetentionPolicy } from '../domain/retention.ts';
// The pure engine file itself, not history/index.ts: that surface pulls in the drive-snapshot
// engine and its services, which a repository engine must not load (and which may one day import us).
import { applyRetention, type KeepReason } from '../history/retention.ts';
import { filePath } from './backend.ts';
import { withLock } from './locks.ts';
import type { Repository } from './repository.ts';
import { listSnapshots } from './snapshots.ts';

export interface ForgetOptions {
  /** Only snapshots carrying this tag (a job's tag in a shared repository) are considered; others stay untouched. */
  jobTag?: string;
  /** The current time (the engine reads no clock). */
  now: Date | number;
  /** The IANA zone the day, week, month and year buckets are read in (the settings' zone). */
  timeZone: string;
  /** Decide only, remove nothing (the preview). */
  dryRun?: boolean;
}

/** What forget decided (and, unless a dry run, did); ids are snapshot ids, both lists newest first. */
export interface ForgetResult {
  keep: Array<{ id: string; time: string; reasons: KeepReason[] }>;
  remove: Array<{ id: string; time: string }>;
}

/**
 * Decides with `applyRetention` over the snapshots (of `jobTag` when given) and removes the
 * snapshot files of those not kept, under an exclusive lock as restic's `forget` takes. The newest
 * snapshot is never removed (the engine's `newest_successful` safeguard: every snapshot in a
 * repository is a finished one), and an empty policy removes nothing. A removal that fails
 * half-way leaves some snapshots removed and the rest intact: each file goes on its own, and
 * running forget again finishes the job.
 */
export async function forget(repo: Repository, policy: RetentionPolicy, options: ForgetOptions): Promise<ForgetResult> {
  return withLock(repo, true, async () => {
    const all = await listSnapshots(repo);
    const considered = options.jobTag === undefined ? all : all.filter((s) => s.tags?.includes(options.jobTag!));
    const decision = applyRetention(considered, policy, { timezone: options.timeZone, now: options.now });
    if (!options.dryRun) {
      for (const snapshot of decision.remove) await repo.backend.remove(filePath('snapshots', snapshot.id));
    }
    return {
      keep: decision.keep.map(({ snapshot, reasons }) => ({ id: snapshot.id, time: snapshot.time, reasons })),
      remove: decision.remove.map(({ id, time }) => ({ id, time })),
    };
  });
}
