/**
 * Credential workflows (contract: Credentials, Providers → Test): secrets are checked against their
 * provider's shape, encrypted with the vault before they are stored, and only ever decrypted for a
 * run or a connection test. The one serializer leaves the secret out.
 */
import { allDestinations, destinationOf, unavailableReasonOf, validateDestinationConfig } from '../destinations/index.ts';
import type { Destination, HostKeyPins } from '../destinations/types.ts';
import { conflict, invalid, isCairnError, notFound } from '../domain/errors.ts';
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

/** A connection test's body (POST /providers/test): a saved credential or inline data, never both. */
export interface ConnectionTestInput {
  destination_type: string;
  destination_config: Record<string, unknown>;
  credential_id?: number | null;
  credential_data?: Record<string, unknown> | null;
}

/** A connection test's answer: a failure to connect is an answer, not an error. */
export interface ConnectionTestResult {
  success: boolean;
  message: string;
  details: unknown;
}

/** What a connection test needs beyond the credentials themselves. */
export interface ConnectionTestDependencies {
  hostKeys: HostKeyPins;
  /**
   * Refuses (403 PATH_NOT_ALLOWED) a destination config whose folders on this machine lie outside
   * the allowed paths: the local test writes a probe file, so only where a job could write.
   */
  checkDestinationFolders(type: string, config: Record<string, unknown>): Promise<void>;
}

export class CredentialService {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly jobs: JobRepository,
    private readonly vault: Vault,
    private readonly connection: ConnectionTestDependencies,
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

  /**
   * Tries a destination with a saved credential (400 CREDENTIAL_MISMATCH when it is for another
   * provider) or inline data (checked, used, never stored). A known provider Cairn cannot serve, or a
   * destination that cannot connect, answers `success: false` with the reason; a bad config or a
   * folder outside the allowed paths is a 4xx, as for a job.
   */
  async testConnection(input: ConnectionTestInput): Promise<ConnectionTestResult> {
    // An unknown type is refused the same way a job naming it is.
    const destination = destinationOf(input.destination_type);
    const secret = await this.secretForTest(input);
    const unavailable = unavailableReasonOf(input.destination_type);
    if (unavailable) return { success: false, message: `${input.destination_type}: ${unavailable}`, details: null };
    const config = validateDestinationConfig(input.destination_type, input.destination_config);
    await this.connection.checkDestinationFolders(input.destination_type, config);
    try {
      const result = await destination.test(config, secret, this.connection.hostKeys);
      return { success: true, message: result.message, details: result.details };
    } catch (error) {
      if (!isCairnError(error)) throw error;
      return { success: false, message: error.message, details: null };
    }
  }

  /** The secret a connection test uses: a saved credential's, or inline data (used, never stored). */
  private async secretForTest(input: ConnectionTestInput): Promise<Record<string, string> | null> {
    if (input.credential_id) {
      if (this.providerOf(input.credential_id) !== input.destination_type) {
        throw invalid('CREDENTIAL_MISMATCH', `Credential ${input.credential_id} is for another provider`);
      }
      return this.secretOf(input.credential_id);
    }
    if (input.credential_data && destinationOf(input.destination_type).credentialSchema) {
      return checkedSecret(input.destination_type as CredentialProvider, input.credential_data);
    }
    return null;
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
