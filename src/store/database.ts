/**
 * The lowdb database file: opened once at start, kept in memory, written through the durable writer.
 * A file that cannot be read is moved aside and the daemon refuses to start until the owner decides.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { ApiKeyScope } from '../domain/api-keys.ts';
import type { CredentialRecord } from '../domain/credentials.ts';
import type { JobRecord } from '../domain/jobs.ts';
import type { AlertRecord, AlertState, ChannelRecord } from '../domain/notifications.ts';
import { emptyRetentionPolicy } from '../domain/retention.ts';
import { emptyRunStats, recordOutcome, type RunStatsData } from '../domain/run-stats.ts';
import type { RunRecord } from '../domain/runs.ts';
import type { StoredSchedule } from '../domain/schedules.ts';
import { defaultSettings, type Settings, type SettingsChange } from '../domain/settings.ts';
import { removeStaleTempFiles, writeFileDurably } from './durable-file.ts';

export const DATABASE_FILE = 'cairn-db.json';
/** Present while a damaged database waits for the owner's decision. */
export const BLOCKED_MARKER = 'cairn-db.blocked';

export interface UserRecord {
  id: number;
  username: string;
  password_hash: string;
  totp_enabled: boolean;
  /** Vault-encrypted TOTP secret, set while 2FA is enabled. */
  totp_secret: string | null;
  /** The last TOTP time step accepted, so a code cannot be replayed. */
  totp_last_step: number | null;
  /** SHA-256 hashes of the unused recovery codes. */
  recovery_code_hashes: string[];
  created_at: string;
  updated_at: string;
}

export interface SessionRecord {
  id: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  /** When the session was last used, and the client address it was used from (the login's, at first). */
  last_seen_at: string;
  last_seen_from: string | null;
}

/** An API key as stored: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  scope: ApiKeyScope;
  /** The user the key acts for (the one who made it). */
  user_id: number;
  /** Hex SHA-256 of the whole key. */
  key_hash: string;
  /** The key's first characters (`cairn_` and 4 more), so the owner can tell keys apart. */
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_from: string | null;
}

export interface StoreData {
  schema_version: number;
  /** Last id handed out per collection; ids are never reused. */
  last_ids: Record<string, number>;
  users: UserRecord[];
  sessions: SessionRecord[];
  /** Only the settings the owner changed; defaults fill the rest at read time. */
  settings: SettingsChange;
  jobs: JobRecord[];
  schedules: StoredSchedule[];
  /** Run records only; their logs are files under logs/. */
  runs: RunRecord[];
  credentials: CredentialRecord[];
  notification_channels: ChannelRecord[];
  /** Alerts sent, oldest first, bounded (see AlertRepository). */
  notification_history: AlertRecord[];
  /** What the alert rules remember per job. */
  alert_states: AlertState[];
  /** Per snapshots job, what its backup folder held when last read (shown while the drive is away). */
  snapshot_tallies: SnapshotTally[];
  api_keys: ApiKeyRecord[];
  /** Counters, last outcomes and the daily series, kept when runs are pruned (domain/run-stats.ts). */
  run_stats: RunStatsData;
}

/** What a job's backup folder held when the daemon last listed it. */
export interface SnapshotTally {
  job_id: number;
  /** Complete snapshots found. */
  count: number;
  /** Time of the newest one (ISO-8601 UTC), null when there was none. */
  latest_at: string | null;
  /** The folder it was read from (the destination's identity): counts of another folder are not shown. */
  folder: string;
}

export const SCHEMA_VERSION = 8;

/**
 * migrations[n] turns data of version n-1 into version n. Add one for every change of shape and
 * bump SCHEMA_VERSION; never edit a migration that has shipped.
 */
const migrations: Record<number, (data: Record<string, unknown>) => void> = {
  1: (data) => {
    data.last_ids ??= {};
    data.users ??= [];
    data.sessions ??= [];
    data.settings ??= {};
  },
  2: (data) => {
    data.jobs ??= [];
    data.schedules ??= [];
    data.runs ??= [];
  },
  3: (data) => {
    data.credentials ??= [];
  },
  // History arrived: every existing job stays a mirror and keeps everything.
  4: (data) => {
    for (const job of data.jobs as Array<Record<string, unknown>>) {
      job.backup_mode ??= 'mirror';
      job.retention ??= emptyRetentionPolicy();
    }
  },
  // Alerts arrived: every job follows the default rules.
  5: (data) => {
    for (const job of data.jobs as Array<Record<string, unknown>>) job.notify ??= {};
    data.notification_channels ??= [];
    data.notification_history ??= [];
    data.alert_states ??= [];
  },
  // Snapshot counts are kept per job, so they show while the drive is unplugged.
  6: (data) => {
    data.snapshot_tallies ??= [];
  },
  // API keys arrived, and sessions are listed with where they were last used.
  7: (data) => {
    data.api_keys ??= [];
    for (const session of (data.sessions ?? []) as Array<Record<string, unknown>>) {
      session.last_seen_at ??= session.created_at;
      session.last_seen_from ??= null;
    }
  },
  // Run statistics begin with the runs still on record.
  8: (data) => {
    const stats = emptyRunStats();
    const timezone = (data.settings as Partial<Settings> | undefined)?.timezone ?? defaultSettings().timezone;
    const runs = [...((data.runs as RunRecord[] | undefined) ?? [])].sort((a, b) => a.id - b.id);
    for (const run of runs) recordOutcome(stats, run, timezone);
    data.run_stats ??= stats;
  },
};

function emptyData(): StoreData {
  const data: Record<string, unknown> = { schema_version: 0 };
  migrate(data);
  return data as unknown as StoreData;
}

function migrate(data: Record<string, unknown>): void {
  for (let version = Number(data.schema_version) + 1; version <= SCHEMA_VERSION; version++) {
    migrations[version](data);
    data.schema_version = version;
  }
}

/** The store cannot be opened; the message tells the owner what happened and what to do. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** lowdb adapter over writeFileDurably; concurrent writes coalesce into the latest state. */
class DurableJsonAdapter implements Adapter<StoreData> {
  private queue: Promise<void> = Promise.resolve();
  private waiting: { promise: Promise<void>; data: StoreData } | null = null;

  constructor(private readonly file: string) {}

  async read(): Promise<StoreData | null> {
    throw new Error('DurableJsonAdapter is read by openDatabase');
  }

  write(data: StoreData): Promise<void> {
    if (this.waiting) {
      this.waiting.data = data;
      return this.waiting.promise;
    }
    const waiting = { data, promise: Promise.resolve() };
    // Serialise when the write starts, so every change made until then is in it.
    waiting.promise = this.queue.then(() => {
      this.waiting = null;
      return writeFileDurably(this.file, JSON.stringify(waiting.data, null, 1));
    });
    this.waiting = waiting;
    this.queue = waiting.promise.catch(() => undefined);
    return waiting.promise;
  }
}

export type Database = Low<StoreData>;

/** Opens (or creates) the database in `dataDir`, applying migrations. */
export async function openDatabase(dataDir: string): Promise<Database> {
  const file = path.join(dataDir, DATABASE_FILE);
  const marker = path.join(dataDir, BLOCKED_MARKER);
  await removeStaleTempFiles(file);

  let data: StoreData;
  if (existsSync(file)) {
    const parsed = await readDatabaseFile(file);
    if (typeof parsed === 'string') {
      throw new StoreUnavailableError(await moveAside(file, marker, parsed));
    }
    if (parsed.schema_version > SCHEMA_VERSION) {
      throw new StoreUnavailableError(
        `The database ${file} was written by a newer Cairn (schema ${parsed.schema_version}; this one knows up to ${SCHEMA_VERSION}). Install the newer version again.`,
      );
    }
    // The owner put a readable database back: that is the decision we were waiting for.
    await fs.rm(marker, { force: true });
    data = parsed;
  } else if (existsSync(marker)) {
    throw new StoreUnavailableError(await fs.readFile(marker, 'utf8'));
  } else {
    data = emptyData();
  }

  const db = new Low<StoreData>(new DurableJsonAdapter(file), data);
  db.data = data;
  const before = data.schema_version;
  migrate(data as unknown as Record<string, unknown>);
  if (!existsSync(file) || data.schema_version !== before) await db.write();
  return db;
}

/** The parsed database, or why it cannot be used. */
async function readDatabaseFile(file: string): Promise<StoreData | string> {
  const text = await fs.readFile(file, 'utf8');
  if (text.trim() === '') return 'it is empty (truncated)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `it is not valid JSON (${(error as Error).message}); it may have been truncated`;
  }
  const looksRight =
    parsed !== null &&
    typeof parsed === 'object' &&
    Number.isInteger((parsed as StoreData).schema_version) &&
    Array.isArray((parsed as StoreData).users);
  return looksRight ? (parsed as StoreData) : 'it does not hold a Cairn database';
}

async function moveAside(file: string, marker: string, reason: string): Promise<string> {
  const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(file, aside);
  const message = [
    `Cairn's database could not be read: ${reason}.`,
    `It was moved aside to ${aside}; nothing was overwritten.`,
    `Cairn will not start until you decide:`,
    `  - to restore a good copy, put it at ${file} and start Cairn again;`,
    `  - to start with an empty database (users, jobs and settings are lost), run: cairn store reset`,
  ].join('\n');
  await writeFileDurably(marker, message + '\n');
  return message;
}

/** The owner's decision to start over after a damaged database: removes the block. */
export async function clearBlockedDatabase(dataDir: string): Promise<boolean> {
  const marker = path.join(dataDir, BLOCKED_MARKER);
  if (!existsSync(marker)) return false;
  await fs.rm(marker);
  return true;
}
