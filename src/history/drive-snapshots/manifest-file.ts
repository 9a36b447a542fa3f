/**
 * A snapshot's manifest on disk: `.cairn-manifest` at the snapshot's top, beside the source folders
 * (a dot file, named so that nobody copying files out takes it for a backed-up one). Plain text:
 *   line 1   `cairn-manifest 2`
 *   then     `<sha256 hex>\t<size>\t<mtime ns>\t<inode>\t<path as a JSON string>`, one per regular file,
 * paths relative to the snapshot's top (`photos/2024/img.jpg`), in rsync's order (see comparePaths),
 * so that it is written while rsync lists the tree and read as a stream, never held whole in memory.
 * The line of a file still being copied while the manifest is written is filled in afterwards in
 * place, so its numbers are written with leading zeros to a fixed width (readers ignore them).
 * Version 1 (an earlier Cairn) has the same lines in another order (a folder's entries by name,
 * files and folders mixed); it is read, and re-sorted when a merge needs it.
 */
import { createReadStream, promises as fs } from 'node:fs';
import readline from 'node:readline';

export const MANIFEST_NAME = '.cairn-manifest';
const HEADER_PREFIX = 'cairn-manifest ';
/** The version this Cairn writes: lines in rsync's order. */
export const MANIFEST_VERSION = 2;

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

/** A manifest line as read, not split into its fields (enough to merge it into the next manifest). */
export interface ManifestLine {
  /** The line without its newline. */
  line: string;
  path: string;
  size: number;
}

/**
 * The manifest's order, which is the order rsync lists a tree in: in each folder its files first,
 * by name, then its subfolders by name, each followed by its contents. Names compare by Unicode code
 * point (as rsync compares UTF-8 bytes), a folder's name as if it ended in '/'.
 */
export function comparePaths(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  if (i === length) return a.length - b.length;
  // In the first component that differs, a file (no '/' after it) comes before a folder.
  const aFile = a.indexOf('/', i) === -1;
  const bFile = b.indexOf('/', i) === -1;
  if (aFile !== bFile) return aFile ? -1 : 1;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // UTF-16 units order code points, except astral ones (surrogates) against U+E000–U+FFFF.
  if (x >= 0xd800 || y >= 0xd800) return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  return x - y;
}

/** Widths of a line's fields when it is written before its file is complete (filled in place later). */
const FIXED = { size: 20, mtimeNs: 20, ino: 20 };

/** A manifest line; `fixed` pads its numbers to FIXED widths (a line to be filled in place). */
export function formatLine(entry: ManifestEntry, fixed = false): string {
  const number = (text: string, width: number) => (fixed ? padNumber(text, width) : text);
  return `${entry.sha256}\t${number(String(entry.size), FIXED.size)}\t${number(entry.mtimeNs, FIXED.mtimeNs)}\t${number(entry.ino, FIXED.ino)}\t${JSON.stringify(entry.path)}`;
}

function padNumber(text: string, width: number): string {
  if (text.length > width) throw new Error(`${text} does not fit a manifest field of ${width}`);
  return text.startsWith('-') ? `-${text.slice(1).padStart(width - 1, '0')}` : text.padStart(width, '0');
}

/** Drops leading zeros (a fixed-width line's), so that equal numbers are equal texts. */
function plainNumber(text: string): string {
  return text.length > 1 && (text[0] === '0' || text[1] === '0') ? text.replace(/^(-?)0+(?=\d)/, '$1') : text;
}

/** Reads a manifest entry by entry, in its file's order; `next()` gives null at the end. */
export class ManifestReader {
  private readonly lines: AsyncIterator<string>;
  private started = false;
  private fileVersion = 0;

  constructor(private readonly file: string) {
    this.lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  /** The manifest's version (read with the header: call after a first next/nextLine). */
  get version(): number {
    return this.fileVersion;
  }

  async next(): Promise<ManifestEntry | null> {
    const raw = await this.nextLine();
    if (raw === null) return null;
    const [sha256, size, mtimeNs, ino] = raw.line.split('\t', 4);
    return { sha256, size: raw.size, mtimeNs: plainNumber(mtimeNs), ino: plainNumber(ino), path: raw.path };
  }

  /** The next line with its path and size only: what a merge copies as it is. */
  async nextLine(): Promise<ManifestLine | null> {
    if (!this.started) await this.readHeader();
    const next = await this.lines.next();
    if (next.done) return null;
    const line = next.value;
    const sizeAt = line.indexOf('\t') + 1;
    const quoted = line.slice(nthTab(line, 4) + 1);
    // Most names need no unescaping; JSON.parse only for the few that do.
    const path = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
    return { line, path, size: Number(line.slice(sizeAt, line.indexOf('\t', sizeAt))) };
  }

  /** Stops reading early. */
  async close(): Promise<void> {
    await this.lines.return?.();
  }

  private async readHeader(): Promise<void> {
    this.started = true;
    const first = await this.lines.next();
    const version = first.done || !first.value.startsWith(HEADER_PREFIX) ? NaN : Number(first.value.slice(HEADER_PREFIX.length));
    if (version !== 1 && version !== 2) throw new Error(`${this.file} is not a Cairn manifest`);
    this.fileVersion = version;
  }
}

function nthTab(line: string, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i += 1) at = line.indexOf('\t', at + 1);
  return at;
}

/**
 * Writes a manifest through a buffer to a temporary name, then fsyncs and renames it into place.
 * A line whose file is not complete yet is reserved (`reserve`) and filled in place (`fill`) once
 * the buffer is flushed.
 */
export class ManifestWriter {
  private chunks: string[] = [];
  private buffered = 0;
  /** Bytes written or buffered so far: where the next line starts. */
  private position = 0;

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly temp: string,
    private readonly target: string,
  ) {}

  static async create(target: string): Promise<ManifestWriter> {
    const temp = `${target}.tmp`;
    const writer = new ManifestWriter(await fs.open(temp, 'w'), temp, target);
    writer.addLine(`${HEADER_PREFIX}${MANIFEST_VERSION}`);
    return writer;
  }

  /** Buffers one line; call flushIfFull now and then (the buffer is written when it holds 256 KiB). */
  add(entry: ManifestEntry): void {
    this.addLine(formatLine(entry));
  }

  /** Buffers a line as read from another manifest (ManifestLine.line). */
  addLine(line: string): void {
    this.chunks.push(line, '\n');
    this.buffered += line.length + 1;
    this.position += Buffer.byteLength(line) + 1;
  }

  /** Buffers a placeholder for `path`'s line; returns where it starts, for `fill`. */
  reserve(path: string): number {
    const at = this.position;
    this.addLine(formatLine({ sha256: '-'.repeat(64), size: 0, mtimeNs: '0', ino: '0', path }, true));
    return at;
  }

  /** Writes `entry`'s line over the placeholder `reserve` gave `at` (after a flush). */
  async fill(at: number, entry: ManifestEntry): Promise<void> {
    const line = Buffer.from(formatLine(entry, true));
    await this.handle.write(line, 0, line.length, at);
  }

  async flushIfFull(): Promise<void> {
    if (this.buffered > 256 * 1024) await this.flush();
  }

  /** Writes what is buffered (so that reserved lines can be filled). */
  async flush(): Promise<void> {
    const text = this.chunks.join('');
    this.chunks = [];
    this.buffered = 0;
    if (text !== '') await this.handle.write(text);
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
}
