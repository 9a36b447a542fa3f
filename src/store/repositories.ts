/**
 * Small repositories over the database. Each method that changes data resolves only after the
 * change is durably on disk, so an acknowledged API call survives a crash.
 */
import { defaultSettings, type Settings, type SettingsChange } from '../domain/settings.ts';
import type { Database, SessionRecord, StoreData, UserRecord } from './database.ts';

/** Hands out the next integer id of a collection; ids are never reused, even after deletes. */
export function nextId(data: StoreData, collection: string): number {
  const id = (data.last_ids[collection] ?? 0) + 1;
  data.last_ids[collection] = id;
  return id;
}

export const now = () => new Date().toISOString();

/**
 * The fields of a partial change that it sets: one it leaves `undefined` stays as it is on the
 * record (Object.assign would copy the `undefined` and clear it: `enabled: undefined` disabled a
 * channel once). A field is cleared with `null`, never with `undefined`.
 */
export function definedFields<T extends object>(change: T): Partial<T> {
  return Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * A record's "last used" time and address change on every request; writing the whole database for
 * each would cost a durable write per request. The change is made in memory at once (what the API
 * shows), and saved when the address changes or this long after the last save.
 */
export const LAST_USED_SAVE_INTERVAL_MS = 60_000;

/** Remembers when each record's "last used" was last saved, and says whether a new one must be. */
export class LastUsedSaves<Id> {
  private readonly savedAt = new Map<Id, number>();

  /** True when a use of `id` at `at` (from a new address or not) should be written now. */
  due(id: Id, at: number, addressChanged: boolean): boolean {
    const last = this.savedAt.get(id);
    if (!addressChanged && last !== undefined && at - last < LAST_USED_SAVE_INTERVAL_MS) return false;
    this.savedAt.set(id, at);
    return true;
  }

  forget(id: Id): void {
    this.savedAt.delete(id);
  }
}

export class UserRepository {
  constructor(private readonly db: Database) {}

  count(): number {
    return this.db.data.users.length;
  }

  byId(id: number): UserRecord | undefined {
    return this.db.data.users.find((user) => user.id === id);
  }

  byUsername(username: string): UserRecord | undefined {
    return this.db.data.users.find((user) => user.username === username);
  }

  all(): readonly UserRecord[] {
    return this.db.data.users;
  }

  async create(username: string, passwordHash: string): Promise<UserRecord> {
    const timestamp = now();
    const user: UserRecord = {
      id: nextId(this.db.data, 'users'),
      username,
      password_hash: passwordHash,
      totp_enabled: false,
      totp_secret: null,
      totp_last_step: null,
      recovery_code_hashes: [],
      created_at: timestamp,
      updated_at: timestamp,
    };
    this.db.data.users.push(user);
    await this.db.write();
    return user;
  }

  /** Applies `change` to the user (a field it leaves undefined is kept) and saves; returns the updated record. */
  async update(id: number, change: Partial<Omit<UserRecord, 'id' | 'created_at'>>): Promise<UserRecord> {
    const user = this.byId(id);
    if (!user) throw new Error(`user ${id} does not exist`);
    Object.assign(user, definedFields(change), { updated_at: now() });
    await this.db.write();
    return user;
  }
}

export class SessionRepository {
  private readonly saves = new LastUsedSaves<string>();

  constructor(private readonly db: Database) {}

  /** The sessions of a user that have not expired, oldest first. */
  activeOf(userId: number, at = new Date()): SessionRecord[] {
    return this.db.data.sessions.filter((s) => s.user_id === userId && new Date(s.expires_at) > at);
  }

  /** Notes that the session was used now from `from`; saved at most once a minute per session unless the address changes. */
  async touch(session: SessionRecord, from: string | null): Promise<void> {
    const at = new Date();
    const addressChanged = from !== null && from !== session.last_seen_from;
    session.last_seen_at = at.toISOString();
    if (from !== null) session.last_seen_from = from;
    if (this.saves.due(session.id, at.getTime(), addressChanged)) await this.db.write();
  }

  /** The session if it exists and has not expired. */
  active(id: string, at = new Date()): SessionRecord | undefined {
    const session = this.db.data.sessions.find((s) => s.id === id);
    return session && new Date(session.expires_at) > at ? session : undefined;
  }

  async create(session: SessionRecord): Promise<void> {
    const at = new Date();
    // Expired sessions are dropped whenever a new one is made, so the list stays small.
    this.db.data.sessions = this.db.data.sessions.filter((s) => new Date(s.expires_at) > at);
    this.db.data.sessions.push(session);
    await this.db.write();
  }

  async remove(id: string): Promise<void> {
    this.db.data.sessions = this.db.data.sessions.filter((s) => s.id !== id);
    this.saves.forget(id);
    await this.db.write();
  }

  /** Ends every session of the user; returns how many there were. */
  async removeAllOf(userId: number): Promise<number> {
    const before = this.db.data.sessions.length;
    this.db.data.sessions = this.db.data.sessions.filter((s) => s.user_id !== userId);
    await this.db.write();
    return before - this.db.data.sessions.length;
  }
}

export class SettingsRepository {
  constructor(private readonly db: Database) {}

  /** The effective settings: what the owner set over the defaults. */
  get(): Settings {
    const defaults = defaultSettings();
    // Rules added by a later version get their defaults even when the owner set some of the others.
    return { ...defaults, ...this.db.data.settings, notify: { ...defaults.notify, ...this.db.data.settings.notify } };
  }

  /** Merges `change` (already validated) into the stored settings; omitted keys stay as they were, `notify` merges key by key. */
  async update(change: SettingsChange): Promise<Settings> {
    const stored = this.db.data.settings;
    const notify = change.notify === undefined ? stored.notify : { ...stored.notify, ...change.notify };
    this.db.data.settings = { ...stored, ...change, ...(notify === undefined ? {} : { notify }) };
    await this.db.write();
    return this.get();
  }
}
