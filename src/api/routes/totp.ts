/** /auth/totp: two-factor status, setup, enable, disable, and the second login step (contract: 2FA). */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { AuthService, RateLimiter } from '../../auth/index.ts';
import { rateLimited } from '../plugins/rate-limit.ts';
import { sessionOf, withSessionCookie } from '../plugins/session-auth.ts';
import { body } from '../validation.ts';

const code = Joi.string().trim().max(16);
const totpToken = Joi.string().max(128);

export function totpRoutes(auth: AuthService, limiter: RateLimiter): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/auth/totp/status',
      handler: (request) => ({ enabled: sessionOf(request).user.totp_enabled }),
    },
    {
      method: 'POST',
      path: '/auth/totp/setup',
      handler: (request) => auth.beginTotpSetup(sessionOf(request).user),
    },
    {
      method: 'POST',
      path: '/auth/totp/enable',
      options: {
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
      options: { validate: { payload: body(Joi.object({ code: code.required() })) } },
      async handler(request) {
        await auth.disableTotp(sessionOf(request).user, (request.payload as { code: string }).code);
        return { enabled: false };
      },
    },
    {
      method: 'POST',
      path: '/auth/totp/validate',
      options: {
        auth: false,
        validate: { payload: body(Joi.object({ totp_token: totpToken.required(), code: code.required() })) },
        ...rateLimited(limiter, async (request, h) => {
          const { totp_token, code: given } = request.payload as { totp_token: string; code: string };
          const { user, token } = await auth.completeLoginWithCode(totp_token, given);
          return withSessionCookie(h.response(user), request, token);
        }),
      },
    },
    {
      method: 'POST',
      path: '/auth/totp/recovery',
      options: {
        auth: false,
        validate: {
          payload: body(Joi.object({ totp_token: totpToken.required(), recovery_code: Joi.string().max(64).required() })),
        },
        ...rateLimited(limiter, async (request, h) => {
          const { totp_token, recovery_code } = request.payload as { totp_token: string; recovery_code: string };
          const { user, token, remaining } = await auth.completeLoginWithRecoveryCode(totp_token, recovery_code);
          return withSessionCookie(h.response({ ...user, remaining_codes: remaining }), request, token);
        }),
      },
    },
  ];
}
