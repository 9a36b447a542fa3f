/**
 * What this daemon has sent to a destination: per file, the size and modification time of the
 * source file it uploaded. S3 and most WebDAV servers do not keep a file's own mtime, so this record
 * (with the remote listing's size, which must still agree) is what makes a rerun with no change
 * send nothing. It belongs to one destination: a job pointed elsewhere starts a fresh record.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../../store/durable-file.ts';

type Sent = [size: number, mtimeMs: number];

export class SentFiles {
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly destination: string,
    private readonly files: Map<string, Sent>,
  ) {}

  /** The record kept in `file` for `destination`; an empty one when there is none, or it is for another destination or unreadable. */
  static async load(file: string, destination: string): Promise<SentFiles> {
    try {
      const saved = JSON.parse(await fs.readFile(file, 'utf8'));
      if (saved?.destination === destination && saved.files && typeof saved.files === 'object') {
        return new SentFiles(file, destination, new Map(Object.entries(saved.files as Record<string, Sent>)));
      }
    } catch {
      // Missing or damaged: the files are compared by listing and sent again where in doubt.
    }
    return new SentFiles(file, destination, new Map());
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** True when the file at `path` was sent from a source file of this size and mtime. */
  sentAs(path: string, size: number, mtimeMs: number): boolean {
    const sent = this.files.get(path);
    return sent !== undefined && sent[0] === size && sent[1] === mtimeMs;
  }

  record(path: string, size: number, mtimeMs: number): void {
    this.files.set(path, [size, mtimeMs]);
    this.dirty = true;
  }

  forget(path: string): void {
    this.dirty = this.files.delete(path) || this.dirty;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileDurably(this.file, JSON.stringify({ destination: this.destination, files: Object.fromEntries(this.files) }));
    this.dirty = false;
  }
}
