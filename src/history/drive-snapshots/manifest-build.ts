/**
 * Writes a new snapshot's manifest while walking it once: a file with the previous snapshot's inode
 * (rsync hard-linked it) or the same size and mtime (rsync judged it unchanged) inherits its hash
 * from the previous manifest; every other file is read and hashed. The walk and the previous
 * manifest are both in tree order, so they are merged as two streams.
 */
import { promises as fs, type BigIntStats, type Dirent } from 'node:fs';
import path from 'node:path';
import { sha256Of } from './hashing.ts';
import { comparePaths, MANIFEST_NAME, ManifestReader, ManifestWriter, type ManifestEntry } from './manifest-file.ts';

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

/** How many lstat calls run at once: enough to keep the kernel busy, few enough for a Pi. */
const STAT_BATCH = 64;

/**
 * Walks `snapshotDir` and writes its manifest to `<snapshotDir>/.cairn-manifest`. `previousDir`
 * is the previous complete snapshot (with its manifest), or null for the first one.
 */
export async function buildManifest(snapshotDir: string, previousDir: string | null, signal: AbortSignal): Promise<ManifestTotals> {
  const previous = previousDir ? await openPrevious(previousDir) : null;
  const writer = await ManifestWriter.create(path.join(snapshotDir, MANIFEST_NAME));
  const totals: ManifestTotals = { files: 0, total_size: 0, bytes_added: 0, files_hashed: 0 };
  let pending: ManifestEntry | null = previous ? await previous.next() : null;
  /** The previous manifest's entry for `relative`, if it has one; skips the ones before it. */
  const previousEntry = async (relative: string): Promise<ManifestEntry | null> => {
    while (pending && comparePaths(pending.path, relative) < 0) pending = await previous!.next();
    return pending && pending.path === relative ? pending : null;
  };
  try {
    for await (const { relative, stat } of walkFiles(snapshotDir, signal)) {
      const before = await previousEntry(relative);
      const ino = stat.ino.toString();
      const mtimeNs = stat.mtimeNs.toString();
      const size = Number(stat.size);
      const unchanged = before !== null && before.size === size && (before.ino === ino || before.mtimeNs === mtimeNs);
      const sha256 = unchanged ? before.sha256 : await sha256Of(path.join(snapshotDir, relative), signal);
      if (!unchanged) totals.files_hashed += 1;
      if (before?.ino !== ino) totals.bytes_added += size;
      totals.files += 1;
      totals.total_size += size;
      await writer.add({ path: relative, size, mtimeNs, ino, sha256 });
    }
    await writer.finish();
    return totals;
  } catch (error) {
    await writer.abandon();
    throw error;
  } finally {
    await previous?.close();
  }
}

async function openPrevious(previousDir: string): Promise<ManifestReader | null> {
  const file = path.join(previousDir, MANIFEST_NAME);
  return (await fs.access(file).then(() => true, () => false)) ? new ManifestReader(file) : null;
}

/**
 * Every regular file below `root` in tree order (names sorted per folder), with its lstat; Cairn's
 * own top-level files are left out, symbolic links are not followed.
 */
export async function* walkFiles(root: string, signal: AbortSignal): AsyncGenerator<{ relative: string; stat: BigIntStats }> {
  async function* walk(relative: string): AsyncGenerator<{ relative: string; stat: BigIntStats }> {
    signal.throwIfAborted();
    const entries = (await fs.readdir(path.join(root, relative), { withFileTypes: true }))
      .filter((entry) => relative !== '' || !isCairnFile(entry.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let start = 0; start < entries.length; start += STAT_BATCH) {
      const batch = entries.slice(start, start + STAT_BATCH);
      const stats = await Promise.all(batch.map((entry) => statIfFile(root, relative, entry)));
      for (const [index, entry] of batch.entries()) {
        const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
        const stat = stats[index];
        if (stat) yield { relative: child, stat };
        else if (entry.isDirectory()) yield* walk(child);
      }
    }
  }
  yield* walk('');
}

function statIfFile(root: string, relative: string, entry: Dirent): Promise<BigIntStats> | null {
  return entry.isFile() ? fs.lstat(path.join(root, relative, entry.name), { bigint: true }) : null;
}
