/** Every run's log under one folder: open for appending, read a page, tail, remove. */
import { promises as fs } from 'node:fs';
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../domain/runs.ts';
import { dataFile, indexFile, readLines, readRecords, repairLog, usableRecordCount, type IndexName } from './run-log-files.ts';
import { RunLogWriter } from './run-log-writer.ts';

export interface LogPage {
  entries: LogEntry[];
  /** Entries matching the level filter in the whole log. */
  total: number;
}

export class RunLogs {
  private readonly writers = new Map<number, RunLogWriter>();
  private ready: Promise<unknown> | null = null;

  constructor(private readonly dir: string) {}

  /**
   * The writer of a run's log, creating the log or continuing an existing one (after repairing what
   * a crash left). While a writer is open, opening the same run again returns it.
   */
  async open(runId: number): Promise<RunLogWriter> {
    const open = this.writers.get(runId);
    if (open) return open;
    await this.prepare();
    const writer = new RunLogWriter(this.dir, runId, await repairLog(this.dir, runId, LOG_LEVELS), () => {
      if (this.writers.get(runId) === writer) this.writers.delete(runId);
    });
    this.writers.set(runId, writer);
    return writer;
  }

  /** A page of the log; entries still buffered by an open writer are included. */
  async read(runId: number, query: { offset: number; limit: number; level?: LogLevel }): Promise<LogPage> {
    await this.flushOpen(runId);
    const index: IndexName = query.level ?? 'all';
    const total = await usableRecordCount(this.dir, runId, index);
    const records = await readRecords(this.dir, runId, index, query.offset, Math.min(query.limit, total - query.offset));
    const entries: LogEntry[] = [];
    for (const line of await readLines(this.dir, runId, records)) {
      try {
        entries.push(JSON.parse(line) as LogEntry);
      } catch {
        // A line damaged by a crash is skipped, never allowed to break the page.
      }
    }
    return { entries, total };
  }

  /** The last `count` entries, oldest first. */
  async tail(runId: number, count: number): Promise<LogEntry[]> {
    await this.flushOpen(runId);
    const total = await usableRecordCount(this.dir, runId, 'all');
    return (await this.read(runId, { offset: Math.max(0, total - count), limit: count })).entries;
  }

  /** Deletes a run's log files (closing its writer first); no error when there are none. */
  async remove(runId: number): Promise<void> {
    const writer = this.writers.get(runId);
    this.writers.delete(runId);
    await writer?.close();
    const files = [dataFile(this.dir, runId), ...(['all', ...LOG_LEVELS] as IndexName[]).map((index) => indexFile(this.dir, runId, index))];
    await Promise.all(files.map((file) => fs.rm(file, { force: true })));
  }

  /** Flushes and closes every open writer. */
  async close(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    for (const writer of writers) await writer.close();
  }

  private prepare(): Promise<unknown> {
    return (this.ready ??= fs.mkdir(this.dir, { recursive: true, mode: 0o700 }));
  }

  private async flushOpen(runId: number): Promise<void> {
    await this.writers.get(runId)?.flush();
  }
}
