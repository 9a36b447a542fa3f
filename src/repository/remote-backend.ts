/**
 * A repository in a remote destination's folder (S3, SFTP, WebDAV), through the store the
 * destination already has: restic's layout directly under the store's root, so `restic -r
 * sftp:…`, `s3:…` or `rclone:…` pointed at that folder reads it. Whole-or-nothing writes are the
 * store's `put` (a partial name renamed into place, or one S3 object), fed from memory: packs for a
 * remote repository are filled in memory, not in a temp file (see backend.ts `tempFolder`); ranges
 * are the store's `read`.
 */
import { Readable } from 'node:stream';
import type { RemoteStore } from '../destinations/remote/remote-store.ts';
import type { BackendEntry, ClosableRepositoryBackend, RepositoryFolder } from './backend.ts';
import { missing } from './errors.ts';

/** What the adapter uses of a remote store (a type only: the repository engine imports no destination code). */
export type RepositoryStore = Pick<RemoteStore, 'walk' | 'put' | 'remove' | 'read' | 'stat' | 'where' | 'close'>;

/** The store's codes for a file that is not there, or not as long as the index says. */
const NOT_THERE = new Set(['REMOTE_FILE_MISSING', 'REMOTE_FILE_SHORT']);

/** restic's file names: hex ids, and data's two-letter folders; anything else (an upload's partial name) is not listed. */
const ID = /^[0-9a-f]{64}$/;
const DATA_FOLDER = /^[0-9a-f]{2}$/;

/**
 * A read of a small range in a pack fetches the whole aligned window of this size around it, kept
 * for the next reads: a restore asks for one tree after another and a backup for the parent's trees
 * (a folder's tree before those of its subfolders, which were packed before it), and each request
 * costs a round trip (two on SFTP) whatever its size. Aligned, so the order of reads does not
 * matter. Packs never change (their name is their hash), so what was read stays true.
 */
const WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * Only reads smaller than this go through windows (a tree, a pack header); larger ones (a
 * restore's planned reads, which span many blobs already) are read as asked and not kept.
 */
const WINDOWED_READ_BYTES = 512 * 1024;
/** Windows kept (a tree pack and a data pack are read in turn): at most 16 MiB held. */
const WINDOWS = 4;
/** Pack sizes remembered, so a window never asks past a pack's end; forgotten all at once beyond this. */
const SIZES_KEPT = 4096;

interface Window {
  path: string;
  offset: number;
  bytes: Buffer;
}

/** A `RepositoryBackend` over `store`, whose root is the repository; `close` ends the store's connection. */
export class RemoteBackend implements ClosableRepositoryBackend {
  /** Never aborted: the engine has no signal per write, and a cancelled run closes the store instead. */
  private readonly signal = new AbortController().signal;
  /** Most recently used first. */
  private windows: Window[] = [];
  private readonly packSizes = new Map<string, number>();

  constructor(private readonly store: RepositoryStore) {}

  async *list(folder: RepositoryFolder): AsyncIterable<BackendEntry> {
    for await (const files of this.store.walk(folder, this.signal)) {
      for (const [path, entry] of files) {
        const parts = path.split('/');
        const name = parts[parts.length - 1];
        const placed = folder === 'data' ? parts.length === 2 && DATA_FOLDER.test(parts[0]) : parts.length === 1;
        if (placed && ID.test(name)) yield { name, size: entry.size };
      }
    }
  }

  async read(path: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const where = range ? `${this.where(path)} (bytes ${range.offset}–${range.offset + range.length})` : this.where(path);
    try {
      if (range?.length === 0) {
        // No store reads nothing; the file must still be there and reach the offset.
        const stat = await this.store.stat(path);
        if (!stat || stat.size < range.offset) throw missing(where);
        return Buffer.alloc(0);
      }
      const start = range ? range.offset - (range.offset % WINDOW_BYTES) : 0;
      if (range && path.startsWith('data/') && range.length < WINDOWED_READ_BYTES && range.offset + range.length <= start + WINDOW_BYTES) return await this.readThroughWindow(path, range, start, where);
      return await this.store.read(path, range);
    } catch (error) {
      if (NOT_THERE.has((error as { code?: string }).code ?? '')) throw missing(where);
      throw error;
    }
  }

  /** `range` of a pack from the kept window starting at `start`, or from that window read now. */
  private async readThroughWindow(path: string, range: { offset: number; length: number }, start: number, where: string): Promise<Buffer> {
    const end = range.offset + range.length;
    const index = this.windows.findIndex((w) => w.path === path && w.offset === start);
    if (index !== -1) {
      const [hit] = this.windows.splice(index, 1);
      this.windows.unshift(hit);
      if (end > hit.offset + hit.bytes.length) throw missing(where);
      return hit.bytes.subarray(range.offset - hit.offset, end - hit.offset);
    }
    let size = this.packSizes.get(path);
    if (size === undefined) {
      size = (await this.store.stat(path))?.size;
      if (size === undefined) throw missing(where);
      if (this.packSizes.size >= SIZES_KEPT) this.packSizes.clear();
      this.packSizes.set(path, size);
    }
    if (end > size) throw missing(where);
    const bytes = await this.store.read(path, { offset: start, length: Math.min(WINDOW_BYTES, size - start) });
    this.windows.unshift({ path, offset: start, bytes });
    if (this.windows.length > WINDOWS) this.windows.pop();
    return bytes.subarray(range.offset - start, end - start);
  }

  async write(path: string, data: Buffer): Promise<void> {
    await this.store.put({ path, body: Readable.from([data]), size: data.length, mtimeMs: Date.now(), signal: this.signal });
  }

  remove(path: string): Promise<void> {
    // A pack removed (by a prune) and never written again under its name: nothing kept of it may answer.
    this.windows = this.windows.filter((w) => w.path !== path);
    this.packSizes.delete(path);
    return this.store.remove(path);
  }

  stat(path: string): Promise<{ size: number } | null> {
    return this.store.stat(path);
  }

  where(path?: string): string {
    return this.store.where(path ?? '');
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
