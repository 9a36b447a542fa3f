/**
 * Pairing a phone: the owner starts a pairing (scope, optional key name) and gets a one-time code
 * and the QR payload; the app that scans it claims the code and receives an API key of that scope.
 *
 * Codes live in memory only, as SHA-256 hashes: a pairing lasts 10 minutes, so a restart that
 * forgets them costs the owner a new QR code, and nothing on disk ever holds a working code. A code
 * has 60 random bits (`ABCD-EFGH-JKLM`, typable if a camera fails); with the login rate limit in
 * front of the claim, a guesser gets a few dozen tries in its 10 minutes.
 */
import { conflict, isCairnError, notFound, unauthorized, type CairnError } from '../domain/errors.ts';
import type { ApiKeyScope } from '../domain/api-keys.ts';
import type { PairingStart, PairingState, PairingView } from '../domain/pairing.ts';
import { generateTypableCode, hashRecoveryCode, type CreatedApiKey } from '../auth/index.ts';
import type { ServerIdentity } from '../tls/index.ts';
import { encodePairingPayload } from './qr-payload.ts';

/** How long a pairing code works. */
export const PAIRING_TTL_MS = 10 * 60_000;
/** How long an ended pairing is remembered, so its code is answered "used" or "expired" rather than "wrong". */
export const ENDED_PAIRING_MEMORY_MS = 60 * 60_000;
/** Pending pairings at once; an owner needs one, a few stale ones are forgiven. */
export const MAX_PENDING_PAIRINGS = 10;
const KEY_NAME_MAX = 64;

/** A pairing just started: the only time its code is given out. */
export interface StartedPairing extends PairingView {
  code: string;
  /** The QR code's text (see qr-payload.ts). */
  qr_payload: string;
  fingerprint_sha256: string | null;
  urls: string[];
}

/** What a successful claim gives the app: its key (shown this once) and the certificate to pin. */
export type ClaimedPairing = CreatedApiKey & { fingerprint_sha256: string | null };

/** What pairing needs of the rest of the daemon. */
export interface PairingDependencies {
  /** Makes the owner's key (`ApiKeyService.issue`); refuses a taken name with 409 KEY_NAME_TAKEN. */
  issueKey(name: string, scope: ApiKeyScope): Promise<CreatedApiKey>;
  /** The names of the keys that exist, to pick a free one for a device. */
  keyNames(): string[];
  /** The box's URLs and certificate fingerprint now. */
  identity(): ServerIdentity;
  /** Milliseconds since the epoch; tests move it past a code's expiry. */
  now?: () => number;
}

interface Pairing {
  id: number;
  codeHash: string;
  scope: ApiKeyScope;
  name: string | null;
  createdAt: number;
  expiresAt: number;
  /** True from the moment a claim begins until it ends, so a second claim of the same code cannot race the first. */
  claiming: boolean;
  /** Set once the key is made (claimed) or the owner called it off; a pairing reads claimed only with its key. */
  ended: { state: Exclude<PairingState, 'pending' | 'expired'>; at: number } | null;
  key: { id: number; name: string } | null;
}

export class PairingService {
  private readonly pairings = new Map<number, Pairing>();
  private lastId = 0;
  private readonly now: () => number;

  constructor(private readonly deps: PairingDependencies) {
    this.now = deps.now ?? Date.now;
  }

  /** Starts a pairing; 409 PAIRING_LIMIT when MAX_PENDING_PAIRINGS are already waiting. */
  start(input: PairingStart): StartedPairing {
    this.forgetOld();
    if (this.list().length >= MAX_PENDING_PAIRINGS) {
      throw conflict('PAIRING_LIMIT', `${MAX_PENDING_PAIRINGS} pairings are already waiting; cancel one or let them expire (10 minutes)`);
    }
    const code = generateTypableCode();
    const createdAt = this.now();
    const pairing: Pairing = {
      id: ++this.lastId,
      codeHash: hashRecoveryCode(code),
      scope: input.scope,
      name: input.name ?? null,
      createdAt,
      expiresAt: createdAt + PAIRING_TTL_MS,
      claiming: false,
      ended: null,
      key: null,
    };
    this.pairings.set(pairing.id, pairing);
    const identity = this.deps.identity();
    return { ...this.viewOf(pairing), code, qr_payload: encodePairingPayload(code, identity), ...identity };
  }

  /**
   * Gives the app a key for `code`: 401 PAIRING_CODE_INVALID (no such code), PAIRING_CODE_USED,
   * PAIRING_CODE_EXPIRED or PAIRING_CODE_CANCELLED, all unauthorized so the rate limiter counts
   * them. The key is named as the owner said, else after the device, with ` (2)`, ` (3)` … added
   * when that name is taken.
   */
  async claim(code: string, deviceName: string): Promise<ClaimedPairing> {
    const pairing = this.byCode(code);
    if (!pairing) throw unauthorized('PAIRING_CODE_INVALID', 'That pairing code is not right; scan the QR code again');
    const state = pairing.claiming ? 'claimed' : this.stateOf(pairing);
    if (state !== 'pending') throw endedCode(state);
    pairing.claiming = true;
    try {
      const key = await this.issueUniquelyNamed(pairing.name ?? deviceName.trim(), pairing.scope);
      pairing.key = { id: key.id, name: key.name };
      pairing.ended = { state: 'claimed', at: this.now() };
      return { ...key, fingerprint_sha256: this.deps.identity().fingerprint_sha256 };
    } finally {
      pairing.claiming = false;
    }
  }

  /** Pending pairings, oldest first. */
  list(): PairingView[] {
    return [...this.pairings.values()].filter((pairing) => this.stateOf(pairing) === 'pending').map((pairing) => this.viewOf(pairing));
  }

  /** One pairing (404 PAIRING_NOT_FOUND): how a waiting screen learns it was claimed or expired. */
  get(id: number): PairingView {
    return this.viewOf(this.require(id));
  }

  /** Calls off a pending pairing, so its code stops working (409 PAIRING_ENDED when it already ended). */
  cancel(id: number): PairingView {
    const pairing = this.require(id);
    const state = this.stateOf(pairing);
    if (state !== 'pending') throw conflict('PAIRING_ENDED', `This pairing is ${state} already`);
    if (pairing.claiming) throw conflict('PAIRING_ENDED', 'An app is claiming this pairing right now');
    pairing.ended = { state: 'cancelled', at: this.now() };
    return this.viewOf(pairing);
  }

  private require(id: number): Pairing {
    this.forgetOld();
    const pairing = this.pairings.get(id);
    if (!pairing) throw notFound('PAIRING_NOT_FOUND', 'Pairing not found (ended pairings are forgotten after an hour)');
    return pairing;
  }

  private byCode(code: string): Pairing | undefined {
    this.forgetOld();
    const hash = hashRecoveryCode(code);
    return [...this.pairings.values()].find((pairing) => pairing.codeHash === hash);
  }

  private stateOf(pairing: Pairing): PairingState {
    if (pairing.ended) return pairing.ended.state;
    return this.now() >= pairing.expiresAt ? 'expired' : 'pending';
  }

  private async issueUniquelyNamed(wanted: string, scope: ApiKeyScope): Promise<CreatedApiKey> {
    const taken = new Set(this.deps.keyNames());
    for (let n = 1; ; n += 1) {
      const name = nameWithSuffix(wanted, n);
      if (taken.has(name)) continue;
      try {
        return await this.deps.issueKey(name, scope);
      } catch (error) {
        // Another claim took the name between the look and the make: try the next.
        if (!(isCairnError(error) && error.code === 'KEY_NAME_TAKEN') || n > 1000) throw error;
        taken.add(name);
      }
    }
  }

  /** Drops pairings that ended (or expired) over an hour ago, so memory stays bounded. */
  private forgetOld(): void {
    const now = this.now();
    for (const [id, pairing] of this.pairings) {
      const endedAt = pairing.ended?.at ?? pairing.expiresAt;
      if (now - endedAt > ENDED_PAIRING_MEMORY_MS) this.pairings.delete(id);
    }
  }

  private viewOf(pairing: Pairing): PairingView {
    return {
      id: pairing.id,
      scope: pairing.scope,
      name: pairing.name,
      state: this.stateOf(pairing),
      created_at: new Date(pairing.createdAt).toISOString(),
      expires_at: new Date(pairing.expiresAt).toISOString(),
      claimed_at: pairing.ended?.state === 'claimed' ? new Date(pairing.ended.at).toISOString() : null,
      key: pairing.key,
    };
  }
}

/** `name`, or `name (n)` shortened to fit a key name. */
function nameWithSuffix(name: string, n: number): string {
  if (n === 1) return name.slice(0, KEY_NAME_MAX);
  const suffix = ` (${n})`;
  return name.slice(0, KEY_NAME_MAX - suffix.length).trimEnd() + suffix;
}

function endedCode(state: Exclude<PairingState, 'pending'>): CairnError {
  const messages: Record<typeof state, string> = {
    claimed: 'That pairing code was used already; start a new pairing on the box',
    expired: 'That pairing code expired (codes work for 10 minutes); start a new pairing on the box',
    cancelled: 'That pairing was cancelled on the box; start a new one',
  };
  return unauthorized(`PAIRING_CODE_${state === 'claimed' ? 'USED' : state.toUpperCase()}`, messages[state]);
}
