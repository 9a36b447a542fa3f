/**
 * The audit log: who did what, from where, when. Entries are appended to a JSONL file in the data
 * dir (one fsynced line each) rather than to the database, which is one document rewritten whole on
 * every change: 10,000 entries there would make every write of every resource megabytes long. The
 * file is bounded: once it holds a tenth more than the newest `maxEntries()` it is rewritten
 * durably with just those. A line torn by a crash is skipped when the file is read back.
 */
import { existsSync, promises as fs } from 'node:fs';
import { writeFileDurably } from '../store/index.ts';

export const AUDIT_FILE = 'audit.jsonl';

/** One audited event. Names and ids only: no body, no secret, no token. */
export interface AuditEntry {
  id: number;
  /** ISO-8601 UTC. */
  at: string;
  /** e.g. `job.create`, `auth.login`, or `POST /api/…` for a route that declares no name. */
  action: string;
  outcome: 'success' | 'failure';
  /** The HTTP status the request was answered with. */
  status: number;
  /** The username (session, or the name a login gave) or the API key's name; null when unknown. */
  actor: string | null;
  actor_type: 'session' | 'key' | 'anonymous';
  /** The client's address as `api/client-address.ts` tells it. */
  address: string;
  method: string;
  /** The request path (no query string). */
  path: string;
  /** The id the action was about: the path's `id`, or the id of what a create made. */
  target_id: number | string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

/** `GET /api/audit`'s filters; every one optional. */
export interface AuditQuery {
  limit: number;
  offset: number;
  action?: string;
  actor?: string;
  since?: Date;
  until?: Date;
}

export class AuditLog {
  private entries: AuditEntry[] = [];
  private lastId = 0;
  private linesInFile = 0;
  /** The file ends in a line torn by a crash: the next append must start a new line. */
  private endsTorn = false;
  private queue: Promise<void> = Promise.resolve();

  /** @param maxEntries how many of the newest entries are kept (a setting, read on every append) */
  private constructor(
    private readonly file: string,
    private readonly maxEntries: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Reads the log at `file` (creating nothing until the first entry). */
  static async open(file: string, maxEntries: () => number, onError: (error: unknown) => void): Promise<AuditLog> {
    const log = new AuditLog(file, maxEntries, onError);
    if (existsSync(file)) {
      const text = await fs.readFile(file, 'utf8');
      log.endsTorn = text !== '' && !text.endsWith('\n');
      const lines = text.split('\n').filter((line) => line !== '');
      log.linesInFile = lines.length;
      for (const line of lines) {
        try {
          log.entries.push(JSON.parse(line) as AuditEntry);
        } catch {
          // A line torn by a crash: the entries around it still count.
        }
      }
      log.lastId = log.entries.reduce((max, entry) => Math.max(max, entry.id), 0);
      log.entries = log.entries.slice(-maxEntries());
    }
    return log;
  }

  /**
   * Records an entry: visible to `query` at once, on disk once the returned promise resolves.
   * A failed write is reported to `onError` and never fails the request that was audited.
   */
  record(fields: NewAuditEntry): Promise<void> {
    const entry: AuditEntry = { id: ++this.lastId, at: new Date().toISOString(), ...fields };
    this.entries.push(entry);
    const max = this.maxEntries();
    if (this.entries.length > max) this.entries = this.entries.slice(-max);
    this.queue = this.queue.then(() => this.write(entry, max)).catch(this.onError);
    return this.queue;
  }

  /** Entries matching the filters, newest first, one page of them, and how many match in all. */
  query(query: AuditQuery): { entries: AuditEntry[]; total: number } {
    const matching = this.entries.filter(
      (entry) =>
        (query.action === undefined || entry.action === query.action) &&
        (query.actor === undefined || entry.actor === query.actor) &&
        (query.since === undefined || new Date(entry.at) >= query.since) &&
        (query.until === undefined || new Date(entry.at) <= query.until),
    );
    matching.reverse();
    return { entries: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  /** Waits for every entry recorded so far to be on disk. */
  flush(): Promise<void> {
    return this.queue;
  }

  private async write(entry: AuditEntry, max: number): Promise<void> {
    if (this.linesInFile + 1 > max + Math.ceil(max / 10)) {
      // Rewritten whole and atomically, so a crash leaves the old file or the trimmed one.
      // Entries recorded after this one are still queued and append themselves.
      const kept = this.entries.filter((recorded) => recorded.id <= entry.id).slice(-max);
      await writeFileDurably(this.file, kept.map((kept) => JSON.stringify(kept) + '\n').join(''));
      this.linesInFile = kept.length;
      this.endsTorn = false;
      return;
    }
    const handle = await fs.open(this.file, 'a', 0o600);
    try {
      await handle.appendFile((this.endsTorn ? '\n' : '') + JSON.stringify(entry) + '\n');
      this.endsTorn = false;
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.linesInFile += 1;
  }
}
