/**
 * The previous snapshot's manifest as the walk merges it: entry by entry in the manifest's order. A
 * version 1 manifest (an earlier Cairn's order) is read whole and re-sorted once; the manifest
 * written with it is version 2, so the next snapshot streams again.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { comparePaths, MANIFEST_NAME, MANIFEST_VERSION, ManifestReader, type ManifestEntry } from './manifest-file.ts';

/** Entries in the manifest's order; `next()` gives null at the end. */
export interface PreviousEntries {
  next(): Promise<ManifestEntry | null>;
  close(): Promise<void>;
}

/** The manifest of the snapshot at `previousDir`, or null when it has none. */
export async function openPrevious(previousDir: string): Promise<PreviousEntries | null> {
  const file = path.join(previousDir, MANIFEST_NAME);
  if (!(await fs.access(file).then(() => true, () => false))) return null;
  const reader = new ManifestReader(file);
  let held: ManifestEntry | null | undefined = await reader.next();
  if (reader.version === MANIFEST_VERSION) {
    return {
      next: async () => {
        if (held === undefined) return reader.next();
        const first = held;
        held = undefined;
        return first;
      },
      close: () => reader.close(),
    };
  }
  const all: ManifestEntry[] = [];
  for (let entry = held; entry; entry = await reader.next()) all.push(entry);
  all.sort((a, b) => comparePaths(a.path, b.path));
  let index = 0;
  return { next: async () => all[index++] ?? null, close: async () => undefined };
}
