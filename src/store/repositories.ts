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

  /** Applies `change` to the user and saves; returns the updated record. */
  async update(id: number, change: Partial<Omit<UserRecord, 'id' | 'created_at'>>): Promise<UserRecord> {
    const user = this.byId(id);
    if (!user) throw new Error(`user ${id} does not exist`);
    Object.assign(user, change, { updated_at: now() });
    await this.db.write();
    return user;
  }
}

export class SessionRepository {
  constructor(private readonly db: Database) {}

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
