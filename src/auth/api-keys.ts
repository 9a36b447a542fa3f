/**
 * API keys for phone apps and scripts: named, scoped, optionally expiring, shown once and stored
 * as a SHA-256 hash. A key is 32 random bytes, so a plain hash is enough: a slow password hash
 * protects guessable secrets, and nothing about 256 random bits can be guessed; the hash only
 * keeps a copied database file from holding working keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ApiKeyInput, type ApiKeyScope, type ApiKeyView } from '../domain/api-keys.ts';
import { conflict, invalid, notFound } from '../domain/errors.ts';
import type { ApiKeyRecord, ApiKeyRepository, UserRecord, UserRepository } from '../store/index.ts';
import type { Revocations } from './revocations.ts';

/** Every key starts with this, so a leaked one is recognisable (secret scanners, logs) and told from a session token. */
export const API_KEY_PREFIX = 'cairn_';
const KEY_BYTES = 32;
/** How many characters of a key are kept to tell keys apart: the prefix and 4 of the 43 random ones. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;

/** Who a request with an API key is: the key and the user it acts for. */
export interface AuthenticatedKey {
  kind: 'key';
  user: UserRecord;
  key: ApiKeyRecord;
}

/** A key just made: the only time the key itself is ever given out. */
export type CreatedApiKey = ApiKeyView & { key: string };

/** True when `token` has the form of an API key (not a session token). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');
const isExpired = (key: ApiKeyRecord, at: Date) => key.expires_at !== null && new Date(key.expires_at) <= at;

export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly users: UserRepository,
    private readonly revocations: Revocations,
  ) {}

  /**
   * Makes a key for `userId`. The name must be unique (409 KEY_NAME_TAKEN) so an audit entry's
   * actor names one key; an expiry must be in the future (400 KEY_EXPIRY_PAST).
   */
  async create(userId: number, input: ApiKeyInput): Promise<CreatedApiKey> {
    const name = input.name.trim();
    if (this.keys.all().some((key) => key.name === name)) throw conflict('KEY_NAME_TAKEN', `An API key named "${name}" already exists; pick another name`);
    const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
    if (expiresAt && expiresAt <= new Date()) throw invalid('KEY_EXPIRY_PAST', '"expires_at" must be in the future');
    const key = API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
    const record = await this.keys.create({
      name,
      scope: input.scope,
      user_id: userId,
      key_hash: hashOf(key),
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      expires_at: expiresAt ? expiresAt.toISOString() : null,
    });
    return { ...apiKeyView(record), key };
  }

  /**
   * Makes a key of `scope` named `name` for the owner (the first user); pairing calls this when an
   * app claims its code. Same rules as `create`.
   */
  async issue(name: string, scope: ApiKeyScope, expiresAt: string | null = null): Promise<CreatedApiKey> {
    const owner = this.users.all()[0];
    if (!owner) throw notFound('USER_NOT_FOUND', 'No user exists yet; run the setup first');
    return this.create(owner.id, { name, scope, expires_at: expiresAt });
  }

  /** Every key, oldest first, without the keys themselves. */
  list(): ApiKeyView[] {
    return this.keys.all().map(apiKeyView);
  }

  /** The key with this id (404 KEY_NOT_FOUND). */
  get(id: number): ApiKeyView {
    const key = this.keys.byId(id);
    if (!key) throw keyNotFound();
    return apiKeyView(key);
  }

  /** Revokes the key: the next request with it is refused, and sockets opened with it are closed. */
  async revoke(id: number): Promise<ApiKeyView> {
    const key = this.keys.byId(id);
    if (!key || !(await this.keys.delete(id))) throw keyNotFound();
    this.revocations.revoked();
    return apiKeyView(key);
  }

  /**
   * The key and its user, or null when the key is unknown, revoked or expired. With `from` (a
   * request's client address) the use is noted as the key's last.
   */
  authenticate(token: string, from?: string): AuthenticatedKey | null {
    if (!looksLikeApiKey(token)) return null;
    const key = this.keys.byHash(hashOf(token));
    if (!key || isExpired(key, new Date())) return null;
    const user = this.users.byId(key.user_id);
    if (!user) return null;
    if (from !== undefined) void this.keys.touch(key, from).catch(() => undefined);
    return { kind: 'key', user, key };
  }
}

const keyNotFound = () => notFound('KEY_NOT_FOUND', 'API key not found (it may have been revoked already)');

/** The one serializer of a key: picks fields, so the hash never leaves. */
function apiKeyView(key: ApiKeyRecord): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    created_at: key.created_at,
    expires_at: key.expires_at,
    expired: isExpired(key, new Date()),
    last_used_at: key.last_used_at,
    last_used_from: key.last_used_from,
  };
}
