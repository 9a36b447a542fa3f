/**
 * Appends to one run's log. `append` is synchronous and cheap, since rsync can print 100,000 names
 * in a few seconds: lines are buffered and written in batches, one write per file per batch.
 */
import { promises as fs } from 'node:fs';
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../domain/runs.ts';
import { cleanMessage } from './clean-message.ts';
import { encodeRecord, INDEX_NAMES, RECORD_BYTES, type IndexName, type RunLogPaths } from './run-log-files.ts';
import type { LogPosition } from './run-log-repair.ts';

/** A line reaches the disk at most this long after it was appended… */
const FLUSH_INTERVAL_MS = 200;
/** …or as soon as this many bytes are waiting. */
const FLUSH_BYTES = 64 * 1024;

interface Batch {
  data: Buffer;
  indexes: Partial<Record<IndexName, Buffer>>;
}

/**
 * The log of one run, open for appending; made by `RunLogs.open`. After a write fails (a full disk),
 * nothing more reaches the files: `append` still numbers and returns entries (so live viewers see
 * them), `flush` and `close` reject with that error, and reopening the log repairs it.
 */
export class RunLogWriter {
  readonly runId: number;
  private nextId: number;
  private size: number;
  private lines: string[] = [];
  private pendingBytes = 0;
  /** Per index, the offset and length of each waiting line, one after the other. */
  private pendingRecords = emptyRecords();
  private timer: NodeJS.Timeout | null = null;
  /** The queue of batch writes. It never rejects: a failure is kept in `failure`. */
  private writing: Promise<void>;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private readonly handles = new Map<'data' | IndexName, fs.FileHandle>();

  /**
   * A writer continuing a log at `start`. Nothing is written before `after` settles; when it rejects,
   * its error becomes this writer's failure (the same log failed under a previous writer).
   */
  constructor(
    private readonly paths: RunLogPaths,
    start: LogPosition,
    private readonly onClosed: (writer: RunLogWriter) => void,
    after: Promise<unknown> = Promise.resolve(),
  ) {
    this.runId = paths.runId;
    this.nextId = start.entries + 1;
    this.size = start.dataSize;
    this.writing = after.then(
      () => undefined,
      (error) => void (this.failure = asError(error)),
    );
  }

  /** A writer that continues where `previous`, which is closing, stops, and writes once it has closed. */
  static continuing(previous: RunLogWriter, onClosed: (writer: RunLogWriter) => void): RunLogWriter {
    const end = { entries: previous.nextId - 1, dataSize: previous.size };
    return new RunLogWriter(previous.paths, end, onClosed, previous.close());
  }

  /** True once `close` has been called; appending then throws. */
  get isClosed(): boolean {
    return this.closing !== null;
  }

  /**
   * Adds an entry with the next id and the current time, its message cleaned to one line (see
   * cleanMessage), and returns it as stored. It is on disk within FLUSH_INTERVAL_MS.
   */
  append(level: LogLevel, message: string): LogEntry {
    if (this.closing) throw new Error(`The log of run ${this.runId} is closed`);
    const entry: LogEntry = { id: this.nextId++, run_id: this.runId, timestamp: new Date().toISOString(), level, message: cleanMessage(message) };
    const line = JSON.stringify(entry) + '\n';
    const length = Buffer.byteLength(line);
    this.pendingRecords.all.push(this.size, length);
    this.pendingRecords[level].push(this.size, length);
    this.lines.push(line);
    this.size += length;
    this.pendingBytes += length;
    if (this.pendingBytes >= FLUSH_BYTES) void this.enqueue();
    else this.timer ??= setTimeout(() => void this.enqueue(), FLUSH_INTERVAL_MS);
    return entry;
  }

  /** Resolves when every entry appended so far is written; rejects if a write failed. */
  async flush(): Promise<void> {
    await this.enqueue();
    if (this.failure) throw this.failure;
  }

  /**
   * Writes what is buffered, syncs the files to disk and closes them; rejects if a write failed (the
   * files are closed all the same). Calling it again returns the same promise.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    await this.enqueue();
    for (const handle of this.handles.values()) {
      if (!this.failure) await handle.sync().catch((error) => void (this.failure = asError(error)));
      await handle.close().catch(() => undefined);
    }
    this.handles.clear();
    this.onClosed(this);
    if (this.failure) throw this.failure;
  }

  /** Moves the buffered lines to the write queue; returns the queue, which never rejects. */
  private enqueue(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.lines.length === 0) return this.writing;
    const batch: Batch = { data: Buffer.from(this.lines.join('')), indexes: {} };
    for (const index of INDEX_NAMES) {
      if (this.pendingRecords[index].length > 0) batch.indexes[index] = encodeRecords(this.pendingRecords[index]);
    }
    this.lines = [];
    this.pendingBytes = 0;
    this.pendingRecords = emptyRecords();
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: Batch): Promise<void> {
    // After a failure the files no longer end where this writer counts; only a reopen's repair fixes that.
    if (this.failure) return;
    try {
      await writeAll(await this.handle('data'), batch.data);
      // The all index goes last, since it is what commits a batch: if the process dies before it is
      // written, repair cuts the data and drops any level records beyond the last committed line.
      for (const level of LOG_LEVELS) {
        const records = batch.indexes[level];
        if (records) await writeAll(await this.handle(level), records);
      }
      await writeAll(await this.handle('all'), batch.indexes.all!);
    } catch (error) {
      this.failure = asError(error);
    }
  }

  private async handle(name: 'data' | IndexName): Promise<fs.FileHandle> {
    let handle = this.handles.get(name);
    if (!handle) {
      handle = await fs.open(name === 'data' ? this.paths.data : this.paths.indexes[name], 'a', 0o600);
      this.handles.set(name, handle);
    }
    return handle;
  }
}

function emptyRecords(): Record<IndexName, number[]> {
  return { all: [], info: [], warning: [], error: [] };
}

/** Index records from offsets and lengths given one after the other. */
function encodeRecords(offsetsAndLengths: number[]): Buffer {
  const buffer = Buffer.alloc((offsetsAndLengths.length / 2) * RECORD_BYTES);
  for (let i = 0; i < offsetsAndLengths.length; i += 2) {
    encodeRecord(buffer, (i / 2) * RECORD_BYTES, { offset: offsetsAndLengths[i], length: offsetsAndLengths[i + 1] });
  }
  return buffer;
}

/** A write to a regular file can be short (a full disk): keep writing until all of it is there. */
async function writeAll(handle: fs.FileHandle, buffer: Buffer): Promise<void> {
  for (let written = 0; written < buffer.length; ) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written);
    if (bytesWritten === 0) throw new Error('Writing a run log made no progress');
    written += bytesWritten;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
