/**
 * Who made a request: a logged-in session or an API key. One function reads either from a bearer
 * token, for the HTTP routes and the WebSockets alike.
 */
import type { AuthenticatedKey, ApiKeyService } from './api-keys.ts';
import { looksLikeApiKey } from './api-keys.ts';
import type { AuthenticatedSession, SessionService } from './sessions.ts';

/** The credentials of an authenticated request. */
export type Caller = AuthenticatedSession | AuthenticatedKey;

/** What an audit entry names as the actor: the username for a session, the key's name for a key. */
export function actorOf(caller: Caller): { actor: string; actor_type: 'session' | 'key'; actor_id: string } {
  return caller.kind === 'session'
    ? { actor: caller.user.username, actor_type: 'session', actor_id: caller.sessionId }
    : { actor: caller.key.name, actor_type: 'key', actor_id: String(caller.key.id) };
}

/** Reads a bearer token (session JWT or API key) as a Caller. */
export class Callers {
  constructor(
    private readonly sessions: SessionService,
    private readonly keys: ApiKeyService,
  ) {}

  /** The caller a token names, or null when it names none (bad, expired, ended or revoked); `from` notes the use. */
  authenticate(token: string, from?: string): Caller | null {
    return looksLikeApiKey(token) ? this.keys.authenticate(token, from) : this.sessions.authenticate(token, from);
  }
}
