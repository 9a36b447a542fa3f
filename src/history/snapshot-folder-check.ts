/**
 * The check made when a `snapshots` job is saved: a backup folder that can be reached now must be
 * on a filesystem that makes hard links. A drive that is not there is accepted; its first run
 * refuses it the same way (createSnapshot checks).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isCairnError } from '../domain/errors.ts';
import type { Destination } from '../destinations/types.ts';
import { requireHardLinks } from './drive-snapshots/index.ts';

/**
 * Checks the backup folder `destination` gives for `config` (or, before it exists, its deepest
 * existing folder, on the same filesystem unless a drive is mounted below it later).
 * @throws CairnError 400 `FILESYSTEM_NO_HARD_LINKS` naming the filesystem; the destination's own
 *   refusals of the folder other than "not there now" (`DRIVE_NOT_MOUNTED`, `DESTINATION_MISSING`).
 */
export async function checkSnapshotFolderNow(destination: Destination, config: Record<string, unknown>): Promise<void> {
  if (!destination.snapshotFolder) return;
  let folder: string;
  try {
    folder = await destination.snapshotFolder(config, false);
  } catch (error) {
    if (isCairnError(error) && error.kind === 'unavailable') return;
    throw error;
  }
  await requireHardLinks(await deepestExisting(folder));
}

async function deepestExisting(folder: string): Promise<string> {
  for (let current = folder; ; current = path.dirname(current)) {
    const stat = await fs.stat(current).catch(() => null);
    if (stat?.isDirectory() || current === path.dirname(current)) return current;
  }
}
