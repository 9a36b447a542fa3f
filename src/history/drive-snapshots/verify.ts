/**
 * Verify: re-reads a snapshot's files from the drive and compares each with its manifest, so that
 * bit rot on a cheap stick is found before the day the file is needed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { notFound } from '../../domain/errors.ts';
import { SomeNames } from '../../destinations/local/index.ts';
import { sha256Of } from './hashing.ts';
import { MANIFEST_NAME, ManifestReader } from './manifest-file.ts';

/** What a verify found. */
export interface VerifyResult {
  /** Files in the manifest. */
  files_listed: number;
  /** Files read and compared. */
  files_checked: number;
  bytes_read: number;
  /** Files whose size or bytes no longer match the manifest (the first 1,000 named, all counted). */
  mismatched: SomeNames;
  /** Files in the manifest that are gone (or unreadable as a file). */
  missing: SomeNames;
  /** Files that could not be read (I/O errors), with the error. */
  unreadable: SomeNames;
}

/** What to check. */
export interface VerifyOptions {
  /** Share of the files to check, 1–100, chosen at random per file; 100 checks every file. */
  percent?: number;
  signal?: AbortSignal;
  /** Randomness source in [0, 1) (tests); Math.random by default. */
  random?: () => number;
  /** Called after each file checked, with the counts so far. */
  progress?(checked: number, bytes: number): void;
}

/**
 * Compares the files of the snapshot at `snapshotDir` with its manifest. A file is named when its
 * size or SHA-256 differs (its mtime is not trusted: `touch` can put it back), when it is gone, or
 * when reading it fails.
 * @throws CairnError `SNAPSHOT_MANIFEST_MISSING` when the snapshot has no manifest.
 */
export async function verifySnapshot(snapshotDir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const manifestFile = path.join(snapshotDir, MANIFEST_NAME);
  await fs.access(manifestFile).catch(() => {
    throw notFound('SNAPSHOT_MANIFEST_MISSING', `The snapshot ${path.basename(snapshotDir)} has no manifest to verify against`);
  });
  const share = Math.min(100, Math.max(0, options.percent ?? 100)) / 100;
  const random = options.random ?? Math.random;
  const result: VerifyResult = {
    files_listed: 0,
    files_checked: 0,
    bytes_read: 0,
    mismatched: new SomeNames(),
    missing: new SomeNames(),
    unreadable: new SomeNames(),
  };
  const reader = new ManifestReader(manifestFile);
  try {
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      result.files_listed += 1;
      if (share < 1 && random() >= share) continue;
      options.signal?.throwIfAborted();
      const file = path.join(snapshotDir, entry.path);
      const stat = await fs.lstat(file).catch(() => null);
      result.files_checked += 1;
      if (!stat?.isFile()) result.missing.add(entry.path);
      else if (stat.size !== entry.size) result.mismatched.add(entry.path);
      else {
        const sha256 = await sha256Of(file, options.signal).catch((error: NodeJS.ErrnoException) => {
          if (options.signal?.aborted) throw error;
          result.unreadable.add(`${entry!.path} (${error.code ?? error.message})`);
          return null;
        });
        result.bytes_read += stat.size;
        if (sha256 !== null && sha256 !== entry.sha256) result.mismatched.add(entry.path);
      }
      options.progress?.(result.files_checked, result.bytes_read);
    }
  } finally {
    await reader.close();
  }
  return result;
}
