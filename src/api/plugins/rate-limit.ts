/**
 * Login rate limiting at the API edge: a locked-out client is answered 429 before anything else
 * runs; a handler's 401 counts as a failure and its success clears the client's record.
 */
import type { Lifecycle, Request, RouteOptions } from '@hapi/hapi';
import type { RateLimiter } from '../../auth/index.ts';
import { CairnError, isCairnError } from '../../domain/errors.ts';

function clientOf(request: Request): string {
  return request.info.remoteAddress;
}

function lockedOut(seconds: number): CairnError {
  return new CairnError('rate_limited', 'TOO_MANY_ATTEMPTS', `Too many failed attempts. Try again in ${seconds} seconds.`, {
    retryAfter: seconds,
    retryable: true,
  });
}

/** Route options that put `handler` behind the limiter. */
export function rateLimited(limiter: RateLimiter, handler: Lifecycle.Method): Pick<RouteOptions, 'ext' | 'handler'> {
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
      try {
        const result = await handler.call(null, request, h);
        limiter.recordSuccess(clientOf(request));
        return result;
      } catch (error) {
        if (isCairnError(error) && error.kind === 'unauthorized') limiter.recordFailure(clientOf(request));
        throw error;
      }
    },
  };
}
