/**
 * The API's single error edge: every failure leaves as the contract's `{ error, message, code }`
 * with the status its kind calls for. Anything unrecognised is logged and answered with a bare 500.
 */
import type { Boom } from '@hapi/boom';
import type { Plugin, Request, ResponseToolkit } from '@hapi/hapi';
import { isCairnError, type ErrorKind } from '../../domain/errors.ts';
import type { Logger } from '../../log.ts';

const statusOfKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** The contract's `error` titles, and the code given to errors hapi itself raises. */
const byStatus: Record<number, { title: string; code: string }> = {
  400: { title: 'Invalid request', code: 'INVALID_REQUEST' },
  401: { title: 'Unauthorized', code: 'UNAUTHENTICATED' },
  403: { title: 'Forbidden', code: 'FORBIDDEN' },
  404: { title: 'Not found', code: 'ROUTE_NOT_FOUND' },
  405: { title: 'Method not allowed', code: 'METHOD_NOT_ALLOWED' },
  409: { title: 'Conflict', code: 'CONFLICT' },
  413: { title: 'Payload too large', code: 'PAYLOAD_TOO_LARGE' },
  415: { title: 'Unsupported media type', code: 'UNSUPPORTED_MEDIA_TYPE' },
  429: { title: 'Rate limited', code: 'RATE_LIMITED' },
  500: { title: 'Internal error', code: 'INTERNAL_ERROR' },
  503: { title: 'Unavailable', code: 'UNAVAILABLE' },
};

interface ErrorBody {
  error: string;
  message: string;
  code: string;
  [extra: string]: unknown;
}

function describe(error: Boom, log: Logger, request: Request): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (isCairnError(error)) {
    const status = statusOfKind[error.kind];
    const body: ErrorBody = { ...error.details, error: byStatus[status].title, message: error.message, code: error.code };
    const headers: Record<string, string> = {};
    if (error.retryAfter !== undefined) {
      body.retry_after = error.retryAfter;
      headers['retry-after'] = String(error.retryAfter);
    }
    return { status, body, headers };
  }
  const status = error.output.statusCode;
  const known = byStatus[status];
  if (!known || status >= 500) {
    log.error('request failed', { method: request.method, path: request.path, error: error.stack ?? String(error) });
    return { status: 500, body: { error: 'Internal error', message: 'An unexpected error occurred', code: 'INTERNAL_ERROR' }, headers: {} };
  }
  const message =
    status === 404 ? `No such endpoint: ${request.method.toUpperCase()} ${request.path}` : String(error.output.payload.message || known.title);
  const code = status === 400 && /JSON/i.test(message) ? 'MALFORMED_JSON' : known.code;
  return { status, body: { error: known.title, message, code }, headers: {} };
}

export function errorsPlugin(log: Logger): Plugin<void> {
  return {
    name: 'cairn-errors',
    register(server) {
      server.ext('onPreResponse', (request: Request, h: ResponseToolkit) => {
        const response = request.response;
        if (!('isBoom' in response) || !response.isBoom) return h.continue;
        const { status, body, headers } = describe(response, log, request);
        const reply = h.response(body).code(status);
        for (const [name, value] of Object.entries(headers)) reply.header(name, value);
        // Keep headers hapi set for the client (e.g. WWW-Authenticate), except ones about the old payload.
        for (const [name, value] of Object.entries(response.output.headers)) {
          if (!/^content-/i.test(name) && value !== undefined) reply.header(name, String(value));
        }
        return reply;
      });
    },
  };
}
