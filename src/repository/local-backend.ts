/**
 * A repository in a local folder (a USB drive, a NAS mount). Files are written to a temp name
 * beside the target, fsynced, renamed and the folder fsynced, so each one is whole or absent.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fs, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { syncDirectory } from '../store/durable-file.ts';
import type { BackendEntry, RepositoryBackend, RepositoryFolder } from './backend.ts';
import { missing } from './errors.ts';
import { PACK_TEMP_MARKER as TEMP_MARKER } from './pack.ts';

/** A `RepositoryBackend` over the folder `root` (created by `init` as needed). */
export class LocalBackend implements RepositoryBackend {
  constructor(private readonly root: string) {}

  async *list(folder: RepositoryFolder): AsyncIterable<BackendEntry> {
    const dir = path.join(this.root, folder);
    if (folder !== 'data') {
      yield* this.listFlat(dir);
      return;
    }
    for (const sub of await readdirOrEmpty(dir)) {
      if (/^[0-9a-f]{2}$/.test(sub)) yield* this.listFlat(path.join(dir, sub));
    }
  }

  private async *listFlat(dir: string): AsyncIterable<BackendEntry> {
    for (const name of await readdirOrEmpty(dir)) {
      if (name.includes(TEMP_MARKER)) continue;
      const stat = await fs.stat(path.join(dir, name)).catch(() => null);
      if (stat?.isFile()) yield { name, size: stat.size };
    }
  }

  /**
   * Reads synchronously: the engine reads trees one by one, and through Node's thread pool each
   * small read cost ~10× a direct one on a busy 2-core box. The engine runs off the daemon's event loop.
   */
  async read(file: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const fd = this.open(file);
    try {
      if (!range) return readFileSync(fd);
      return this.readAt(fd, file, range.offset, Buffer.allocUnsafe(range.length));
    } finally {
      closeSync(fd);
    }
  }

  async readInto(file: string, offset: number, target: Buffer): Promise<void> {
    const fd = this.open(file);
    try {
      this.readAt(fd, file, offset, target);
    } finally {
      closeSync(fd);
    }
  }

  private open(file: string): number {
    try {
      return openSync(this.full(file), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missing(this.where(file));
      throw error;
    }
  }

  /** Fills `buffer` from `offset` of the open file; REPOSITORY_FILE_MISSING when the file ends first. */
  private readAt(fd: number, file: string, offset: number, buffer: Buffer): Buffer {
    for (let done = 0; done < buffer.length; ) {
      const bytesRead = readSync(fd, buffer, done, buffer.length - done, offset + done);
      if (bytesRead === 0) throw missing(`${this.where(file)} (bytes ${offset}–${offset + buffer.length})`);
      done += bytesRead;
    }
    return buffer;
  }

  async write(file: string, data: Buffer): Promise<void> {
    await this.place(file, async (temp) => {
      const handle = await fs.open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  /** Moves `localFile` into place: a rename when it is on the repository's filesystem (`tempFolder`), else a copy. */
  async writeFile(file: string, localFile: string): Promise<void> {
    try {
      await this.place(file, async (temp) => {
        try {
          await fs.rename(localFile, temp);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
          await fs.copyFile(localFile, temp, fs.constants.COPYFILE_EXCL);
        }
        const handle = await fs.open(temp, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
    } finally {
      await fs.rm(localFile, { force: true });
    }
  }

  /**
   * data/ itself: on the repository's filesystem, and neither Cairn nor restic lists files there
   * (only the two-letter folders); a name with TEMP_MARKER never passes for a pack. Packs left
   * there half filled by a killed engine (out of memory, a cancel past its grace) are removed once
   * untouched for STALE_PACK_MS: nothing else ever would, and a backup killed every night would
   * add tens of megabytes to the drive each time. A pack still being filled is written far more often.
   */
  async tempFolder(): Promise<string> {
    const folder = path.join(this.root, 'data');
    await fs.mkdir(folder, { recursive: true });
    await removeStalePacks(folder, Date.now() - STALE_PACK_MS);
    return folder;
  }

  /**
   * Makes `file` whole or absent: `fill` creates it under a temp name beside it, which is then
   * fsynced, renamed into place, and the folder fsynced.
   */
  private async place(file: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const full = this.full(file);
    const dir = path.dirname(full);
    await fs.mkdir(dir, { recursive: true });
    const temp = `${full}${TEMP_MARKER}${randomBytes(4).toString('hex')}`;
    try {
      await fill(temp);
      await fs.rename(temp, full);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(dir);
  }

  async remove(file: string): Promise<void> {
    await fs.rm(this.full(file), { force: true });
  }

  async stat(file: string): Promise<{ size: number } | null> {
    const stat = await fs.stat(this.full(file)).catch(() => null);
    return stat ? { size: stat.size } : null;
  }

  async prepare(): Promise<void> {
    // restic's own layout: every data/xx folder exists from the start.
    for (const folder of ['keys', 'index', 'snapshots', 'locks']) await fs.mkdir(path.join(this.root, folder), { recursive: true });
    for (let i = 0; i < 256; i++) await fs.mkdir(path.join(this.root, 'data', i.toString(16).padStart(2, '0')), { recursive: true });
  }

  where(file?: string): string {
    return file ? path.join(this.root, file) : this.root;
  }

  private full(file: string): string {
    // Paths come from the engine (hex ids and fixed folder names), never from a client; refuse
    // anything else so that a damaged index cannot name a file outside the repository.
    if (!/^(config|(keys|index|snapshots|locks)\/[0-9a-f]{64}|data\/[0-9a-f]{2}\/[0-9a-f]{64})$/.test(file)) {
      throw new Error(`not a repository path: ${file}`);
    }
    return path.join(this.root, file);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** How long a half-filled pack file in data/ is left alone before a later run removes it. */
export const STALE_PACK_MS = 24 * 60 * 60 * 1000;

/** Removes the pack files being filled in `folder` that were last written before `before` (ms). */
async function removeStalePacks(folder: string, before: number): Promise<void> {
  for (const name of await fs.readdir(folder)) {
    if (!name.startsWith(`pack${TEMP_MARKER}`)) continue;
    const file = path.join(folder, name);
    const stat = await fs.lstat(file).catch(() => null);
    if (stat?.isFile() && stat.mtimeMs < before) await fs.rm(file, { force: true });
  }
}
