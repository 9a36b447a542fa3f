/**
 * The account workflows of the contract: first setup, login with optional TOTP step, 2FA management,
 * password change, and the owner's reset on the box. Throws CairnError for anything refused.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, conflict, forbidden, invalid, unauthorized } from '../domain/errors.ts';
import type { PublicUser } from '../domain/users.ts';
import type { UserRecord, UserRepository } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.ts';
import type { SessionService } from './sessions.ts';
import { setupCodeMissing, type SetupCode } from './setup-code.ts';
import { generateTotpSecret, matchTotpStep, otpauthUrl, qrCodeDataUrl } from './totp.ts';

/** How long the second login step may wait for its code. */
export const TOTP_LOGIN_TTL_MS = 5 * 60_000;

export type LoginOutcome =
  | { kind: 'session'; user: PublicUser; token: string }
  | { kind: 'totp_required'; totpToken: string };

/** Who asks for the setup: from this box itself, or from elsewhere with the setup code (if any). */
export interface SetupAccess {
  local: boolean;
  setupCode?: string;
  /** The client's address, noted on the session it starts. */
  from?: string;
}

export interface TotpSetup {
  secret: string;
  qr_code: string;
  otpauth_url: string;
}

const badCredentials = () => unauthorized('INVALID_CREDENTIALS', 'Invalid username or password');
const badTotpToken = () =>
  unauthorized('TOTP_TOKEN_INVALID', 'The login step has expired or was already used; log in again');
const wrongPassword = () => forbidden('CURRENT_PASSWORD_WRONG', 'The current password is not correct');
const badCode = () => unauthorized('TOTP_CODE_INVALID', 'Invalid or already used authentication code');

export function publicUser(user: UserRecord): PublicUser {
  return { id: user.id, username: user.username };
}

export class AuthService {
  /** totp_token → the user who passed the password step, until it expires or is used. */
  private readonly pendingLogins = new Map<string, { userId: number; expiresAt: number }>();
  /** The code a setup from another computer must give, while the box has no owner. */
  private setupCode: SetupCode | null = null;

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionService,
    private readonly vault: Vault,
  ) {}

  setupRequired(): boolean {
    return this.users.count() === 0;
  }

  /** From now on a setup from another computer must give this code; it is retired once the owner exists. */
  requireSetupCode(code: SetupCode): void {
    this.setupCode = code;
  }

  /**
   * Creates the first (admin) account and logs it in; refused once any user exists. A request from
   * anywhere but the box itself must carry the setup code (403 SETUP_CODE_REQUIRED / _INVALID);
   * with no code in effect, it is refused.
   */
  async setup(username: string, password: string, access: SetupAccess): Promise<{ user: PublicUser; token: string }> {
    const alreadySetUp = () => forbidden('SETUP_DONE', 'Setup is already complete; log in instead');
    if (!this.setupRequired()) throw alreadySetUp();
    if (!access.local) {
      if (!this.setupCode) throw setupCodeMissing();
      this.setupCode.verify(access.setupCode);
    }
    const hash = await hashPassword(password);
    // Checked again after the await: two setup calls racing must not make two admins.
    if (!this.setupRequired()) throw alreadySetUp();
    const user = await this.users.create(username, hash);
    await this.setupCode?.retire();
    this.setupCode = null;
    return { user: publicUser(user), token: await this.sessions.start(user.id, access.from) };
  }

  /** Checks the password; `from` (the client's address) is noted on the session it starts. */
  async login(username: string, password: string, from?: string): Promise<LoginOutcome> {
    const user = this.users.byUsername(username);
    const passwordMatches = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !passwordMatches) throw badCredentials();
    if (!user.totp_enabled) {
      return { kind: 'session', user: publicUser(user), token: await this.sessions.start(user.id, from) };
    }
    this.dropExpiredLogins();
    const totpToken = randomBytes(24).toString('base64url');
    this.pendingLogins.set(totpToken, { userId: user.id, expiresAt: Date.now() + TOTP_LOGIN_TTL_MS });
    return { kind: 'totp_required', totpToken };
  }

  /** Second login step with an authenticator code; the totp_token works once. */
  async completeLoginWithCode(totpToken: string, code: string, from?: string): Promise<{ user: PublicUser; token: string }> {
    const user = this.pendingUser(totpToken);
    await this.acceptTotpCode(user, code);
    this.pendingLogins.delete(totpToken);
    return { user: publicUser(user), token: await this.sessions.start(user.id, from) };
  }

  /** Second login step with a recovery code; each recovery code works once. */
  async completeLoginWithRecoveryCode(
    totpToken: string,
    recoveryCode: string,
    from?: string,
  ): Promise<{ user: PublicUser; token: string; remaining: number }> {
    const user = this.pendingUser(totpToken);
    const hash = hashRecoveryCode(recoveryCode);
    if (!user.recovery_code_hashes.includes(hash)) {
      throw unauthorized('RECOVERY_CODE_INVALID', 'Invalid or already used recovery code');
    }
    const remaining = user.recovery_code_hashes.filter((h) => h !== hash);
    await this.users.update(user.id, { recovery_code_hashes: remaining });
    this.pendingLogins.delete(totpToken);
    return { user: publicUser(user), token: await this.sessions.start(user.id, from), remaining: remaining.length };
  }

  /** Ends the caller's session; its token stops working at once. */
  logout(sessionId: string): Promise<void> {
    return this.sessions.end(sessionId);
  }

  /** Changes the password, ends every session of the user, and returns a fresh session for the caller. */
  async changePassword(user: UserRecord, currentPassword: string, newPassword: string, from?: string): Promise<string> {
    if (!(await verifyPassword(currentPassword, user.password_hash))) throw wrongPassword();
    await this.users.update(user.id, { password_hash: await hashPassword(newPassword) });
    await this.sessions.endAll(user.id);
    return this.sessions.start(user.id, from);
  }

  /** A new secret to scan; nothing changes until it is confirmed with enableTotp. */
  async beginTotpSetup(user: UserRecord): Promise<TotpSetup> {
    if (user.totp_enabled) throw conflict('TOTP_ALREADY_ENABLED', 'Two-factor authentication is already enabled');
    const secret = generateTotpSecret();
    const url = otpauthUrl(user.username, secret);
    return { secret, otpauth_url: url, qr_code: await qrCodeDataUrl(url) };
  }

  /** Turns 2FA on once `code` proves the authenticator holds `secret`; returns the recovery codes (shown once). */
  async enableTotp(user: UserRecord, secret: string, code: string): Promise<string[]> {
    if (user.totp_enabled) throw conflict('TOTP_ALREADY_ENABLED', 'Two-factor authentication is already enabled');
    const step = matchTotpStep(code, secret);
    if (step === null) throw invalid('TOTP_CODE_INVALID', 'The code does not match this secret; check the time on your phone and try the current code');
    const codes = generateRecoveryCodes();
    await this.users.update(user.id, {
      totp_enabled: true,
      totp_secret: this.vault.encrypt(secret),
      totp_last_step: step,
      recovery_code_hashes: codes.map(hashRecoveryCode),
    });
    return codes;
  }

  /**
   * Turns 2FA off with a current code. When `password` is given (as the Dynamight web client sends
   * it) it must be the user's password too, else 403 CURRENT_PASSWORD_WRONG and 2FA stays on.
   */
  async disableTotp(user: UserRecord, code: string, password?: string): Promise<void> {
    if (!user.totp_enabled) throw conflict('TOTP_NOT_ENABLED', 'Two-factor authentication is not enabled');
    // The password first: a wrong one must not use up the code.
    if (password !== undefined && !(await verifyPassword(password, user.password_hash))) throw wrongPassword();
    await this.acceptTotpCode(user, code);
    await this.users.update(user.id, totpOff);
  }

  /**
   * The owner's way back in, run on the box: sets a new password, turns 2FA off and ends every
   * session. Without a username it resets the only (or first) user.
   */
  async resetPassword(username: string | undefined, newPassword: string): Promise<PublicUser> {
    const user = username === undefined ? this.users.all()[0] : this.users.byUsername(username);
    if (!user) {
      throw new CairnError('not_found', 'USER_NOT_FOUND', username ? `No user named ${username}` : 'No user exists yet; run the setup first');
    }
    await this.users.update(user.id, { ...totpOff, password_hash: await hashPassword(newPassword) });
    await this.sessions.endAll(user.id);
    this.pendingLogins.clear();
    return publicUser(user);
  }

  /** A session for the owner (the first user), for CLI commands run on the box. */
  async startOwnerSession(): Promise<string> {
    const owner = this.users.all()[0];
    if (!owner) throw new CairnError('not_found', 'USER_NOT_FOUND', 'No user exists yet; run the setup first');
    return this.sessions.start(owner.id);
  }

  private pendingUser(totpToken: string): UserRecord {
    const pending = this.pendingLogins.get(totpToken);
    if (!pending || pending.expiresAt <= Date.now()) {
      this.pendingLogins.delete(totpToken);
      throw badTotpToken();
    }
    const user = this.users.byId(pending.userId);
    if (!user || !user.totp_enabled) throw badTotpToken();
    return user;
  }

  /** Accepts a code from the user's authenticator once; the same or an older code is refused after. */
  private async acceptTotpCode(user: UserRecord, code: string): Promise<void> {
    const secret = user.totp_secret ? this.vault.decrypt(user.totp_secret) : null;
    const step = secret ? matchTotpStep(code, secret) : null;
    if (step === null || (user.totp_last_step !== null && step <= user.totp_last_step)) throw badCode();
    await this.users.update(user.id, { totp_last_step: step });
  }

  private dropExpiredLogins(): void {
    const now = Date.now();
    for (const [token, pending] of this.pendingLogins) {
      if (pending.expiresAt <= now) this.pendingLogins.delete(token);
    }
  }
}

const totpOff = { totp_enabled: false, totp_secret: null, totp_last_step: null, recovery_code_hashes: [] };
