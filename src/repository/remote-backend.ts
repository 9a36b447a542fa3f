/**
 * A repository in a remote destination's folder (S3, SFTP, WebDAV), through the store the
 * destination already has: restic's layout directly under the store's root, so `restic -r
 * sftp:…`, `s3:…` or `rclone:…` pointed at that folder reads it. Whole-or-nothing writes are the
 * store's `put` (a partial name renamed into place, or one S3 object); ranges are the store's `read`.
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

/** A `RepositoryBackend` over `store`, whose root is the repository; `close` ends the store's connection. */
export class RemoteBackend implements ClosableRepositoryBackend {
  /** Never aborted: the engine has no signal per write, and a cancelled run closes the store instead. */
  private readonly signal = new AbortController().signal;

  constructor(private readonly store: RepositoryStore) {}

  async *list(folder: RepositoryFolder): AsyncIterable<BackendEntry> {
    for await (const [path, entry] of this.store.walk(folder, this.signal)) {
      const parts = path.split('/');
      const name = parts[parts.length - 1];
      const placed = folder === 'data' ? parts.length === 2 && DATA_FOLDER.test(parts[0]) : parts.length === 1;
      if (placed && ID.test(name)) yield { name, size: entry.size };
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
      return await this.store.read(path, range);
    } catch (error) {
      if (NOT_THERE.has((error as { code?: string }).code ?? '')) throw missing(where);
      throw error;
    }
  }

  async write(path: string, data: Buffer): Promise<void> {
    await this.store.put({ path, body: Readable.from([data]), size: data.length, mtimeMs: Date.now(), signal: this.signal });
  }

  remove(path: string): Promise<void> {
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
