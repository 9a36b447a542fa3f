/** /auth/totp: two-factor status, setup, enable, disable, and the second login step (contract: 2FA). */
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { AuthService, RateLimiter } from '../../auth/index.ts';
import { givenPasswordSchema } from '../../domain/users.ts';
import type { ClientAddresses } from '../client-address.ts';
import { answers, record, totpSetupSchema, userSchema } from '../openapi/index.ts';
import { rateLimited } from '../plugins/rate-limit.ts';
import { policy } from '../plugins/route-policy.ts';
import { sessionOf, withSessionCookie } from '../plugins/session-auth.ts';
import { body } from '../validation.ts';

const code = Joi.string().trim().max(16);
const totpToken = Joi.string().max(128);

const enabledSchema = record({ enabled: Joi.boolean().valid(true), recovery_codes: Joi.array().items(Joi.string()).description('Shown this once') }).label('TotpEnabled');
const disabledSchema = record({ enabled: Joi.boolean().valid(false) }).label('TotpDisabled');
/** The second login step with a recovery code: the user, and how many codes are left. */
const recoveryLoginSchema = userSchema.keys({ remaining_codes: Joi.number().integer().min(0).required() }).label('RecoveryLogin');

/** The user a second login step logged in, from its answer (the request itself names nobody). */
const loggedInUsername = (request: Request): string | null => {
  const source = (request.response as { source?: { username?: unknown } } | null)?.source;
  return typeof source?.username === 'string' ? source.username : null;
};

export function totpRoutes(auth: AuthService, limiter: RateLimiter, clients: ClientAddresses): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/auth/totp/status',
      options: { ...policy({ scope: 'session' }), ...answers(200, Joi.object({ enabled: Joi.boolean().required() })) },
      handler: (request) => ({ enabled: sessionOf(request).user.totp_enabled }),
    },
    {
      method: 'POST',
      path: '/auth/totp/setup',
      options: { ...policy({ scope: 'session', audit: false }), ...answers(200, totpSetupSchema, [409]) },
      handler: (request) => auth.beginTotpSetup(sessionOf(request).user),
    },
    {
      method: 'POST',
      path: '/auth/totp/enable',
      options: {
        ...policy({ scope: 'session', audit: 'auth.totp_enable' }),
        ...answers(200, enabledSchema, [409]),
        validate: {
          payload: body(Joi.object({ secret: Joi.string().pattern(/^[A-Z2-7]{16,128}$/).required(), code: code.required() })),
        },
      },
      async handler(request) {
        const { secret, code: given } = request.payload as { secret: string; code: string };
        const recoveryCodes = await auth.enableTotp(sessionOf(request).user, secret, given);
        return { enabled: true, recovery_codes: recoveryCodes };
      },
    },
    {
      method: 'POST',
      path: '/auth/totp/disable',
      // The Dynamight web client also sends the password; it is then checked too.
      options: { ...policy({ scope: 'session', audit: 'auth.totp_disable' }), ...answers(200, disabledSchema, [409]), validate: { payload: body(Joi.object({ code: code.required(), password: givenPasswordSchema })) } },
      async handler(request) {
        const { code: given, password } = request.payload as { code: string; password?: string };
        await auth.disableTotp(sessionOf(request).user, given, password);
        return { enabled: false };
      },
    },
    {
      method: 'POST',
      path: '/auth/totp/validate',
      options: {
        auth: false,
        ...policy({ audit: 'auth.login_totp', auditFailures: true, auditActor: loggedInUsername }),
        ...answers(200, userSchema, [401, 429]),
        validate: { payload: body(Joi.object({ totp_token: totpToken.required(), code: code.required() })) },
        ...rateLimited(limiter, clients, async (request, h) => {
          const { totp_token, code: given } = request.payload as { totp_token: string; code: string };
          const { user, token } = await auth.completeLoginWithCode(totp_token, given, clients.of(request));
          return withSessionCookie(h.response(user), request, token);
        }),
      },
    },
    {
      method: 'POST',
      path: '/auth/totp/recovery',
      options: {
        auth: false,
        ...policy({ audit: 'auth.login_recovery', auditFailures: true, auditActor: loggedInUsername }),
        ...answers(200, recoveryLoginSchema, [401, 429]),
        validate: {
          payload: body(Joi.object({ totp_token: totpToken.required(), recovery_code: Joi.string().max(64).required() })),
        },
        ...rateLimited(limiter, clients, async (request, h) => {
          const { totp_token, recovery_code } = request.payload as { totp_token: string; recovery_code: string };
          const { user, token, remaining } = await auth.completeLoginWithRecoveryCode(totp_token, recovery_code, clients.of(request));
          return withSessionCookie(h.response({ ...user, remaining_codes: remaining }), request, token);
        }),
      },
    },
  ];
}
