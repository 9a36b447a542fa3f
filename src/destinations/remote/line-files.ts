/** Files of text lines written and read a piece at a time, so a list of a million paths never sits in memory whole. */
import { createReadStream, promises as fs } from 'node:fs';

/** Bytes gathered before a write: few system calls, little memory. */
const CHUNK_CHARS = 64 * 1024;

/** Appends lines to a new file (mode 0600); `close` flushes it, fsynced when asked. */
export class LineWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  /** Lines written so far. */
  count = 0;

  private constructor(private readonly handle: fs.FileHandle) {}

  /** Creates (or empties) `file` for writing. */
  static async create(file: string): Promise<LineWriter> {
    return new LineWriter(await fs.open(file, 'w', 0o600));
  }

  async write(line: string): Promise<void> {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    this.count++;
    if (this.pendingChars >= CHUNK_CHARS) await this.flush();
  }

  async close(options: { sync?: boolean } = {}): Promise<void> {
    try {
      await this.flush();
      if (options.sync) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.pendingChars = 0;
    await this.handle.write(text);
  }
}

/**
 * The lines of `file`, one at a time; a missing file has none. Split by hand from 64 KB reads:
 * readline's event machinery cost more than the parsing of each line of the record of sent files.
 */
export async function* readLines(file: string): AsyncGenerator<string> {
  for await (const batch of readLineBatches(file)) yield* batch;
}

/**
 * The lines of `file` as they come, one batch per 64 KB read (at most a few thousand lines): a
 * reader that takes them a batch at a time pays one asynchronous step per read rather than one per
 * line, which on a no-change run over 100,000 files was the largest part of reading the record (issue 17).
 */
export async function* readLineBatches(file: string): AsyncGenerator<string[]> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_CHARS });
  const missing = new Promise<boolean>((resolve) => {
    stream.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT'));
    stream.once('open', () => resolve(false));
  });
  if (await missing) return;
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      const batch: string[] = [];
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        if (end > start) batch.push(text.slice(start, end));
        start = end + 1;
      }
      rest = text.slice(start);
      if (batch.length > 0) yield batch;
    }
    if (rest !== '') yield [rest];
  } finally {
    stream.destroy();
  }
}

/** A list of paths kept on disk while it is made, then read back in the order it was written. */
export class PathSpool {
  private writer: LineWriter | null = null;

  constructor(private readonly file: string) {}

  get count(): number {
    return this.writer?.count ?? 0;
  }

  async add(relative: string): Promise<void> {
    this.writer ??= await LineWriter.create(this.file);
    await this.writer.write(JSON.stringify(relative));
  }

  /** The paths added, in order; call once (this or `pathBatches`), after the last `add`. */
  async *paths(): AsyncGenerator<string> {
    for await (const batch of this.pathBatches()) yield* batch;
  }

  /** The paths added, in order, a batch per read of the file. */
  async *pathBatches(): AsyncGenerator<string[]> {
    if (!this.writer) return;
    await this.writer.close();
    for await (const lines of readLineBatches(this.file)) yield lines.map((line) => JSON.parse(line) as string);
  }

  /** Removes the file; safe to call more than once. */
  async discard(): Promise<void> {
    await this.writer?.close().catch(() => undefined);
    await fs.rm(this.file, { force: true });
  }
}
