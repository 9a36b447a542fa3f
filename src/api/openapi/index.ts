/**
 * The API's OpenAPI 3.1 document (issue 16): built from the route table when the server starts and
 * served at `GET /api/openapi.json`; the response schemas routes declare with `answers()`; and what
 * hapi does when an answer does not match its schema.
 */
import type { Lifecycle, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { Logger } from '../../log.ts';
import { answers } from './response-schemas.ts';

export { buildOpenApiDocument, UNDESCRIBED, type TableRoute } from './document.ts';
export { jsonSchemaOf, type JsonSchema } from './joi-schema.ts';
export * from './response-schemas.ts';
export { WEBSOCKETS, type WebSocketDescription } from './ws-frames.ts';

/**
 * What an answer that does not match its declared schema does: `log` (the default) writes a warning
 * naming the route and the mismatch and sends the answer anyway, since a client is better served by
 * a slightly off answer than by none; `error` answers 500 instead, so a test suite run this way
 * catches every mismatch.
 */
export type ResponseCheck = 'log' | 'error';

/**
 * Share of answers checked in production (`log`). Checking costs: 24 ms for a list of 100 jobs and
 * 64 ms for 1,000 runs on the 2-core build box (bench/response-check.ts), several times that on a
 * Pi; a sample still catches a steady mismatch within a few requests.
 */
export const LOGGED_CHECK_PERCENT = 5;

/**
 * hapi's route `response` settings for `check` (server-wide; routes add their schemas with
 * `answers()`): the failAction, answers checked as sent (`"5"` is not a number there either), and
 * the share of answers checked: all under `error`, else `samplePercent`.
 */
export function responseCheckOptions(check: ResponseCheck, log: Logger, samplePercent = LOGGED_CHECK_PERCENT) {
  return { failAction: responseFailAction(check, log), options: { convert: false }, sample: check === 'error' ? 100 : samplePercent };
}

function responseFailAction(check: ResponseCheck, log: Logger): Lifecycle.FailAction {
  if (check === 'error') return 'error';
  return (request, h, error) => {
    log.warn('answer does not match its documented schema', { method: request.method, path: request.route.path, status: (request.response as { statusCode?: number } | null)?.statusCode, problem: error?.message });
    return h.continue;
  };
}

const documentSchema = Joi.object({ openapi: Joi.string().required(), info: Joi.object().required(), paths: Joi.object().required() }).unknown(true);

/**
 * `GET /openapi.json`: the document `documentOf` gives (checked at start, built on request). Behind the default
 * authentication, any key scope: an app reads it once paired; a logged-out client learns nothing,
 * not even the version.
 */
export function openApiRoutes(documentOf: () => Record<string, unknown>): ServerRoute[] {
  return [{ method: 'GET', path: '/openapi.json', options: answers(200, documentSchema), handler: () => documentOf() }];
}
