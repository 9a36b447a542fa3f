/**
 * Sessions: a stored record per login, named by a signed JWT. A token is valid only while its
 * session record exists, so logout and a password change end sessions at once, cookie or bearer.
 */
import { randomBytes } from 'node:crypto';
import Jwt from '@hapi/jwt';
import type { SessionRepository, UserRecord, UserRepository } from '../store/index.ts';

export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const ALGORITHM = 'HS256';

export interface AuthenticatedSession {
  user: UserRecord;
  sessionId: string;
  token: string;
}

export class SessionService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly signingKey: Buffer,
  ) {}

  /** Starts a session for the user and returns its token. */
  async start(userId: number): Promise<string> {
    const now = new Date();
    const id = randomBytes(16).toString('base64url');
    await this.sessions.create({
      id,
      user_id: userId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + SESSION_TTL_SECONDS * 1000).toISOString(),
    });
    return Jwt.token.generate(
      { sid: id, sub: String(userId) },
      { key: this.signingKey, algorithm: ALGORITHM },
      { ttlSec: SESSION_TTL_SECONDS },
    );
  }

  /** The session a token names, or null when the token is forged, expired or its session ended. */
  authenticate(token: string): AuthenticatedSession | null {
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
    return user ? { user, sessionId: session.id, token } : null;
  }

  end(sessionId: string): Promise<void> {
    return this.sessions.remove(sessionId);
  }

  /** Ends every session of the user (password change, reset). */
  endAll(userId: number): Promise<number> {
    return this.sessions.removeAllOf(userId);
  }
}
