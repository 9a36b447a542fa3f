/**
 * Writes a snapshot's manifest by walking it once, when it could not be written from rsync's list
 * while rsync ran (manifest-list.ts): the first snapshot, a resumed work folder (whose files may come
 * from the interrupted run), a name rsync lists escaped, a previous manifest of version 1. The walk
 * and the previous manifest are both in the manifest's order, so they are merged as two streams; a
 * file with the previous entry's inode, or its size and mtime, inherits its line (hash included).
 * Every other file is read and hashed, a few at a time.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { sha256Of } from './hashing.ts';
import { comparePaths, MANIFEST_NAME, ManifestWriter, type ManifestEntry } from './manifest-file.ts';
import { openPrevious, type PreviousEntries } from './manifest-previous.ts';

/** What the new snapshot holds. */
export interface ManifestTotals {
  /** Regular files. */
  files: number;
  /** Their sizes added up (hard-linked files counted in full). */
  total_size: number;
  /** Sizes of the files that are not the previous snapshot's (new inode): the bytes this snapshot added. */
  bytes_added: number;
  /** Files read and hashed (not inherited). */
  files_hashed: number;
}

/** Top-level names that are Cairn's, not the owner's files. */
export function isCairnFile(topLevelName: string): boolean {
  return topLevelName.startsWith('.cairn-');
}

/** Files looked at together: their lstat and hashes run at once, their lines are written in order. */
const BATCH = 64;

/**
 * Walks `snapshotDir` and writes its manifest to `<snapshotDir>/.cairn-manifest`. `previousDir` is
 * the previous complete snapshot (with its manifest), or null for the first one.
 */
export async function buildManifest(snapshotDir: string, previousDir: string | null, signal: AbortSignal): Promise<ManifestTotals> {
  const previous: PreviousEntries | null = previousDir ? await openPrevious(previousDir) : null;
  const writer = await ManifestWriter.create(path.join(snapshotDir, MANIFEST_NAME));
  const totals: ManifestTotals = { files: 0, total_size: 0, bytes_added: 0, files_hashed: 0 };
  let pending: ManifestEntry | null = previous ? await previous.next() : null;
  /** The previous manifest's entry for `relative`, if it has one; skips the ones before it. */
  const previousEntry = async (relative: string): Promise<ManifestEntry | null> => {
    while (pending && comparePaths(pending.path, relative) < 0) pending = await previous!.next();
    return pending && pending.path === relative ? pending : null;
  };
  const writeBatch = async (batch: Array<{ relative: string; before: ManifestEntry | null }>) => {
    const entries = await Promise.all(batch.map(({ relative, before }) => entryFor(snapshotDir, relative, before, signal)));
    for (const [index, { entry, hashed }] of entries.entries()) {
      if (hashed) totals.files_hashed += 1;
      if (batch[index].before?.ino !== entry.ino) totals.bytes_added += entry.size;
      totals.files += 1;
      totals.total_size += entry.size;
      writer.add(entry);
    }
    await writer.flushIfFull();
  };
  try {
    let batch: Array<{ relative: string; before: ManifestEntry | null }> = [];
    for await (const files of walkFiles(snapshotDir, signal)) {
      for (const relative of files) {
        batch.push({ relative, before: await previousEntry(relative) });
        if (batch.length === BATCH) {
          await writeBatch(batch);
          batch = [];
        }
      }
    }
    await writeBatch(batch);
    await writer.finish();
    return totals;
  } catch (error) {
    await writer.abandon();
    throw error;
  } finally {
    await previous?.close();
  }
}

/** One file's manifest line: inherited when it is the previous snapshot's file, else hashed. */
async function entryFor(snapshotDir: string, relative: string, before: ManifestEntry | null, signal: AbortSignal): Promise<{ entry: ManifestEntry; hashed: boolean }> {
  const file = path.join(snapshotDir, relative);
  const stat = await fs.lstat(file, { bigint: true });
  const ino = stat.ino.toString();
  const mtimeNs = stat.mtimeNs.toString();
  const size = Number(stat.size);
  if (before && before.size === size && (before.ino === ino || before.mtimeNs === mtimeNs)) {
    return { entry: { path: relative, size, mtimeNs, ino, sha256: before.sha256 }, hashed: false };
  }
  return { entry: { path: relative, size, mtimeNs, ino, sha256: await sha256Of(file, signal) }, hashed: true };
}

/**
 * Every regular file below `root` in the manifest's order (comparePaths: a folder's files, then its
 * subfolders), as paths relative to it, handed over a folder's files at a time; Cairn's own
 * top-level files are left out, symbolic links are not followed.
 */
export async function* walkFiles(root: string, signal: AbortSignal): AsyncGenerator<string[]> {
  async function* walk(relative: string): AsyncGenerator<string[]> {
    signal.throwIfAborted();
    const entries = (await fs.readdir(path.join(root, relative), { withFileTypes: true })).filter((entry) => relative !== '' || !isCairnFile(entry.name));
    const files: string[] = [];
    const folders: string[] = [];
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const kind = kindOf(entry) ?? (await kindByStat(path.join(root, child)));
      if (kind === 'file') files.push(child);
      else if (kind === 'dir') folders.push(`${child}/`);
    }
    if (files.length > 0) yield files.sort(comparePaths);
    for (const folder of folders.sort(comparePaths)) yield* walk(folder.slice(0, -1));
  }
  yield* walk('');
}

/** The kind readdir tells; null when the filesystem did not fill in d_type. */
function kindOf(entry: Dirent): 'file' | 'dir' | 'other' | null {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) return 'other';
  return null;
}

async function kindByStat(file: string): Promise<'file' | 'dir' | 'other'> {
  const stat = await fs.lstat(file);
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other';
}
