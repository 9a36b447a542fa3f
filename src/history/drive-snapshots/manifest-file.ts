/**
 * A snapshot's manifest on disk: `.cairn-manifest` at the snapshot's top, beside the source folders
 * (a dot file, named so that nobody copying files out takes it for a backed-up one). Plain text:
 *   line 1   `cairn-manifest 1`
 *   then     `<sha256 hex>\t<size>\t<mtime ns>\t<inode>\t<path as a JSON string>`, one per regular file,
 * paths relative to the snapshot's top (`photos/2024/img.jpg`), in tree order (see comparePaths), so
 * that it is written and read as a stream, never held whole in memory.
 */
import { createReadStream, promises as fs } from 'node:fs';
import readline from 'node:readline';

export const MANIFEST_NAME = '.cairn-manifest';
const HEADER = 'cairn-manifest 1';

/** One file of a snapshot. */
export interface ManifestEntry {
  path: string;
  size: number;
  /** Modification time in nanoseconds since the epoch (as text: it does not fit a double). */
  mtimeNs: string;
  /** Inode number (as text); the same in two snapshots means the same hard-linked file. */
  ino: string;
  sha256: string;
}

/**
 * The order of a manifest: component by component, each compared as a string, so that a folder's
 * files come right after it, as a depth-first walk that sorts each folder's names meets them.
 */
export function comparePaths(a: string, b: string): number {
  // The same as comparing component lists: '/' never occurs inside a name, so ranking it below
  // every other character orders a folder's contents right after it, with no splitting.
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === SLASH ? -1 : x) - (y === SLASH ? -1 : y);
  }
  return a.length - b.length;
}

const SLASH = 0x2f;

/** Reads a manifest entry by entry, in order; `next()` gives null at the end. */
export class ManifestReader {
  private readonly lines: AsyncIterator<string>;
  private started = false;

  constructor(private readonly file: string) {
    this.lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  async next(): Promise<ManifestEntry | null> {
    if (!this.started) {
      this.started = true;
      const first = await this.lines.next();
      if (first.done || first.value !== HEADER) throw new Error(`${this.file} is not a Cairn manifest`);
    }
    const line = await this.lines.next();
    if (line.done) return null;
    const [sha256, size, mtimeNs, ino, quoted] = line.value.split('\t');
    return { sha256, size: Number(size), mtimeNs, ino, path: JSON.parse(quoted) as string };
  }

  /** Stops reading early. */
  async close(): Promise<void> {
    await this.lines.return?.();
  }
}

/** Writes a manifest through a buffer to a temporary name, then fsyncs and renames it into place. */
export class ManifestWriter {
  private chunks: string[] = [];
  private buffered = 0;

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly temp: string,
    private readonly target: string,
  ) {}

  static async create(target: string): Promise<ManifestWriter> {
    const temp = `${target}.tmp`;
    const writer = new ManifestWriter(await fs.open(temp, 'w'), temp, target);
    writer.chunks.push(`${HEADER}\n`);
    return writer;
  }

  /** Buffers one line; call flushIfFull now and then (the buffer is written when it holds 256 KiB). */
  add(entry: ManifestEntry): void {
    const line = `${entry.sha256}\t${entry.size}\t${entry.mtimeNs}\t${entry.ino}\t${JSON.stringify(entry.path)}\n`;
    this.chunks.push(line);
    this.buffered += line.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.buffered > 256 * 1024) await this.flush();
  }

  /** Makes the manifest durable under its name. */
  async finish(): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await fs.rename(this.temp, this.target);
  }

  /** Gives up: the temporary file is removed. */
  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true });
  }

  private async flush(): Promise<void> {
    const text = this.chunks.join('');
    this.chunks = [];
    this.buffered = 0;
    if (text !== '') await this.handle.write(text);
  }
}
