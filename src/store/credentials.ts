/** Credentials in the database; the secret arrives here already encrypted. */
import type { CredentialProvider, CredentialRecord } from '../domain/credentials.ts';
import type { Database } from './database.ts';
import { definedFields, nextId, now } from './repositories.ts';

export class CredentialRepository {
  constructor(private readonly db: Database) {}

  all(): readonly CredentialRecord[] {
    return this.db.data.credentials;
  }

  byId(id: number): CredentialRecord | undefined {
    return this.db.data.credentials.find((credential) => credential.id === id);
  }

  byName(name: string): CredentialRecord | undefined {
    return this.db.data.credentials.find((credential) => credential.name === name);
  }

  async create(fields: { name: string; provider_type: CredentialProvider; secret: string }): Promise<CredentialRecord> {
    const timestamp = now();
    const credential: CredentialRecord = { id: nextId(this.db.data, 'credentials'), ...fields, created_at: timestamp, updated_at: timestamp };
    this.db.data.credentials.push(credential);
    await this.db.write();
    return credential;
  }

  async update(credential: CredentialRecord, change: { name?: string; secret?: string }): Promise<CredentialRecord> {
    Object.assign(credential, definedFields(change), { updated_at: now() });
    await this.db.write();
    return credential;
  }

  async delete(id: number): Promise<void> {
    this.db.data.credentials = this.db.data.credentials.filter((credential) => credential.id !== id);
    await this.db.write();
  }
}
