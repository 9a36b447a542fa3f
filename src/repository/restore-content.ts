/**
 * Writing restored files' content pack by pack, as restic's file restorer does, a batch of files
 * at a time: the restore lists, for a batch's files, which blobs of which pack go to which file
 * offsets; then each of those packs' needed bytes are read once, in a few large range reads
 * (several in flight, their bytes bounded), every blob's MAC and SHA-256 checked, and each blob
 * written (positional writes) to every place in the batch that needs it. A blob is decrypted once
 * per batch however many of its files share it. The batch is bounded (files and placements) so
 * that the plan's memory does not grow with the snapshot: planned whole, 100,000 files held ~130 MB.
 *
 * A file is written under a temp name beside its target and renamed when its last blob is written,
 * so a file whose pack is damaged or missing never appears under its name; on any failure the temp
 * files of the unfinished ones are removed. Filesystem calls are synchronous (see backup.ts).
 */
import { closeSync, constants, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { conflict } from '../domain/errors.ts';
import { filePath } from './backend.ts';
import { SEAL_OVERHEAD } from './crypto.ts';
import { damaged, missing } from './errors.ts';
import { packRanges, RangeReader, type PackRange as Span } from './pack-ranges.ts';
import type { Repository } from './repository.ts';

/**
 * Files, and blob placements, a batch holds at most (a file is never split: the one passing a bound ends the batch): the
 * plan costs a few hundred bytes a file, and a batch of thousands still reads each pack in a few
 * large ranges, as the tree's files are packed in the order a restore walks them.
 */
export const BATCH_FILES = 4096;
export const BATCH_PLACEMENTS = 65536;

/** Reads in flight, and the bytes they may hold together (a single larger read still goes alone). */
const READS_IN_FLIGHT = 4;
const BYTES_IN_FLIGHT = 8 * 1024 * 1024;

/**
 * Bytes of the target's name a temp name keeps: with its dot, marker, token and number it stays
 * under the 255 bytes a name may have (counted in bytes: a name of 85 Japanese characters is 255).
 */
const TEMP_NAME_BYTES = 200;

/** The longest start of `name` of at most `max` bytes of UTF-8, never cutting a character. */
function leadingBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  let bytes = 0;
  let end = 0;
  for (const char of name) {
    bytes += Buffer.byteLength(char);
    if (bytes > max) break;
    end += char.length;
  }
  return name.slice(0, end);
}

/** The error of a temp file another process replaced between two of the restore's writes. */
function tempChanged(file: PendingFile, temp: string) {
  return conflict('REPOSITORY_RESTORE_TEMP_CHANGED', `The restore's temp file ${temp} for ${file.snapshotPath} was replaced by something else while it was written; nothing was written through it. Restore into a folder only you can write to.`);
}

/** What a temp file was made with (fstat), so that the metadata step sets only what differs. */
export interface MadeAs {
  uid: number;
  gid: number;
  /** Permission bits (with setuid, setgid, sticky). */
  mode: number;
}

/** A file whose content the restore writes; `done` is called with its open temp once it is complete. */
interface PendingFile {
  /** The file's path in the snapshot, to name it in errors. */
  snapshotPath: string;
  target: string;
  /** Its number in the restore (not the batch), which names its temp file (see `tempName`). */
  number: number;
  /** Blob placements not yet written. */
  remaining: number;
  /** Its temp file's path from its first write until it is renamed into place (named once: see `tempName`). */
  temp?: string;
  /** Permission bits its temp is created with (the caller's `createMode`). */
  createMode: number;
  /** The temp's device and inode once created: it is opened again for each read, and must be the same file. */
  dev?: bigint;
  ino?: bigint;
  madeAs?: MadeAs;
  done: (fd: number, madeAs: MadeAs) => void;
}

/** One read: a span of pack number `pack` and the blobs (index entry numbers, by offset) it covers. */
type PackRange = Span & { pack: number };

/** See the module comment. Add files with `addFile` until `full`, then `write` them; again until the last. */
export class ContentWriter {
  /** The batch's files, in the snapshot's order. */
  private files: PendingFile[] = [];
  /** Per pack number: the batch's placements as flat triples (index entry, file in the batch, offset in the file). */
  private byPack = new Map<number, number[]>();
  private placements = 0;
  /** Files numbered so far in the restore (temp names stay unique across batches). */
  private numbered = 0;
  private readonly token = randomBytes(4).toString('hex');
  private readonly reader: RangeReader;
  /** Bytes of content written (a blob shared by two files counts twice, as each file holds it). */
  bytes = 0;

  constructor(private readonly repo: Repository) {
    this.reader = new RangeReader(repo.backend);
  }

  /** Whether the batch is as large as it may be: `write` it before adding more. */
  get full(): boolean {
    return this.files.length >= BATCH_FILES || this.placements >= BATCH_PLACEMENTS;
  }

  /**
   * Plans the file at `target` with the blobs `content` (hex ids, in order) into the batch. When
   * its content is complete, `done` gets its open temp file (to set its owner, mode and times
   * through the descriptor) and what it was made as, and then it is renamed to `target`. An empty
   * file is written at once. Its temp is created with `createMode` (then the umask), which must let
   * the restore open it again to write (0600).
   * @throws REPOSITORY_DAMAGED when a blob is in no index.
   */
  addFile(snapshotPath: string, target: string, content: string[], createMode: number, done: (fd: number, madeAs: MadeAs) => void): void {
    const index = this.repo.index;
    const file: PendingFile = {
      snapshotPath,
      target,
      number: this.numbered++,
      remaining: content.length,
      createMode,
      done,
    };
    const f = this.files.push(file) - 1;
    let at = 0;
    for (const hex of content) {
      const n = index.position(Buffer.from(hex, 'hex'));
      if (n < 0) throw damaged(`file ${snapshotPath}: blob ${hex.slice(0, 12)} is in no index, so it`);
      const p = index.packNumberAt(n);
      let placements = this.byPack.get(p);
      if (!placements) this.byPack.set(p, (placements = []));
      placements.push(n, f, at);
      this.placements++;
      // A compressed blob's place in the file comes from the index's uncompressed_length (format 2).
      at += index.plaintextLengthAt(n, SEAL_OVERHEAD);
    }
    if (content.length === 0) {
      try {
        this.finish(file, this.open(file));
      } catch (error) {
        this.discardUnfinished();
        throw error;
      }
    }
  }

  /**
   * Reads the packs and writes every file of the batch, which then starts empty. On failure
   * (damage, a missing pack, `signal` aborted) the unfinished files' temp files are removed and
   * the error names a file of the batch that needed the blob or pack; files already finished stay, whole.
   */
  async write(signal?: AbortSignal): Promise<void> {
    const ranges = this.ranges();
    const inFlight: Array<{ range: PackRange; bytes: Promise<Buffer> }> = [];
    let held = 0;
    try {
      for (let next = 0; next < ranges.length || inFlight.length > 0; ) {
        // Start reads while the bounds allow (always one, however large), then handle the oldest.
        while (next < ranges.length && inFlight.length < READS_IN_FLIGHT && (inFlight.length === 0 || held + ranges[next].length <= BYTES_IN_FLIGHT)) {
          signal?.throwIfAborted();
          const range = ranges[next++];
          held += range.length;
          const bytes = this.read(range);
          bytes.catch(() => undefined); // awaited in turn below; a later one failing first is no unhandled rejection
          inFlight.push({ range, bytes });
        }
        const { range, bytes } = inFlight.shift()!;
        const buffer = await bytes;
        this.place(range, buffer.subarray(0, range.length));
        this.reader.release(buffer);
        held -= range.length;
      }
    } catch (error) {
      await Promise.allSettled(inFlight.map((read) => read.bytes));
      this.discardUnfinished();
      throw error;
    }
    this.files = [];
    this.byPack = new Map();
    this.placements = 0;
  }

  /** Each pack's needed blobs cut into reads (pack-ranges.ts), packs in the order the files first need them. */
  private ranges(): PackRange[] {
    const ranges: PackRange[] = [];
    for (const [pack, placements] of this.byPack) {
      const entries = new Set(placements.filter((_, i) => i % 3 === 0));
      for (const range of packRanges(this.repo.index, entries)) ranges.push({ ...range, pack });
    }
    return ranges;
  }

  /** The bytes of `range`, perhaps in a longer buffer (RangeReader's): use its first `range.length` bytes. */
  private async read(range: PackRange): Promise<Buffer> {
    const packFile = filePath('data', this.repo.index.packIdAt(range.pack));
    try {
      return await this.reader.read(packFile, range);
    } catch (error) {
      if ((error as { code?: string }).code === 'REPOSITORY_FILE_MISSING') throw missing(`${this.filesOf(range.pack)}: its pack ${this.repo.backend.where(packFile)}`);
      throw error;
    }
  }

  /** Opens each blob of `range` (read into `bytes`) and writes it wherever the plan puts it. */
  private place(range: PackRange, bytes: Buffer): void {
    const index = this.repo.index;
    const wanted = new Set(range.entries);
    const placements = this.byPack.get(range.pack)!;
    const packWhere = this.repo.backend.where(filePath('data', index.packIdAt(range.pack)));
    const plaintexts = new Map<number, Buffer>();
    for (const n of range.entries) {
      const start = index.locationAt(n).offset - range.offset;
      const sealed = bytes.subarray(start, start + index.lengthAt(n));
      let plaintext: Buffer;
      try {
        const uncompressedLength = index.isCompressedAt(n) ? index.plaintextLengthAt(n, SEAL_OVERHEAD) : undefined;
        plaintext = this.repo.openBlob(sealed, Buffer.from(index.idAt(n)), `pack ${packWhere}`, uncompressedLength);
      } catch (error) {
        // Named only now: finding the file scans the pack's plan.
        if ((error as { code?: string }).code === 'REPOSITORY_DAMAGED') throw damaged(`file ${this.firstFileOf(n, range.pack)} (pack ${packWhere})`, error);
        throw error;
      }
      plaintexts.set(n, plaintext);
    }
    // A file is opened once per read however many of its blobs it holds (small files: once in all).
    const open = new Map<number, number>();
    try {
      for (let i = 0; i < placements.length; i += 3) {
        const n = placements[i];
        if (!wanted.has(n)) continue;
        const f = placements[i + 1];
        const file = this.files[f];
        let fd = open.get(f);
        if (fd === undefined) open.set(f, (fd = this.open(file)));
        const data = plaintexts.get(n)!;
        for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, placements[i + 2] + done);
        this.bytes += data.length;
        if (--file.remaining === 0) {
          open.delete(f);
          this.finish(file, fd);
        }
      }
    } finally {
      for (const fd of open.values()) closeSync(fd);
    }
  }

  /** The temp name beside the target (made when needed: a restore plans every file first). */
  private tempName(file: Pick<PendingFile, 'target' | 'number'>): string {
    return path.join(path.dirname(file.target), `.${leadingBytes(path.basename(file.target), TEMP_NAME_BYTES)}.cairn-restore-${this.token}-${file.number}`);
  }

  /** A temp name beside `target` that no other of this restore's files uses, for one the caller makes itself (a hard link). */
  tempFor(target: string): string {
    return this.tempName({ target, number: this.numbered++ });
  }

  /**
   * The file's temp, created at its first write (so only files being written have one). Opened
   * again by its name for later reads, in a folder others may write to (a restore runs as root):
   * never through a symlink, and only if it is still the file made, else REPOSITORY_RESTORE_TEMP_CHANGED.
   */
  private open(file: PendingFile): number {
    if (file.temp === undefined) {
      const temp = this.tempName(file);
      const fd = openSync(temp, 'wx', file.createMode);
      file.temp = temp;
      const made = fstatSync(fd, { bigint: true });
      file.dev = made.dev;
      file.ino = made.ino;
      file.madeAs = { uid: Number(made.uid), gid: Number(made.gid), mode: Number(made.mode) & 0o7777 };
      return fd;
    }
    let fd: number;
    try {
      fd = openSync(file.temp, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw tempChanged(file, file.temp);
      throw error;
    }
    const now = fstatSync(fd, { bigint: true });
    if (now.dev !== file.dev || now.ino !== file.ino) {
      closeSync(fd);
      throw tempChanged(file, file.temp);
    }
    return fd;
  }

  /** Completes a file's metadata, closes it and puts it under its name. */
  private finish(file: PendingFile, fd: number): void {
    try {
      file.done(fd, file.madeAs!);
    } finally {
      closeSync(fd);
    }
    // Replaces a file or symlink of that name; a folder in the way is an error, never removed with its content.
    renameSync(file.temp!, file.target);
    file.temp = undefined;
  }

  private discardUnfinished(): void {
    for (const file of this.files) if (file.temp !== undefined) rmSync(file.temp, { force: true });
  }

  /**
   * The files of the batch needing pack `p`, to name them in an error: the first in the snapshot's
   * order (an earlier batch needing it would have failed first), and how many more.
   */
  private filesOf(p: number): string {
    const placements = this.byPack.get(p)!;
    const files = new Set<number>();
    for (let i = 1; i < placements.length; i += 3) files.add(placements[i]);
    // Placements are added file by file in the snapshot's order, so the first is the first file.
    const others = files.size - 1;
    return `file ${this.files[placements[1]].snapshotPath}${others > 0 ? ` (and ${others} other file${others > 1 ? 's' : ''})` : ''}`;
  }

  /** The path of the first file (in the snapshot's order: see `filesOf`) planned to hold entry `n` of pack `p`, to name it in an error. */
  private firstFileOf(n: number, p: number): string {
    const placements = this.byPack.get(p)!;
    for (let i = 0; i < placements.length; i += 3) if (placements[i] === n) return this.files[placements[i + 1]].snapshotPath;
    return '(unknown)';
  }
}
