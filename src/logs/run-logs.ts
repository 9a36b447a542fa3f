/** Every run's log under one folder: open for appending, read a page, tail, remove. */
import { mkdirSync, promises as fs } from 'node:fs';
import type { LogEntry, LogLevel } from '../domain/runs.ts';
import { INDEX_NAMES, runLogPaths, type RunLogPaths } from './run-log-files.ts';
import { readSlice, type Choose, type IndexSlice } from './run-log-reader.ts';
import { repairLog } from './run-log-repair.ts';
import { DEFAULT_LOG_LIMITS, RunLogWriter, type LogLimits } from './run-log-writer.ts';

/** Which entries to read: `limit` entries from `offset`, counting only entries of `level` when given. */
export interface LogQuery {
  offset: number;
  limit: number;
  level?: LogLevel;
}

/** A page of a run's log, in log order (oldest first). */
export interface LogPage {
  entries: LogEntry[];
  /** Entries matching the level filter in the whole log. */
  total: number;
}

/**
 * The run logs in one folder, and the one open writer per run. Reads see every entry appended through
 * this object's writers, flushed or not. The folder is created (mode 0700) when a log is first opened.
 */
export class RunLogs {
  private readonly writers = new Map<number, RunLogWriter>();
  private folderReady = false;

  constructor(
    private readonly dir: string,
    private readonly limits: LogLimits = DEFAULT_LOG_LIMITS,
  ) {}

  /**
   * The run's writer: the one already open, or a new one that continues the log after its last
   * entry (after repairing what a crash left) or starts it at id 1. Opening a run while it is being
   * removed is not supported.
   */
  open(runId: number): RunLogWriter {
    const current = this.writers.get(runId);
    if (current && !current.isClosed) return current;
    const forget = (closed: RunLogWriter) => {
      if (this.writers.get(runId) === closed) this.writers.delete(runId);
    };
    // A writer that is still closing has the last word on the files; its successor waits for it.
    const writer = current ? RunLogWriter.continuing(current, forget) : new RunLogWriter(this.paths(runId), this.repaired(runId), forget, undefined, this.limits);
    this.writers.set(runId, writer);
    return writer;
  }

  /**
   * A page of the run's log and the count of matching entries. Lines a crash damaged are left out;
   * a run with no log reads as `{ entries: [], total: 0 }`.
   */
  async read(runId: number, query: LogQuery): Promise<LogPage> {
    return this.slice(runId, query.level, () => [query.offset, query.offset + Math.max(0, query.limit)]);
  }

  /** The last `count` entries of the run's log, oldest first. */
  async tail(runId: number, count: number): Promise<LogEntry[]> {
    return (await this.slice(runId, undefined, (total) => [total - Math.max(0, count), total])).entries;
  }

  /** Closes the run's writer if open and deletes the run's files; no error when there are none. */
  async remove(runId: number): Promise<void> {
    const writer = this.writers.get(runId);
    this.writers.delete(runId);
    // The files are going away, so a failed last write to them does not matter.
    await writer?.close().catch(() => undefined);
    const paths = this.paths(runId);
    await Promise.all([paths.data, ...INDEX_NAMES.map((index) => paths.indexes[index])].map((file) => fs.rm(file, { force: true })));
  }

  /** Closes every open writer (see RunLogWriter.close); rejects with the first failure after trying all. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.writers.values()].map((writer) => writer.close()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private async slice(runId: number, level: LogLevel | undefined, choose: Choose): Promise<IndexSlice> {
    // A failed write is its writer's owner's to report; the reader gets what reached the disk.
    await this.writers.get(runId)?.flush().catch(() => undefined);
    return readSlice(this.paths(runId), level ?? 'all', choose);
  }

  private repaired(runId: number) {
    if (!this.folderReady) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.folderReady = true;
    return repairLog(this.paths(runId));
  }

  private paths(runId: number): RunLogPaths {
    return runLogPaths(this.dir, runId);
  }
}
