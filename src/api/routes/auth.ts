/** /auth: setup, login, logout, me, token, change-password (contract: Authentication), and sessions (issue 16). */
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { publicUser, type AuthService, type RateLimiter, type SessionService } from '../../auth/index.ts';
import { givenPasswordSchema, newPasswordSchema, usernameSchema } from '../../domain/users.ts';
import type { ClientAddresses } from '../client-address.ts';
import { answers, listOf, messageSchema, record, sessionSchema, userSchema } from '../openapi/index.ts';
import { API_KEY_SCOPES } from '../../domain/api-keys.ts';
import { auditAs } from '../plugins/audit.ts';
import { rateLimited } from '../plugins/rate-limit.ts';
import { policy } from '../plugins/route-policy.ts';
import { callerOf, sessionOf, withoutSessionCookie, withSessionCookie } from '../plugins/session-auth.ts';
import { body } from '../validation.ts';

interface Credentials {
  username: string;
  password: string;
}

/** The username a login or setup request gives: the audit's actor for a request without a session. */
export const givenUsername = (request: Request): string | null => {
  const username = (request.payload as { username?: unknown } | null)?.username;
  return typeof username === 'string' ? username : null;
};

/** Login's first step for a user with 2FA: the token the second step (`/auth/totp/validate`) takes. */
const totpRequiredSchema = record({ totp_required: Joi.boolean().valid(true), totp_token: Joi.string() }).label('TotpRequired');

/** `GET /auth/me`: the user; a key's caller also learns what its key may do. */
const meSchema = userSchema
  .keys({
    totp_enabled: Joi.boolean().required(),
    key: record({ id: Joi.number().integer().min(1), name: Joi.string(), scope: Joi.string().valid(...API_KEY_SCOPES) }).description('Only for a caller with an API key'),
  })
  .label('Me');

const sessionIdParam = Joi.object({ id: Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/).required() });

export function authRoutes(auth: AuthService, sessions: SessionService, limiter: RateLimiter, clients: ClientAddresses): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/auth/setup-required',
      options: { auth: false, ...answers(200, Joi.object({ setup_required: Joi.boolean().required(), setup_code_required: Joi.boolean().required() })) },
      handler: (request) => {
        const required = auth.setupRequired();
        return { setup_required: required, setup_code_required: required && !clients.isLocal(request) };
      },
    },
    {
      method: 'POST',
      path: '/auth/setup',
      options: {
        auth: false,
        ...policy({ audit: 'auth.setup', auditFailures: true, auditActor: givenUsername }),
        ...answers(201, userSchema, [403, 429]),
        validate: {
          payload: body(
            Joi.object({
              username: usernameSchema.required(),
              password: newPasswordSchema.required(),
              setup_code: Joi.string().max(64),
            }),
          ),
        },
        // A wrong setup code counts like a wrong password, so the code cannot be guessed.
        ...rateLimited(
          limiter,
          clients,
          async (request, h) => {
            const { username, password, setup_code } = request.payload as Credentials & { setup_code?: string };
            const { user, token } = await auth.setup(username, password, { local: clients.isLocal(request), setupCode: setup_code, from: clients.of(request) });
            return withSessionCookie(h.response(user).code(201), request, token);
          },
          (error) => error.code === 'SETUP_CODE_INVALID',
        ),
      },
    },
    {
      method: 'POST',
      path: '/auth/login',
      options: {
        auth: false,
        ...policy({ audit: 'auth.login', auditFailures: true, auditActor: givenUsername }),
        ...answers(200, Joi.alternatives(userSchema, totpRequiredSchema), [401, 429]),
        validate: { payload: body(Joi.object({ username: Joi.string().max(64).required(), password: givenPasswordSchema.required() })) },
        ...rateLimited(limiter, clients, async (request, h) => {
          const { username, password } = request.payload as Credentials;
          const outcome = await auth.login(username, password, clients.of(request));
          if (outcome.kind === 'totp_required') {
            auditAs(request, 'auth.login_totp_required');
            return { totp_required: true, totp_token: outcome.totpToken };
          }
          return withSessionCookie(h.response(outcome.user), request, outcome.token);
        }),
      },
    },
    {
      method: 'POST',
      path: '/auth/logout',
      options: { ...policy({ scope: 'session', audit: 'auth.logout' }), ...answers(200, messageSchema) },
      async handler(request, h) {
        await auth.logout(sessionOf(request).sessionId);
        return withoutSessionCookie(h.response({ message: 'Logged out' }), request);
      },
    },
    {
      method: 'GET',
      path: '/auth/me',
      options: answers(200, meSchema),
      handler: (request) => {
        const caller = callerOf(request);
        const me = { ...publicUser(caller.user), totp_enabled: caller.user.totp_enabled };
        // A paired app learns what its key may do.
        return caller.kind === 'key' ? { ...me, key: { id: caller.key.id, name: caller.key.name, scope: caller.key.scope } } : me;
      },
    },
    {
      method: 'GET',
      path: '/auth/token',
      // A key must not turn itself into a session token, which can do everything.
      options: { ...policy({ scope: 'session' }), ...answers(200, Joi.object({ token: Joi.string().required() })) },
      handler: (request) => ({ token: sessionOf(request).token }),
    },
    {
      method: 'POST',
      path: '/auth/change-password',
      options: {
        ...policy({ scope: 'session', audit: 'auth.change_password' }),
        ...answers(200, messageSchema),
        validate: {
          payload: body(Joi.object({ current_password: givenPasswordSchema.required(), new_password: newPasswordSchema.required() })),
        },
      },
      async handler(request, h) {
        const { current_password, new_password } = request.payload as { current_password: string; new_password: string };
        const token = await auth.changePassword(sessionOf(request).user, current_password, new_password, clients.of(request));
        return withSessionCookie(h.response({ message: 'Password changed' }), request, token);
      },
    },
    {
      method: 'GET',
      path: '/auth/sessions',
      options: { ...policy({ scope: 'session' }), ...answers(200, listOf(sessionSchema)) },
      handler: (request) => {
        const { user, sessionId } = sessionOf(request);
        return sessions.list(user.id, sessionId);
      },
    },
    {
      method: 'DELETE',
      path: '/auth/sessions/{id}',
      options: { ...policy({ scope: 'session', audit: 'session.revoke' }), ...answers(200, messageSchema), validate: { params: sessionIdParam } },
      async handler(request) {
        await sessions.revoke(sessionOf(request).user.id, (request.params as { id: string }).id);
        return { message: 'Session revoked' };
      },
    },
  ];
}
