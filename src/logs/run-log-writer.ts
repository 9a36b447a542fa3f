/**
 * Appends to one run's log. `append` is synchronous and cheap (rsync can print 100,000 names in a
 * few seconds); lines are buffered and written in batches at least every FLUSH_INTERVAL_MS or when
 * FLUSH_BYTES are waiting, data first, then the index records.
 */
import { promises as fs } from 'node:fs';
import type { LogEntry, LogLevel } from '../domain/runs.ts';
import { dataFile, encodeRecord, indexFile, type IndexName } from './run-log-files.ts';

const FLUSH_INTERVAL_MS = 200;
const FLUSH_BYTES = 64 * 1024;
/** Longer messages are cut, so one runaway line cannot bloat a log or a WebSocket frame. */
export const MAX_MESSAGE_CHARS = 8192;
const TRUNCATION_MARK = ' … [truncated]';

/** One line of text: newlines become spaces, other control characters (but tab) become U+FFFD. */
export function cleanMessage(message: string): string {
  const oneLine = message.replace(/\r?\n|\r/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\uFFFD');
  return oneLine.length > MAX_MESSAGE_CHARS ? oneLine.slice(0, MAX_MESSAGE_CHARS) + TRUNCATION_MARK : oneLine;
}

type Handles = Partial<Record<'data' | IndexName, fs.FileHandle>>;

export class RunLogWriter {
  private nextId: number;
  private size: number;
  private pendingData: string[] = [];
  private pendingBytes = 0;
  private pendingRecords: Partial<Record<IndexName, Buffer[]>> = {};
  private readonly handles: Handles = {};
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  /** `entries` and `dataSize` describe what the files already hold (see repairLog). */
  constructor(
    private readonly dir: string,
    readonly runId: number,
    existing: { entries: number; dataSize: number },
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.nextId = existing.entries + 1;
    this.size = existing.dataSize;
  }

  /** Adds a line to the log and returns it as stored; it reaches the disk within FLUSH_INTERVAL_MS. */
  append(level: LogLevel, message: string): LogEntry {
    if (this.closed) throw new Error(`the log of run ${this.runId} is closed`);
    const entry: LogEntry = { id: this.nextId++, run_id: this.runId, timestamp: new Date().toISOString(), level, message: cleanMessage(message) };
    const line = JSON.stringify(entry) + '\n';
    const length = Buffer.byteLength(line);
    const record = encodeRecord({ offset: this.size, length });
    this.size += length;
    this.pendingData.push(line);
    this.pendingBytes += length;
    (this.pendingRecords.all ??= []).push(record);
    (this.pendingRecords[level] ??= []).push(record);
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    return entry;
  }

  /** Writes everything appended so far. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const data = this.pendingData.join('');
    const records = this.pendingRecords;
    this.pendingData = [];
    this.pendingBytes = 0;
    this.pendingRecords = {};
    if (data === '') return this.writing;
    this.writing = this.writing.then(async () => {
      await (await this.handle('data')).write(data);
      for (const [index, buffers] of Object.entries(records) as Array<[IndexName, Buffer[]]>) {
        await (await this.handle(index)).write(Buffer.concat(buffers));
      }
    });
    return this.writing;
  }

  /** Flushes, syncs to disk and closes the files; later appends throw. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    this.closed = true;
    await this.flush();
    for (const handle of Object.values(this.handles)) {
      await handle.sync();
      await handle.close();
    }
    this.onClosed();
  }

  private async handle(name: 'data' | IndexName): Promise<fs.FileHandle> {
    const file = name === 'data' ? dataFile(this.dir, this.runId) : indexFile(this.dir, this.runId, name);
    return (this.handles[name] ??= await fs.open(file, 'a', 0o600));
  }
}

