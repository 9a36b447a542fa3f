/**
 * Login rate limiting per client: `maxFailures` failures within `windowMs` lock the client out for
 * `lockoutMs`, doubling with each further lockout up to `maxLockoutMs`. A success clears it all.
 */
export interface RateLimiterOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
  /** After this long without a failure, the doubling starts again from `lockoutMs`. */
  forgetAfterMs: number;
}

export const LOGIN_RATE_LIMIT: RateLimiterOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 3_600_000,
  forgetAfterMs: 24 * 3_600_000,
};

/** Past this many clients, those with no recent failure and no lockout are forgotten, so memory stays bounded. */
const MAX_TRACKED_CLIENTS = 10_000;

interface ClientState {
  failures: number[];
  lockouts: number;
  lockedUntil: number;
  lastFailure: number;
}

export class RateLimiter {
  private readonly clients = new Map<string, ClientState>();
  /**
   * Each client's attempts under way (outcome not known yet). Failures count only once known, and a
   * password check takes ~60 ms on a Pi, one at a time (auth/passwords.ts): without this bound one
   * client's burst of guesses all passed the limiter and queued before every other login.
   */
  private readonly underWay = new Map<string, number>();

  constructor(
    private readonly options: RateLimiterOptions = LOGIN_RATE_LIMIT,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Seconds the client must still wait, or 0 when it may try. */
  retryAfterSeconds(client: string): number {
    const state = this.clients.get(client);
    const remaining = state ? state.lockedUntil - this.clock() : 0;
    return remaining > 0 ? Math.ceil(remaining / 1000) : 0;
  }

  /** Counts a failed attempt; returns the lockout in seconds when this failure started one, else 0. */
  recordFailure(client: string): number {
    const now = this.clock();
    const state = this.stateOf(client, now);
    state.lastFailure = now;
    state.failures = state.failures.filter((at) => now - at < this.options.windowMs);
    state.failures.push(now);
    if (state.failures.length < this.options.maxFailures) return 0;
    const lockout = Math.min(this.options.lockoutMs * 2 ** state.lockouts, this.options.maxLockoutMs);
    state.lockouts += 1;
    state.lockedUntil = now + lockout;
    state.failures = [];
    return Math.ceil(lockout / 1000);
  }

  /** Starts an attempt; false (refuse it) when `maxFailures` of the client's attempts are under way already. */
  startAttempt(client: string): boolean {
    const count = this.underWay.get(client) ?? 0;
    if (count >= this.options.maxFailures) return false;
    this.underWay.set(client, count + 1);
    return true;
  }

  /** Ends an attempt `startAttempt` allowed, whatever its outcome. */
  endAttempt(client: string): void {
    const count = (this.underWay.get(client) ?? 1) - 1;
    if (count > 0) this.underWay.set(client, count);
    else this.underWay.delete(client);
  }

  recordSuccess(client: string): void {
    this.clients.delete(client);
  }

  /** Forgets every client, e.g. after the owner reset the password on the box. */
  clear(): void {
    this.clients.clear();
  }

  private stateOf(client: string, now: number): ClientState {
    if (this.clients.size > MAX_TRACKED_CLIENTS) this.forgetQuietClients(now);
    let state = this.clients.get(client);
    if (!state || now - state.lastFailure > this.options.forgetAfterMs) {
      state = { failures: [], lockouts: 0, lockedUntil: 0, lastFailure: now };
      this.clients.set(client, state);
    }
    return state;
  }

  private forgetQuietClients(now: number): void {
    for (const [client, state] of this.clients) {
      if (state.lockedUntil <= now && now - state.lastFailure > this.options.windowMs) this.clients.delete(client);
    }
  }
}
