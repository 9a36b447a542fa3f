/**
 * CORS for the owner's allowed origins (setting `cors_origins`, default none), read on every request
 * so a change applies at once. A preflight from an allowed origin is answered 204 with what the API
 * accepts; from any other origin it is refused 403 `CORS_ORIGIN_REFUSED`. Answers to an allowed
 * origin carry `Access-Control-Allow-Origin` naming it. Credentials (the cookie) are never allowed
 * cross-origin: the cookie stays SameSite=Strict, and a web app on another origin sends a bearer key.
 */
import type { Plugin, Request } from '@hapi/hapi';
import { CairnError } from '../../domain/errors.ts';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type';
/** Headers a cross-origin client may read: paging totals and rate-limit waits. */
const EXPOSED_HEADERS = 'X-Total-Count, Retry-After';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

function originOf(request: Request): string | undefined {
  const origin: unknown = request.headers.origin;
  return typeof origin === 'string' ? origin : undefined;
}

/** @param allowedOrigins the origins allowed now (`scheme://host[:port]`, compared exactly) */
export function corsPlugin(allowedOrigins: () => readonly string[]): Plugin<void> {
  const isAllowed = (origin: string | undefined): origin is string => origin !== undefined && allowedOrigins().includes(origin);
  return {
    name: 'cairn-cors',
    register(server) {
      server.ext('onRequest', (request, h) => {
        const isPreflight = request.method === 'options' && request.headers['access-control-request-method'] !== undefined;
        if (!isPreflight) return h.continue;
        const origin = originOf(request);
        if (!isAllowed(origin)) {
          throw new CairnError('forbidden', 'CORS_ORIGIN_REFUSED', `Origin ${origin ?? '(none)'} is not among the allowed origins (setting cors_origins)`);
        }
        return h
          .response()
          .code(204)
          .header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', ALLOWED_METHODS)
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS)
          .header('vary', 'Origin')
          .takeover();
      });
      server.ext('onPreResponse', (request, h) => {
        const origin = originOf(request);
        if (!isAllowed(origin)) return h.continue;
        const response = request.response;
        const headers: Record<string, string> = {
          'access-control-allow-origin': origin,
          'access-control-expose-headers': EXPOSED_HEADERS,
          vary: 'Origin',
        };
        for (const [name, value] of Object.entries(headers)) {
          if ('isBoom' in response && response.isBoom) response.output.headers[name] = value;
          else if (!('isBoom' in response)) response.header(name, value);
        }
        return h.continue;
      });
    },
  };
}
