/**
 * The `session` auth scheme: a session JWT (from `Authorization: Bearer …` or the `token` cookie,
 * HttpOnly, SameSite=Strict, Secure over TLS) or an API key (bearer only). It is the default for
 * every route; public routes opt out with `auth: false`. A key is then held to the route's scope
 * (route-policy.ts): too small a scope is a 403 `SCOPE_TOO_SMALL` naming the scope needed.
 */
import type { TLSSocket } from 'node:tls';
import Boom from '@hapi/boom';
import type { Plugin, Request, ResponseObject } from '@hapi/hapi';
import { SESSION_TTL_SECONDS, type AuthenticatedSession, type Caller, type Callers } from '../../auth/index.ts';
import { scopeAllows } from '../../domain/api-keys.ts';
import { CairnError } from '../../domain/errors.ts';
import type { ClientAddresses } from '../client-address.ts';
import { scopeOf } from './route-policy.ts';

export const SESSION_COOKIE = 'token';

/** The bearer token or session cookie a request carries, bearer first. */
export function tokenOf(request: Request): string | undefined {
  const header: unknown = request.headers.authorization;
  const bearer = typeof header === 'string' ? header.match(/^Bearer\s+(\S+)$/i)?.[1] : undefined;
  if (bearer) return bearer;
  const cookie = request.state?.[SESSION_COOKIE];
  return typeof cookie === 'string' && cookie !== '' ? cookie : undefined;
}

/** Who made a request to a route that requires auth: a session or an API key. */
export function callerOf(request: Request): Caller {
  return request.auth.credentials as unknown as Caller;
}

/**
 * The authenticated session of a route declared `scope: 'session'` (which no key reaches). Called on
 * any other route with a key, it throws: that route's declaration is wrong.
 */
export function sessionOf(request: Request): AuthenticatedSession {
  const caller = callerOf(request);
  if (caller.kind !== 'session') throw new Error(`${request.method} ${request.path} reads a session but does not declare scope 'session'`);
  return caller;
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

function scopeTooSmall(caller: Extract<Caller, { kind: 'key' }>, needed: ReturnType<typeof scopeOf>, request: Request): CairnError {
  const what = `${request.method.toUpperCase()} ${request.route.path}`;
  const message =
    needed === 'session'
      ? `${what} needs a logged-in session; API keys cannot manage keys, sessions, the password or 2FA`
      : `This API key has scope "${caller.key.scope}"; ${what} needs scope "${needed}"`;
  return new CairnError('forbidden', 'SCOPE_TOO_SMALL', message, { details: { required_scope: needed, key_scope: caller.key.scope } });
}

export function sessionAuthPlugin(callers: Callers, clients: ClientAddresses): Plugin<void> {
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
          const caller = callers.authenticate(token, clients.of(request));
          if (!caller) throw Boom.unauthorized('Invalid or expired token', 'Bearer');
          return h.authenticated({ credentials: caller as unknown as Record<string, unknown> });
        },
      }));
      server.auth.strategy('session', 'session');
      server.auth.default('session');
      // After auth, before validation: a key too weak for the route learns nothing about its input.
      server.ext('onPostAuth', (request, h) => {
        if (!request.auth.isAuthenticated) return h.continue;
        const caller = callerOf(request);
        const needed = scopeOf(request.route);
        if (caller.kind === 'key' && !scopeAllows(caller.key.scope, needed)) throw scopeTooSmall(caller, needed, request);
        return h.continue;
      });
    },
  };
}
