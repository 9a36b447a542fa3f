/**
 * Removing snapshots without ever leaving a half-deleted one that looks complete: the folder is first
 * renamed to `.deleting-<id>` (one atomic rename, made durable), then removed. A killed delete leaves
 * only that hidden folder, which finishLeftovers removes at the next run.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { notFound } from '../../domain/errors.ts';
import { syncDirectory } from '../../store/index.ts';
import { DELETING_PREFIX, INCOMPLETE_PREFIX } from './names.ts';
import { listSnapshots, type SnapshotInfo } from './snapshot-list.ts';

/**
 * Deletes the complete snapshot `id` under `root`.
 * @throws CairnError `SNAPSHOT_NOT_FOUND` when no complete snapshot has that id (ids are checked
 *   against the listing, so no id can name a path outside `root`).
 */
export async function deleteSnapshot(root: string, id: string): Promise<void> {
  const snapshot = (await listSnapshots(root)).find((info) => info.id === id);
  if (!snapshot) throw notFound('SNAPSHOT_NOT_FOUND', `There is no snapshot ${id}`);
  await removeFolder(root, snapshot.id);
}

/** Hides `name` under a deleting name, then removes it. */
async function removeFolder(root: string, name: string): Promise<void> {
  const hidden = path.join(root, `${DELETING_PREFIX}${name}`);
  await fs.rm(hidden, { recursive: true, force: true }); // an earlier delete of the same name that was killed
  await fs.rename(path.join(root, name), hidden);
  await syncDirectory(root);
  await fs.rm(hidden, { recursive: true, force: true });
}

/**
 * Finishes what a killed run left: removes every `.deleting-…` folder and, with `discardWork`,
 * every `.incomplete-…` work folder except `keepWork` (the one a new snapshot resumes in). Only
 * the job's own snapshot run may discard work folders (a prune must not take a running one's).
 * Returns the names removed.
 */
export async function finishLeftovers(root: string, discardWork: boolean, keepWork: string | null = null): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(root).catch(() => [] as string[])) {
    if (name.startsWith(DELETING_PREFIX)) {
      await fs.rm(path.join(root, name), { recursive: true, force: true });
      removed.push(name);
    } else if (discardWork && name.startsWith(INCOMPLETE_PREFIX) && name !== keepWork) {
      await removeFolder(root, name);
      removed.push(name);
    }
  }
  return removed;
}

/** What prune did. */
export interface PruneResult {
  removed: string[];
  /** Ids asked for that were kept: the newest snapshot, or ones no longer there. */
  skipped: Array<{ id: string; reason: 'newest' | 'not_found' }>;
}

/**
 * Removes the snapshots a retention decision (history/retention.ts `applyRetention` over
 * listSnapshots) put in `remove`, one crash-safe delete at a time, oldest first. The newest complete
 * snapshot is never removed, whatever the decision says (every listed snapshot is a successful one).
 */
export async function pruneSnapshots(root: string, remove: ReadonlyArray<Pick<SnapshotInfo, 'id'>>, signal?: AbortSignal): Promise<PruneResult> {
  await finishLeftovers(root, false);
  const current = await listSnapshots(root);
  const newest = current[0]?.id;
  const present = new Set(current.map((info) => info.id));
  const result: PruneResult = { removed: [], skipped: [] };
  for (const { id } of [...current].reverse().filter((info) => remove.some((wanted) => wanted.id === info.id))) {
    signal?.throwIfAborted();
    if (id === newest) result.skipped.push({ id, reason: 'newest' });
    else {
      await removeFolder(root, id);
      result.removed.push(id);
    }
  }
  for (const { id } of remove) if (!present.has(id)) result.skipped.push({ id, reason: 'not_found' });
  return result;
}

export type { SnapshotInfo };
