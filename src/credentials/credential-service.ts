/**
 * Credential workflows (contract: Credentials): secrets are checked against their provider's
 * shape, encrypted with the vault before they are stored, and only ever decrypted for a run or a
 * connection test. The one serializer leaves the secret out.
 */
import { allDestinations } from '../destinations/index.ts';
import type { Destination } from '../destinations/types.ts';
import { conflict, invalid, notFound } from '../domain/errors.ts';
import type { CredentialProvider, CredentialRecord, CredentialView } from '../domain/credentials.ts';
import type { CredentialRepository, JobRepository } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';

export function credentialView(credential: CredentialRecord): CredentialView {
  return {
    id: credential.id,
    name: credential.name,
    provider_type: credential.provider_type,
    created_at: credential.created_at,
    updated_at: credential.updated_at,
  };
}

export class CredentialService {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly jobs: JobRepository,
    private readonly vault: Vault,
  ) {}

  list(provider?: string): CredentialView[] {
    return this.credentials
      .all()
      .filter((credential) => provider === undefined || credential.provider_type === provider)
      .map(credentialView);
  }

  get(id: number): CredentialView {
    return credentialView(this.require(id));
  }

  exists(id: number): boolean {
    return this.credentials.byId(id) !== undefined;
  }

  async create(input: { name: string; provider_type: CredentialProvider; data: Record<string, unknown> }): Promise<CredentialView> {
    this.checkNameFree(input.name, null);
    const data = await checkedSecret(input.provider_type, input.data);
    const credential = await this.credentials.create({ name: input.name, provider_type: input.provider_type, secret: this.vault.encrypt(JSON.stringify(data)) });
    return credentialView(credential);
  }

  /** Renames and/or replaces the data; omitted parts stay. */
  async update(id: number, change: { name?: string; data?: Record<string, unknown> }): Promise<CredentialView> {
    const credential = this.require(id);
    if (change.name !== undefined) this.checkNameFree(change.name, id);
    const secret = change.data === undefined ? undefined : this.vault.encrypt(JSON.stringify(await checkedSecret(credential.provider_type, change.data)));
    return credentialView(await this.credentials.update(credential, { name: change.name, ...(secret ? { secret } : {}) }));
  }

  /** Deletes a credential no job uses; a 409 naming the jobs otherwise. */
  async delete(id: number): Promise<void> {
    this.require(id);
    const users = this.usage(id).jobs;
    if (users.length > 0) {
      throw conflict('CREDENTIAL_IN_USE', `Credential is in use by ${users.length} job(s)`, { details: { jobs: users.map((job) => job.name) } });
    }
    await this.credentials.delete(id);
  }

  usage(id: number): { credential_id: number; jobs: Array<{ id: number; name: string }> } {
    this.require(id);
    const jobs = this.jobs
      .all()
      .filter((job) => job.credential_id === id)
      .map((job) => ({ id: job.id, name: job.name }));
    return { credential_id: id, jobs };
  }

  /** The decrypted data, for a run or a connection test only. */
  secretOf(id: number): Record<string, string> {
    return JSON.parse(this.vault.decrypt(this.require(id).secret)) as Record<string, string>;
  }

  /** The credential's provider, to check that a job or a test uses a matching one. */
  providerOf(id: number): CredentialProvider {
    return this.require(id).provider_type;
  }

  private require(id: number): CredentialRecord {
    const credential = this.credentials.byId(id);
    if (!credential) throw notFound('CREDENTIAL_NOT_FOUND', 'Credential not found');
    return credential;
  }

  private checkNameFree(name: string, id: number | null): void {
    const taken = this.credentials.byName(name);
    if (taken && taken.id !== id) throw conflict('CREDENTIAL_NAME_TAKEN', `A credential named "${name}" already exists`);
  }
}

/** The destination a credential is for; a 400 naming the types that take a credential otherwise. */
function credentialDestinationOf(provider: string): Destination & { credentialSchema: NonNullable<Destination['credentialSchema']> } {
  const takers = allDestinations().filter((destination) => destination.credentialSchema !== null);
  const destination = takers.find((candidate) => candidate.type === provider);
  if (!destination) throw invalid('VALIDATION_FAILED', `"provider_type" must be one of: ${takers.map((taker) => taker.type).join(', ')}`);
  return destination as never;
}

/** The data checked against its provider's shape; the message names the field, never its value. */
export function checkedData(provider: CredentialProvider, data: unknown): Record<string, string> {
  const { error, value } = credentialDestinationOf(provider).credentialSchema.validate(data, { convert: false });
  if (error) throw invalid('VALIDATION_FAILED', `data: ${error.details[0]?.message.replace(/ with value .*$/, '') ?? 'invalid'}`);
  return value as Record<string, string>;
}

/**
 * The data checked against its provider's shape and then by its destination (a private key must be
 * readable, say): a 400 saying what is wrong, before anything is stored or connected to.
 */
export async function checkedSecret(provider: CredentialProvider, data: unknown): Promise<Record<string, string>> {
  const secret = checkedData(provider, data);
  await credentialDestinationOf(provider).checkSecret?.(secret);
  return secret;
}
