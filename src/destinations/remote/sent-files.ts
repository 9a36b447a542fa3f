/**
 * What this daemon has sent to a destination: per file, the size and modification time of the
 * source file it uploaded. S3 and most WebDAV servers do not keep a file's own mtime, so this record
 * (with the remote listing's size, which must still agree) is what makes a rerun with no change
 * send nothing. It belongs to one destination: a job pointed elsewhere starts a fresh record.
 *
 * The record is a file of JSON lines sorted by path (sorted-paths.ts): a header, then one
 * `["<source name>/<path>", size, mtimeMs]` per file. A run reads it alongside its walk, one 64 KB
 * batch of lines at a time, and writes a new one beside it only when something changed, so memory
 * does not grow with the number of files and a run that changes nothing writes nothing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removeStaleTempFiles, syncDirectory, TEMP_MARKER } from '../../store/durable-file.ts';
import { LineWriter, PathSpool, readLineBatches, readLines } from './line-files.ts';
import { joinSorted, type Joined } from './merge-join.ts';
import { compareBytes, SortedReader } from './sorted-paths.ts';

/** Size and mtime (ms) of the source file that was sent. */
export type Sent = [size: number, mtimeMs: number];

const FORMAT = 2;

/** Entries queued for the new record at most while lookups pass paths gone from both sides. */
const QUEUED_AT_MOST = 4096;

interface Header {
  cairn_sent_files: number;
  destination: string;
}

export class SentFiles {
  private readonly sections: SentSection[] = [];

  private constructor(
    private readonly file: string,
    private readonly destination: string,
    /** False when the file holds no usable record for this destination: everything reads as never sent. */
    private readonly usable: boolean,
  ) {}

  /**
   * The record kept in `file` for `destination`; an empty one when there is none, or it is for
   * another destination or unreadable. A record in the earlier whole-JSON form is converted once.
   */
  static async open(file: string, destination: string): Promise<SentFiles> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await removeStaleTempFiles(file);
    let first: string | undefined;
    try {
      for await (const line of readLines(file)) {
        first = line;
        break;
      }
      const header = first === undefined ? null : JSON.parse(first);
      if (header?.cairn_sent_files === FORMAT && header.destination === destination) return new SentFiles(file, destination, true);
      if (header?.destination === destination && header.files && typeof header.files === 'object') {
        await convertEarlierRecord(file, destination, header.files as Record<string, Sent>);
        return new SentFiles(file, destination, true);
      }
    } catch {
      // Damaged: the files are compared by listing and sent again where in doubt.
    }
    return new SentFiles(file, destination, false);
  }

  /** The part of the record for the source folder `name`, to be read and rewritten in path order. */
  section(name: string): SentSection {
    const section = new SentSection(name, this.sections.length, this.file, () => this.batchesOf(name));
    this.sections.push(section);
    return section;
  }

  /** Writes the new record when a section changed (durably: temp file, fsync, rename), and clears temp files. */
  async save(): Promise<void> {
    try {
      if (this.sections.some((section) => section.changed || section.forgotten.count > 0)) await this.rewrite();
    } finally {
      await this.discard();
    }
  }

  /** Drops what this run wrote aside (a dry run, or after `save`); the record stays as it was. */
  async discard(): Promise<void> {
    for (const section of this.sections) await section.discard();
  }

  /** Old entries of unchanged sections, merged with the changed sections' new ones, less what was deleted. */
  private async rewrite(): Promise<void> {
    const inOrder = [...this.sections].sort((a, b) => compareBytes(`${a.name}/`, `${b.name}/`));
    const rewritten = new Set(inOrder.filter((section) => section.changed).map((section) => section.name));
    const kept = filter(this.batches(), ([file]) => !rewritten.has(file.slice(0, file.indexOf('/'))));
    const merged = pairs(joinSorted(kept, concat(inOrder.filter((section) => section.changed).map((section) => section.newEntries()))));
    const forgotten = concat(inOrder.map((section) => section.forgottenPaths()));
    const temp = `${this.file}${TEMP_MARKER}${process.pid}-new`;
    const writer = await LineWriter.create(temp);
    try {
      await writer.write(JSON.stringify({ cairn_sent_files: FORMAT, destination: this.destination } satisfies Header));
      for await (const joined of joinSorted(merged, forgotten)) {
        for (const { path: file, left, right } of joined) {
          if (left === undefined || right !== undefined) continue;
          await writer.write(JSON.stringify([file, ...left]));
        }
      }
      await writer.close({ sync: true });
      await fs.rename(temp, this.file);
    } catch (error) {
      await writer.close().catch(() => undefined);
      await fs.rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(path.dirname(this.file));
  }

  /** The entries of the record on disk, in path order, a batch (one read of the file) at a time. */
  private async *batches(): AsyncGenerator<Array<[string, Sent]>> {
    if (!this.usable) return;
    let header = true;
    for await (const lines of readLineBatches(this.file)) {
      const batch: Array<[string, Sent]> = [];
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        const [file, size, mtimeMs] = JSON.parse(line) as [string, number, number];
        batch.push([file, [size, mtimeMs]]);
      }
      yield batch;
    }
  }

  /** The entries of one source folder, by path relative to it, in batches. */
  private async *batchesOf(name: string): AsyncGenerator<Array<[string, Sent]>> {
    const prefix = `${name}/`;
    let inside = false;
    for await (const batch of this.batches()) {
      const mine: Array<[string, Sent]> = [];
      for (const [file, sent] of batch) {
        if (file.startsWith(prefix)) {
          inside = true;
          mine.push([file.slice(prefix.length), sent]);
        } else if (inside) {
          if (mine.length > 0) yield mine;
          return;
        }
      }
      if (mine.length > 0) yield mine;
    }
  }
}

/**
 * One source folder's entries, read in path order as the engine walks, and written anew (beside the
 * record) from the first change on. Paths are relative to the source folder.
 */
export class SentSection {
  /** Paths deleted from the destination in this run, in path order. */
  readonly forgotten: PathSpool;
  /** The record's entries for this section, as far as lookups have read them. */
  private readonly old: SortedReader<Sent>;
  private readonly queue: Array<{ path: string; value: Sent | undefined | Promise<Sent | undefined>; old: Sent | undefined }> = [];
  private writer: LineWriter | null = null;
  /** Old entries passed on unchanged before the first change: copied if a change comes. */
  private unchangedSoFar = 0;
  private readonly temp: string;

  constructor(
    readonly name: string,
    index: number,
    file: string,
    private readonly oldEntries: () => AsyncGenerator<Array<[string, Sent]>>,
  ) {
    // Not order-checked: a damaged record must mean files compared by listing, not a failed run.
    this.old = new SortedReader(oldEntries());
    this.temp = `${file}${TEMP_MARKER}${process.pid}-section-${index}`;
    this.forgotten = new PathSpool(`${file}${TEMP_MARKER}${process.pid}-forgotten-${index}`);
  }

  /** True once this run's entries differ from the record's. */
  get changed(): boolean {
    return this.writer !== null;
  }

  /**
   * What was sent for `relative`; call once per path, in path order, then `keep` it. Answers at once,
   * without a promise, while the record's batch at hand reaches `relative` (nearly always): a promise
   * per file here and in `flush` was half of what a no-change run allocated (issue 17).
   */
  lookup(relative: string): Sent | undefined | Promise<Sent | undefined> {
    for (;;) {
      if (!this.old.atHand) return this.old.ended ? undefined : this.lookupAfterReading(relative);
      const head = this.old.next;
      const order = compareBytes(head[0], relative);
      if (order > 0) return undefined;
      if (order === 0) return this.old.take()[1];
      // A path neither the source nor the destination has any more: dropped from the record, in
      // order with what is queued; a long run of them (a folder gone from both) in bounded steps.
      if (this.queue.length >= QUEUED_AT_MOST) return this.lookupAfterFlushing(relative);
      this.old.take();
      this.queue.push({ path: head[0], value: undefined, old: head[1] });
    }
  }

  private async lookupAfterReading(relative: string): Promise<Sent | undefined> {
    await this.old.fill();
    return this.lookup(relative);
  }

  private async lookupAfterFlushing(relative: string): Promise<Sent | undefined> {
    await this.flushQueued(0);
    return this.lookup(relative);
  }

  /** Sets what the record says of `relative` (undefined: nothing), now or when `value` settles. */
  keep(relative: string, value: Sent | undefined | Promise<Sent | undefined>, old: Sent | undefined): void {
    // Unchanged, with nothing before it waiting and nothing written yet: only counted (see `write`).
    if (this.queue.length === 0 && !this.writer && !(value instanceof Promise) && sameSent(value, old)) {
      if (old) this.unchangedSoFar++;
      return;
    }
    this.queue.push({ path: relative, value, old });
  }

  /**
   * Writes what is settled; waits while more than `waiting` entries are queued (uploads not done).
   * Nothing queued (a run without changes): nothing to do, and no promise made.
   */
  flush(waiting: number): Promise<void> | undefined {
    return this.queue.length > 0 ? this.flushQueued(waiting) : undefined;
  }

  private async flushQueued(waiting: number): Promise<void> {
    // Written from the front and removed in one splice: a shift per entry made a long queue quadratic.
    let written = 0;
    try {
      while (written < this.queue.length) {
        const item = this.queue[written];
        if (item.value instanceof Promise) {
          if (this.queue.length - written <= waiting) return;
          item.value = await item.value;
          continue;
        }
        written++;
        await this.write(item.path, item.value, item.old);
      }
    } finally {
      this.queue.splice(0, written);
    }
  }

  /**
   * Writes all that is queued (waiting for it), then the rest of the record: dropped when the walk
   * was `complete` (those paths are gone from both sides), kept when it stopped early.
   */
  async finish(complete: boolean): Promise<void> {
    await this.flush(0);
    for (;;) {
      await this.old.fill();
      if (!this.old.atHand) break;
      const head = this.old.take();
      await this.write(head[0], complete ? undefined : head[1], head[1]);
    }
    await this.writer?.close();
  }

  /** Notes that `relative` was deleted from the destination. */
  forget(relative: string): Promise<void> {
    return this.forgotten.add(relative);
  }

  /** This run's entries, as full record paths, a batch per read; only once `finish` has run and `changed` is true. */
  async *newEntries(): AsyncGenerator<Array<[string, Sent]>> {
    for await (const lines of readLineBatches(this.temp)) {
      yield lines.map((line): [string, Sent] => {
        const [file, size, mtimeMs] = JSON.parse(line) as [string, number, number];
        return [file, [size, mtimeMs]];
      });
    }
  }

  async *forgottenPaths(): AsyncGenerator<Array<[string, true]>> {
    for await (const paths of this.forgotten.pathBatches()) yield paths.map((relative): [string, true] => [`${this.name}/${relative}`, true]);
  }

  async discard(): Promise<void> {
    await this.old.stop();
    await this.writer?.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true });
    await this.forgotten.discard();
  }

  private async write(relative: string, value: Sent | undefined, old: Sent | undefined): Promise<void> {
    if (!this.writer) {
      if (sameSent(value, old)) {
        if (old) this.unchangedSoFar++;
        return;
      }
      await this.startWriting();
    }
    if (value) await this.writer!.write(JSON.stringify([`${this.name}/${relative}`, ...value]));
  }

  /** The first change: the new section starts with the entries that were passed on unchanged. */
  private async startWriting(): Promise<void> {
    this.writer = await LineWriter.create(this.temp);
    if (this.unchangedSoFar === 0) return;
    const copy = this.oldEntries();
    try {
      let left = this.unchangedSoFar;
      while (left > 0) {
        const next = await copy.next();
        if (next.done) break;
        for (const [relative, sent] of next.value.slice(0, left)) await this.writer.write(JSON.stringify([`${this.name}/${relative}`, ...sent]));
        left -= next.value.length;
      }
    } finally {
      await copy.return(undefined);
    }
  }
}

function sameSent(a: Sent | undefined, b: Sent | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1]);
}

/** Rewrites a record of the earlier form (one JSON object, read whole) in the sorted form, once. */
async function convertEarlierRecord(file: string, destination: string, files: Record<string, Sent>): Promise<void> {
  const temp = `${file}${TEMP_MARKER}${process.pid}-convert`;
  const writer = await LineWriter.create(temp);
  await writer.write(JSON.stringify({ cairn_sent_files: FORMAT, destination } satisfies Header));
  for (const name of Object.keys(files).sort(compareBytes)) await writer.write(JSON.stringify([name, ...files[name]]));
  await writer.close({ sync: true });
  await fs.rename(temp, file);
  await syncDirectory(path.dirname(file));
}

async function* filter<T>(batches: AsyncIterable<T[]>, keep: (item: T) => boolean): AsyncGenerator<T[]> {
  for await (const batch of batches) yield batch.filter(keep);
}

/** A joined stream back as [path, entry], the changed section's entry winning. */
async function* pairs(joined: AsyncIterable<Array<Joined<Sent, Sent>>>): AsyncGenerator<Array<[string, Sent]>> {
  for await (const batch of joined) yield batch.map(({ path: file, left, right }): [string, Sent] => [file, (right ?? left)!]);
}

async function* concat<T>(streams: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const stream of streams) yield* stream;
}
