/**
 * The complete snapshots of a job's backup folder. A folder counts only when it has a snapshot's
 * name and the summary written just before it was renamed into place; work folders (`.incomplete-…`),
 * folders being deleted (`.deleting-…`) and anything else the owner keeps there are never listed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compareSnapshotNames, snapshotTimeOf } from './names.ts';

/** The summary at a snapshot's top, written when it was made. */
export const SUMMARY_NAME = '.cairn-snapshot.json';

/** One complete snapshot. */
export interface SnapshotInfo {
  /** Its folder name, e.g. `2026-12-05T031500+0100`; unique in the backup folder. */
  id: string;
  /** When it was taken, ISO-8601 UTC. */
  time: string;
  /** The run that made it, when it was made by one. */
  run_id: number | null;
  /** Regular files in it. */
  files: number;
  /** Their sizes added up, as if nothing were shared. */
  total_size: number;
  /** Sizes of its files that were not hard links into the snapshot before it when it was made. */
  bytes_added: number;
  /** The snapshot it was linked against when made (it may since have been pruned). */
  previous: string | null;
  /** Absolute path of its folder. */
  path: string;
}

/** What the summary file holds (SnapshotInfo without the path, which is where it is found). */
export type SnapshotSummary = Omit<SnapshotInfo, 'path'>;

/** The complete snapshots under `root`, newest first; [] when `root` does not exist. */
export async function listSnapshots(root: string): Promise<SnapshotInfo[]> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const names = entries.filter((entry) => entry.isDirectory() && snapshotTimeOf(entry.name) !== null).map((entry) => entry.name);
  const found = await Promise.all(names.map((name) => readSummary(root, name)));
  return found.filter((info): info is SnapshotInfo => info !== null).sort((a, b) => compareSnapshotNames(b.id, a.id));
}

async function readSummary(root: string, name: string): Promise<SnapshotInfo | null> {
  const text = await fs.readFile(path.join(root, name, SUMMARY_NAME), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const summary = JSON.parse(text) as SnapshotSummary;
    return { ...summary, id: name, path: path.join(root, name) };
  } catch {
    return null; // not Cairn's, or damaged: not a snapshot anyone can rely on
  }
}
