/** API keys in the database: hashes and metadata only, never a key. Changes resolve once durably written. */
import type { ApiKeyRecord, Database } from './database.ts';
import { LastUsedSaves, nextId, now } from './repositories.ts';

export type NewApiKey = Omit<ApiKeyRecord, 'id' | 'created_at' | 'last_used_at' | 'last_used_from'>;

export class ApiKeyRepository {
  private readonly saves = new LastUsedSaves<number>();

  constructor(private readonly db: Database) {}

  /** Every key, oldest first (expired ones included, until revoked). */
  all(): readonly ApiKeyRecord[] {
    return this.db.data.api_keys;
  }

  byId(id: number): ApiKeyRecord | undefined {
    return this.db.data.api_keys.find((key) => key.id === id);
  }

  byHash(hash: string): ApiKeyRecord | undefined {
    return this.db.data.api_keys.find((key) => key.key_hash === hash);
  }

  async create(fields: NewApiKey): Promise<ApiKeyRecord> {
    const key: ApiKeyRecord = { id: nextId(this.db.data, 'api_keys'), ...fields, created_at: now(), last_used_at: null, last_used_from: null };
    this.db.data.api_keys.push(key);
    await this.db.write();
    return key;
  }

  /** Notes that the key was used now from `from`; saved at most once a minute per key unless the address changes. */
  async touch(key: ApiKeyRecord, from: string | null): Promise<void> {
    const at = new Date();
    const addressChanged = from !== null && from !== key.last_used_from;
    key.last_used_at = at.toISOString();
    if (from !== null) key.last_used_from = from;
    if (this.saves.due(key.id, at.getTime(), addressChanged)) await this.db.write();
  }

  /** Deletes the key; false when there was none. */
  async delete(id: number): Promise<boolean> {
    const before = this.db.data.api_keys.length;
    this.db.data.api_keys = this.db.data.api_keys.filter((key) => key.id !== id);
    if (this.db.data.api_keys.length === before) return false;
    this.saves.forget(id);
    await this.db.write();
    return true;
  }
}
