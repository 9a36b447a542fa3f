/**
 * Sessions: a stored record per login, named by a signed JWT. A token is valid only while its
 * session record exists, so logout, a password change and a revocation end sessions at once,
 * cookie or bearer.
 */
import { randomBytes } from 'node:crypto';
import Jwt from '@hapi/jwt';
import { notFound } from '../domain/errors.ts';
import type { SessionRecord, SessionRepository, UserRecord, UserRepository } from '../store/index.ts';
import { Revocations } from './revocations.ts';

export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const ALGORITHM = 'HS256';

/** Who a request with a session token is. */
export interface AuthenticatedSession {
  kind: 'session';
  user: UserRecord;
  sessionId: string;
  token: string;
}

/** A session as `GET /api/auth/sessions` shows it: never its token. */
export interface SessionView {
  id: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  last_seen_from: string | null;
  current: boolean;
}

const sessionNotFound = () => notFound('SESSION_NOT_FOUND', 'Session not found (it may have ended already)');

export class SessionService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly signingKey: Buffer,
    /** Told of every ended session; the default tells no one (the CLI's offline reset). */
    private readonly revocations: Revocations = new Revocations(),
  ) {}

  /** Starts a session for the user, opened from client address `from`, and returns its token. */
  async start(userId: number, from: string | null = null): Promise<string> {
    const now = new Date();
    const id = randomBytes(16).toString('base64url');
    await this.sessions.create({
      id,
      user_id: userId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + SESSION_TTL_SECONDS * 1000).toISOString(),
      last_seen_at: now.toISOString(),
      last_seen_from: from,
    });
    return Jwt.token.generate(
      { sid: id, sub: String(userId) },
      { key: this.signingKey, algorithm: ALGORITHM },
      { ttlSec: SESSION_TTL_SECONDS },
    );
  }

  /**
   * The session a token names, or null when the token is forged, expired or its session ended.
   * With `from` (a request's client address) the use is noted as the session's last.
   */
  authenticate(token: string, from?: string): AuthenticatedSession | null {
    let payload: { sid?: unknown; sub?: unknown };
    try {
      const artifacts = Jwt.token.decode(token);
      Jwt.token.verify(artifacts, { key: this.signingKey, algorithm: ALGORITHM }, { aud: false, iss: false, sub: false });
      payload = artifacts.decoded.payload as typeof payload;
    } catch {
      return null;
    }
    if (typeof payload.sid !== 'string') return null;
    const session = this.sessions.active(payload.sid);
    if (!session || String(session.user_id) !== payload.sub) return null;
    const user = this.users.byId(session.user_id);
    if (!user) return null;
    if (from !== undefined) void this.sessions.touch(session, from).catch(() => undefined);
    return { kind: 'session', user, sessionId: session.id, token };
  }

  /** The user's sessions that have not expired, oldest first; `currentId` is marked `current`. */
  list(userId: number, currentId: string | null): SessionView[] {
    return this.sessions.activeOf(userId).map((session) => sessionView(session, currentId));
  }

  /** Ends one of the user's sessions at once (404 SESSION_NOT_FOUND for any other id). */
  async revoke(userId: number, sessionId: string): Promise<void> {
    const session = this.sessions.active(sessionId);
    if (!session || session.user_id !== userId) throw sessionNotFound();
    await this.end(sessionId);
  }

  async end(sessionId: string): Promise<void> {
    await this.sessions.remove(sessionId);
    this.revocations.revoked();
  }

  /** Ends every session of the user (password change, reset). */
  async endAll(userId: number): Promise<number> {
    const count = await this.sessions.removeAllOf(userId);
    this.revocations.revoked();
    return count;
  }
}

/** The one serializer of a session. */
function sessionView(session: SessionRecord, currentId: string | null): SessionView {
  return {
    id: session.id,
    created_at: session.created_at,
    expires_at: session.expires_at,
    last_seen_at: session.last_seen_at,
    last_seen_from: session.last_seen_from,
    current: session.id === currentId,
  };
}
