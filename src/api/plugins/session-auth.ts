/**
 * The `session` auth scheme: a session JWT from `Authorization: Bearer …` or the `token` cookie
 * (HttpOnly, SameSite=Strict, Secure over TLS). It is the default for every route; public routes
 * opt out with `auth: false`.
 */
import type { TLSSocket } from 'node:tls';
import Boom from '@hapi/boom';
import type { Plugin, Request, ResponseObject } from '@hapi/hapi';
import { SESSION_TTL_SECONDS, type AuthenticatedSession, type SessionService } from '../../auth/index.ts';

export const SESSION_COOKIE = 'token';

/** The session token a request carries, bearer first. */
export function tokenOf(request: Request): string | undefined {
  const header: unknown = request.headers.authorization;
  const bearer = typeof header === 'string' ? header.match(/^Bearer\s+(\S+)$/i)?.[1] : undefined;
  if (bearer) return bearer;
  const cookie = request.state?.[SESSION_COOKIE];
  return typeof cookie === 'string' && cookie !== '' ? cookie : undefined;
}

/** The authenticated session of a route that requires auth. */
export function sessionOf(request: Request): AuthenticatedSession {
  return request.auth.credentials as unknown as AuthenticatedSession;
}

/** Whether this request came over TLS: HTTPS and plain HTTP share the port, so it is the connection's, not the server's. */
function isTls(request: Request): boolean {
  return (request.raw.req.socket as TLSSocket).encrypted === true;
}

/** Sets the session cookie on a response. */
export function withSessionCookie(response: ResponseObject, request: Request, token: string): ResponseObject {
  return response.state(SESSION_COOKIE, token, { isSecure: isTls(request) });
}

export function withoutSessionCookie(response: ResponseObject, request: Request): ResponseObject {
  return response.unstate(SESSION_COOKIE, { isSecure: isTls(request) });
}

export function sessionAuthPlugin(sessions: SessionService): Plugin<void> {
  return {
    name: 'cairn-session-auth',
    register(server) {
      server.state(SESSION_COOKIE, {
        ttl: SESSION_TTL_SECONDS * 1000,
        isHttpOnly: true,
        isSameSite: 'Strict',
        isSecure: false,
        path: '/',
        encoding: 'none',
        ignoreErrors: true,
        clearInvalid: false,
        strictHeader: true,
      });
      server.auth.scheme('session', () => ({
        authenticate(request, h) {
          const token = tokenOf(request);
          if (!token) throw Boom.unauthorized('Authentication required: log in first', 'Bearer');
          const session = sessions.authenticate(token);
          if (!session) throw Boom.unauthorized('Invalid or expired token', 'Bearer');
          return h.authenticated({ credentials: session as unknown as Record<string, unknown> });
        },
      }));
      server.auth.strategy('session', 'session');
      server.auth.default('session');
    },
  };
}
