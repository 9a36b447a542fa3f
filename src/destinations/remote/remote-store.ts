/**
 * What a remote destination (S3, SFTP, WebDAV) must provide so that one sync engine can keep it in
 * step with the sources the way rsync keeps a local folder: a listing, whole-or-nothing uploads,
 * deletes and downloads. Paths are relative to the destination's root, '/'-separated, never empty.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ByteRange } from './read-range.ts';
import type { SortedBatches } from './sorted-paths.ts';

export interface RemoteEntry {
  size: number;
  /**
   * The modification time the remote lists (ms), when it lists one: the source file's where the
   * server keeps it (SFTP, Nextcloud, a copy made with its mtimes), else when it was written there
   * (most WebDAV servers), which a source file's time matches only by chance within the same second.
   */
  mtimeMs?: number;
}

export interface RemoteUpload {
  path: string;
  body: Readable;
  size: number;
  mtimeMs: number;
  signal: AbortSignal;
}

export interface RemoteStore {
  /**
   * Every file below `folder` (recursively) as [path relative to `folder`, entry], in path order
   * (the byte order of UTF-8 paths, see sorted-paths.ts), in batches, listed as it is read so a
   * million files never sit in memory; a missing folder lists nothing.
   */
  walk(folder: string, signal: AbortSignal): SortedBatches<RemoteEntry>;
  /**
   * Stores `body` (exactly `size` bytes) at `path`, creating folders as needed. The file is complete
   * under its final name or not there at all, even when `signal` aborts mid-way (then it rejects).
   */
  put(upload: RemoteUpload): Promise<void>;
  /** Removes one file; a file already gone is not an error. */
  remove(path: string): Promise<void>;
  /** The content of one file, streamed. */
  get(path: string, signal: AbortSignal): Promise<Readable>;
  /**
   * The bytes of one file in one Buffer: the whole file, or exactly `range.length` (≥ 1) bytes from
   * `range.offset`, read at that offset (SFTP) or with an HTTP `Range` (S3, WebDAV; a server that
   * ignores it is read only as far as needed, never taken as the range). Throws a CairnError
   * REMOTE_FILE_MISSING when the file is not there and REMOTE_FILE_SHORT when it ends before the range.
   */
  read(path: string, range?: ByteRange): Promise<Buffer>;
  /** The file's size, or null when no file is there. */
  stat(path: string): Promise<{ size: number } | null>;
  /** The folder or file as a user would name it in a log line, e.g. sftp://backup@nas:22/backups/photos (no secrets). */
  where(path: string): string;
  /** Ends the connection; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * The name an upload is written under before it is renamed into place: hidden, beside the final
 * file, recognisable so that the leftovers of an interrupted run are cleared by the next one.
 */
export function partialNameFor(filePath: string): string {
  const slash = filePath.lastIndexOf('/');
  return `${filePath.slice(0, slash + 1)}.${filePath.slice(slash + 1)}.cairn-partial-${randomHex8()}`;
}

/** Random bytes taken a kilobyte at a time: one call to the system's generator per file sent showed in profiles. */
let randomPool = Buffer.alloc(0);
let randomUsed = 0;

function randomHex8(): string {
  if (randomUsed + 4 > randomPool.length) {
    randomPool = randomBytes(1024);
    randomUsed = 0;
  }
  randomUsed += 4;
  return randomPool.toString('hex', randomUsed - 4, randomUsed);
}

const PARTIAL = /(?:^|\/)\.[^/]*\.cairn-partial-[0-9a-f]{8}$/;

export function isPartialName(filePath: string): boolean {
  return PARTIAL.test(filePath);
}

/** Joins path parts with single slashes, ignoring empty parts. */
export function joinRemote(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}
