/**
 * Login rate limiting at the API edge: a locked-out client is answered 429 before anything else
 * runs, as is one with as many attempts under way as it may fail; a handler's failure (by default
 * a 401) counts against the client and its success clears the client's record. The client is `ClientAddresses.of`: behind a trusted proxy, the forwarded client.
 */
import type { Lifecycle, Request, RouteOptions } from '@hapi/hapi';
import type { RateLimiter } from '../../auth/index.ts';
import { CairnError, isCairnError } from '../../domain/errors.ts';
import type { ClientAddresses } from '../client-address.ts';

function lockedOut(seconds: number): CairnError {
  return new CairnError('rate_limited', 'TOO_MANY_ATTEMPTS', `Too many failed attempts. Try again in ${seconds} seconds.`, {
    retryAfter: seconds,
    retryable: true,
  });
}

function tooManyAtOnce(): CairnError {
  return new CairnError('rate_limited', 'TOO_MANY_ATTEMPTS', 'Too many attempts at once from this client. Try again in 1 second.', { retryAfter: 1, retryable: true });
}

const wrongCredentials = (error: CairnError) => error.kind === 'unauthorized';

/**
 * Route options that put `handler` behind the limiter. `countsAsFailure` says which refusals are
 * guesses (default: every 401); other errors neither count nor clear.
 */
export function rateLimited(
  limiter: RateLimiter,
  clients: ClientAddresses,
  handler: Lifecycle.Method,
  countsAsFailure: (error: CairnError) => boolean = wrongCredentials,
): Pick<RouteOptions, 'ext' | 'handler'> {
  const clientOf = (request: Request) => clients.of(request);
  return {
    ext: {
      onPreAuth: {
        method(request, h) {
          const wait = limiter.retryAfterSeconds(clientOf(request));
          if (wait > 0) throw lockedOut(wait);
          return h.continue;
        },
      },
    },
    async handler(request, h) {
      const client = clientOf(request);
      if (!limiter.startAttempt(client)) throw tooManyAtOnce();
      try {
        const result = await handler.call(null, request, h);
        limiter.recordSuccess(client);
        return result;
      } catch (error) {
        if (isCairnError(error) && countsAsFailure(error)) limiter.recordFailure(client);
        throw error;
      } finally {
        limiter.endAttempt(client);
      }
    },
  };
}
