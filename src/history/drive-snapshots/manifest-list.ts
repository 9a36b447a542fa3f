/**
 * Writes a new snapshot's manifest from rsync's list while rsync runs, with no walk of the tree
 * afterwards. Asked to list every entry (`-ii`), rsync names each file of the new tree in the
 * manifest's order, and says which ones it hard-linked unchanged from the previous snapshot (`hf`):
 * those inherit the previous manifest's line as it is (the same inode, so the same bytes), found by
 * merging the two lists as streams. Every other file (sent, or copied because its attributes
 * changed) gets a placeholder line, filled in place once rsync is done and the file is read and
 * hashed: rsync prints a sent file's line before its copy is renamed into place, so it cannot be
 * read sooner.
 *
 * Used only in a fresh work folder on top of a previous snapshot with a version 2 manifest. Anything
 * unexpected (a name rsync escapes, a list out of order, a listed file missing afterwards, more
 * changed files than memory should hold) makes `finish` give null: the caller walks the tree instead.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ParsedItem } from '../../destinations/local/index.ts';
import { sha256Of } from './hashing.ts';
import type { ManifestTotals } from './manifest-build.ts';
import { comparePaths, MANIFEST_NAME, MANIFEST_VERSION, ManifestReader, ManifestWriter, type ManifestLine } from './manifest-file.ts';

/** Past this many changed files, a walk costs less memory than remembering where their lines go. */
const CHANGED_MAX = 200_000;
/** Changed files read and hashed at once. */
const BATCH = 64;

/** A file whose line is a placeholder until rsync is done. */
interface Reserved {
  path: string;
  at: number;
}

export class ListedManifest {
  /** Files rsync listed, not merged yet: [path, linked] pairs from `head` on. */
  private queue: Array<[string, boolean]> = [];
  private head = 0;
  private pump: Promise<void> | null = null;
  private failure: string | null = null;
  private last: string | null = null;
  private pending: ManifestLine | null = null;
  private readonly reserved: Reserved[] = [];
  private readonly totals: ManifestTotals = { files: 0, total_size: 0, bytes_added: 0, files_hashed: 0 };

  private constructor(
    private readonly snapshotDir: string,
    private readonly previous: ManifestReader,
    private readonly writer: ManifestWriter,
  ) {}

  /**
   * Starts the manifest of the work folder `snapshotDir`, filled with `--link-dest` on `previousDir`.
   * Null when the previous snapshot has no manifest of this version to merge with.
   */
  static async open(snapshotDir: string, previousDir: string): Promise<ListedManifest | null> {
    const file = path.join(previousDir, MANIFEST_NAME);
    if (!(await fs.access(file).then(() => true, () => false))) return null;
    const previous = new ManifestReader(file);
    const first = await previous.nextLine().catch(() => null);
    if (previous.version !== MANIFEST_VERSION) {
      await previous.close();
      return null;
    }
    const listed = new ListedManifest(snapshotDir, previous, await ManifestWriter.create(path.join(snapshotDir, MANIFEST_NAME)));
    listed.pending = first;
    return listed;
  }

  /** Why the list cannot be used (then `finish` gives null), or null while it can. */
  get unusableBecause(): string | null {
    return this.failure;
  }

  /** Takes one entry rsync listed while copying into `<snapshotDir>/<source>/`; only regular files count. */
  add(source: string, item: ParsedItem): void {
    if (this.failure !== null || item.kind !== 'file') return;
    // rsync writes a control character as \#ooo, and Node reads a name that is not UTF-8 with U+FFFD.
    if (item.name.includes('\\#') || item.name.includes('\uFFFD')) return this.giveUp(`a name rsync lists escaped (${source}/…)`);
    const relative = `${source}/${item.name}`;
    if (this.last !== null && comparePaths(this.last, relative) >= 0) return this.giveUp(`rsync listed ${relative} out of order`);
    this.last = relative;
    this.queue.push([relative, item.linked]);
    this.pump ??= this.drain();
  }

  /**
   * Once rsync is done: reads and hashes the files that were not linked, fills their lines, and
   * makes the manifest durable. Gives the totals, or null (nothing left behind) when the list
   * could not be used and the tree must be walked.
   */
  async finish(signal: AbortSignal): Promise<ManifestTotals | null> {
    try {
      await this.pump;
      if (this.failure === null) await this.writer.flush();
      for (let start = 0; this.failure === null && start < this.reserved.length; start += BATCH) {
        signal.throwIfAborted();
        await Promise.all(this.reserved.slice(start, start + BATCH).map((reserved) => this.fill(reserved, signal)));
      }
      if (this.failure !== null) {
        await this.abandon();
        return null;
      }
      await this.writer.finish();
      await this.previous.close();
      return this.totals;
    } catch (error) {
      await this.abandon();
      throw error;
    }
  }

  /** Gives up (a cancelled or failed copy): the temporary manifest is removed. */
  async abandon(): Promise<void> {
    this.failure ??= 'abandoned';
    await this.pump?.catch(() => undefined);
    await this.previous.close().catch(() => undefined);
    await this.writer.abandon();
  }

  private giveUp(reason: string): void {
    this.failure ??= reason;
    this.queue = [];
    this.head = 0;
  }

  /** Merges the queued files into the manifest, as they come, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.failure === null && this.head < this.queue.length) {
        const [relative, linked] = this.queue[this.head];
        this.head += 1;
        await this.merge(relative, linked);
        if (this.head >= 4096) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
    } catch (error) {
      this.giveUp(`the manifest could not be merged (${(error as Error).message})`);
    } finally {
      this.pump = null;
    }
  }

  private async merge(relative: string, linked: boolean): Promise<void> {
    while (this.pending && comparePaths(this.pending.path, relative) < 0) this.pending = await this.previous.nextLine();
    const before = this.pending?.path === relative ? this.pending : null;
    if (linked && before) {
      this.writer.addLine(before.line);
      this.totals.files += 1;
      this.totals.total_size += before.size;
    } else {
      if (this.reserved.length >= CHANGED_MAX) return this.giveUp(`more than ${CHANGED_MAX} changed files`);
      this.reserved.push({ path: relative, at: this.writer.reserve(relative) });
    }
    await this.writer.flushIfFull();
  }

  /** Reads a changed file as rsync left it and fills its line: a new inode, so new bytes. */
  private async fill(reserved: Reserved, signal: AbortSignal): Promise<void> {
    const file = path.join(this.snapshotDir, reserved.path);
    const stat = await fs.lstat(file, { bigint: true }).catch(() => null);
    if (!stat?.isFile()) return this.giveUp(`${reserved.path} was listed but is not in the snapshot`);
    const size = Number(stat.size);
    const sha256 = await sha256Of(file, signal);
    await this.writer.fill(reserved.at, { path: reserved.path, size, mtimeNs: stat.mtimeNs.toString(), ino: stat.ino.toString(), sha256 });
    this.totals.files += 1;
    this.totals.total_size += size;
    this.totals.bytes_added += size;
    this.totals.files_hashed += 1;
  }
}
