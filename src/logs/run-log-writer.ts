/**
 * Appends to one run's log. `append` is synchronous and cheap, since rsync can print 100,000 names
 * in a few seconds: lines are buffered and written in batches, one write per file per batch.
 * A log is kept to a size (LogLimits): a million-file run would otherwise write ~200 MB of names,
 * on an SD card, for every run kept.
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

/** How much of one run's log is written. */
export interface LogLimits {
  /**
   * Bytes of log text past which info lines are counted, not written. Warnings and errors go on to
   * twice this, so the problems after a long list of names are still there; then nothing more is
   * written but the run's outcome line (`last`) and one closing line that says how many lines of
   * each level were left out.
   */
  maxBytes: number;
}

/** The default: 16 MB, some 80,000 lines of file names. */
export const DEFAULT_LOG_LIMITS: LogLimits = { maxBytes: 16_000_000 };

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
  /** Lines not written because the log reached its limit, by level. */
  private readonly leftOut: Record<LogLevel, number> = { info: 0, warning: 0, error: 0 };

  /**
   * A writer continuing a log at `start`. Nothing is written before `after` settles; when it rejects,
   * its error becomes this writer's failure (the same log failed under a previous writer).
   */
  constructor(
    private readonly paths: RunLogPaths,
    start: LogPosition,
    private readonly onClosed: (writer: RunLogWriter) => void,
    after: Promise<unknown> = Promise.resolve(),
    private readonly limits: LogLimits = DEFAULT_LOG_LIMITS,
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
    return new RunLogWriter(previous.paths, end, onClosed, previous.close(), previous.limits);
  }

  /** True once `close` has been called; appending then throws. */
  get isClosed(): boolean {
    return this.closing !== null;
  }

  /**
   * Adds an entry with the next id and the current time, its message cleaned to one line (see
   * cleanMessage), and returns it as stored. It is on disk within FLUSH_INTERVAL_MS. Returns null,
   * storing nothing, when the log has reached its limit for this level (see LogLimits) — except for
   * the run's outcome (`last`: how it completed or why it failed), which one line past the limit keeps.
   */
  append(level: LogLevel, message: string, options: { last?: boolean } = {}): LogEntry | null {
    if (this.closing) throw new Error(`The log of run ${this.runId} is closed`);
    const entry: LogEntry = { id: this.nextId, run_id: this.runId, timestamp: new Date().toISOString(), level, message: cleanMessage(message) };
    const line = JSON.stringify(entry) + '\n';
    const room = level === 'info' ? this.limits.maxBytes : 2 * this.limits.maxBytes;
    if (!options.last && this.size + Buffer.byteLength(line) > room) {
      this.leftOut[level] += 1;
      return null;
    }
    return this.store(entry, line);
  }

  private store(entry: LogEntry, line: string): LogEntry {
    const { level } = entry;
    this.nextId += 1;
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

  /**
   * When lines were left out, adds the line that says how many (past the limit, as the last word)
   * and returns it; null otherwise. Called by `close` too; call it first to show the line live.
   */
  noteLeftOut(): LogEntry | null {
    const summary = leftOutSummary(this.leftOut, this.limits);
    if (!summary) return null;
    for (const level of LOG_LEVELS) this.leftOut[level] = 0;
    const entry: LogEntry = { id: this.nextId, run_id: this.runId, timestamp: new Date().toISOString(), level: 'warning', message: summary };
    return this.store(entry, JSON.stringify(entry) + '\n');
  }

  private async shutDown(): Promise<void> {
    this.noteLeftOut();
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

/** The closing line of a log that reached its limit, or null when nothing was left out. */
function leftOutSummary(leftOut: Record<LogLevel, number>, limits: LogLimits): string | null {
  const counts = LOG_LEVELS.filter((level) => leftOut[level] > 0).map((level) => `${leftOut[level].toLocaleString('en')} ${level === 'info' ? 'info' : `${level}s`}`);
  if (counts.length === 0) return null;
  const total = LOG_LEVELS.reduce((sum, level) => sum + leftOut[level], 0);
  return (
    `This log reached its limit of ${Math.round(limits.maxBytes / 1e6)} MB (CAIRN_RUN_LOG_MAX_MB): ${total.toLocaleString('en')} later lines ` +
    `(${counts.join(', ')}) were not kept. The run's totals still count every file.`
  );
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
