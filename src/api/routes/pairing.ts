/**
 * /pairing: the owner starts a pairing on the box (a session only: a key may not pair more keys),
 * and the app that scanned its QR code claims it without any other credential, behind the login
 * rate limit.
 */
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { RateLimiter } from '../../auth/index.ts';
import { pairingClaimSchema, pairingStartSchema, type PairingClaim, type PairingStart } from '../../domain/pairing.ts';
import type { PairingService } from '../../pairing/index.ts';
import type { ClientAddresses } from '../client-address.ts';
import { answers, listOf, pairedKeySchema, pairingSchema, startedPairingSchema } from '../openapi/index.ts';
import { idOf, idParam } from '../params.ts';
import { rateLimited } from '../plugins/rate-limit.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

/** `DELETE /pairing/:id`: the pairing, now `cancelled`. */
const cancelledPairingSchema = pairingSchema.keys({ message: Joi.string().required() }).label('CancelledPairing');

/** The device name a claim gives: the audit's actor, since the claimer has no session. */
const givenDeviceName = (request: Request): string | null => {
  const name = (request.payload as { device_name?: unknown } | null)?.device_name;
  return typeof name === 'string' ? name : null;
};

export function pairingRoutes(pairing: PairingService, limiter: RateLimiter, clients: ClientAddresses): ServerRoute[] {
  const params = idParam;
  return [
    {
      method: 'POST',
      path: '/pairing',
      options: { ...policy({ scope: 'session', audit: 'pairing.start' }), ...answers(201, startedPairingSchema, [409]), validate: { payload: body(pairingStartSchema) } },
      handler: (request, h) => h.response(pairing.start(request.payload as PairingStart)).code(201),
    },
    { method: 'GET', path: '/pairing', options: { ...policy({ scope: 'session' }), ...answers(200, listOf(pairingSchema)) }, handler: () => pairing.list() },
    { method: 'GET', path: '/pairing/{id}', options: { ...policy({ scope: 'session' }), ...answers(200, pairingSchema), validate: { params } }, handler: (request) => pairing.get(idOf(request)) },
    {
      method: 'DELETE',
      path: '/pairing/{id}',
      options: { ...policy({ scope: 'session', audit: 'pairing.cancel' }), ...answers(200, cancelledPairingSchema, [409]), validate: { params } },
      handler: (request) => ({ message: 'Pairing cancelled', ...pairing.cancel(idOf(request)) }),
    },
    {
      method: 'POST',
      path: '/pairing/claim',
      options: {
        auth: false,
        ...policy({ audit: 'pairing.claim', auditFailures: true, auditActor: givenDeviceName }),
        ...answers(201, pairedKeySchema, [401, 429]),
        validate: { payload: body(pairingClaimSchema) },
        // Every refused code (wrong, used, expired, cancelled) is a 401 and counts as a failed login.
        ...rateLimited(limiter, clients, async (request, h) => {
          const { code, device_name } = request.payload as PairingClaim;
          return h.response(await pairing.claim(code, device_name)).code(201);
        }),
      },
    },
  ];
}
