/**
 * The OpenAPI 3.1 document of the API, built from the server's own route table: each route's
 * method and path, its authentication (`x-cairn-scope`: the API key scope it needs), its
 * request schemas (the joi validators of params, query and payload), its answers (the joi
 * schemas declared with `answers()`) and its error statuses (derived, plus those `answers()`
 * declares). The WebSockets come from `ws-frames.ts`, each as the GET that upgrades it. Nothing
 * here is written by hand per route, so the document cannot drift from what the server does.
 */
import type { RequestRoute } from '@hapi/hapi';
import type Joi from 'joi';
import { scopeOf } from '../plugins/route-policy.ts';
import { isRequired, jsonSchemaOf, jsonSchemaOfDescription, objectKeysOf, type JsonSchema } from './joi-schema.ts';
import { WEBSOCKETS, type WebSocketDescription } from './ws-frames.ts';
import { errorSchema, type AnswerDeclaration } from './response-schemas.ts';
import { byCodeUnits } from '../../domain/code-units.ts';

/** What the builder reads of a route: the subset of hapi's `RequestRoute` that `server.table()` gives. */
export type TableRoute = Pick<RequestRoute, 'method' | 'path' | 'settings'>;

/** The mark on an answer that no route declared yet (a generic object). */
export const UNDESCRIBED = 'x-cairn-undescribed';

type Operation = Record<string, unknown>;

const SECURITY_SCHEMES = {
  cookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'token',
    description: 'The session cookie set by login (HttpOnly, SameSite=Strict; Secure over TLS).',
  },
  bearerSession: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "A session's token (`GET /api/auth/token`), sent as `Authorization: Bearer …`.",
  },
  bearerApiKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'cairn_…',
    description: 'An API key (`POST /api/keys`, or pairing), sent as `Authorization: Bearer cairn_…`. It reaches the routes whose `x-cairn-scope` its scope covers: read < operate < admin; `session` routes take no key.',
  },
  queryToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: "WebSockets only (a browser cannot set their headers): a session's token or an API key as `?token=`.",
  },
};

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid request: a parameter or the body does not match its schema (`VALIDATION_FAILED`, `MALFORMED_JSON` …)',
  '401': 'No session or key, or one that ended (`UNAUTHENTICATED`)',
  '403': 'The key\'s scope is too small (`SCOPE_TOO_SMALL`), or the action is not allowed',
  '404': 'No such resource (`JOB_NOT_FOUND` …)',
  '409': 'The request conflicts with the current state (`JOB_NAME_TAKEN`, `RUN_IN_PROGRESS` …)',
  '429': 'Too many attempts or connections (`TOO_MANY_ATTEMPTS` …), with `retry_after` seconds and a `Retry-After` header',
  '503': 'What the request needs is not there now (`DRIVE_NOT_MOUNTED` …)',
  default: 'Any other error (413 `PAYLOAD_TOO_LARGE`, 415 `UNSUPPORTED_MEDIA_TYPE`, 500 `INTERNAL_ERROR` …), in the same shape',
};

/** Routes by path, then method, in code-unit order (domain/code-units.ts says why). */
function byPathThenMethod(a: TableRoute, b: TableRoute): number {
  return byCodeUnits(a.path, b.path) || byCodeUnits(a.method, b.method);
}

/** Builds the document from `server.table()`. */
export function buildOpenApiDocument(table: readonly TableRoute[], version: string): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = { Error: jsonSchemaOf(errorSchema) };
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of [...table].sort(byPathThenMethod)) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operationOf(route, schemas);
  }
  for (const socket of WEBSOCKETS) paths[socket.path] = { get: webSocketOperationOf(socket, schemas) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cairn API',
      version,
      description:
        "The backup daemon's REST API. Errors always have the shape `Error`. Generated from the route table at start; see docs/API.md for the rules behind each route. The WebSockets are the GET operations marked `x-cairn-websocket`: their frames are JSON objects told apart by `type`, described by the schema that `x-cairn-websocket.frames` names (`components.schemas.WsEvent…`).",
    },
    paths,
    components: {
      schemas,
      securitySchemes: SECURITY_SCHEMES,
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([status, description]) => [errorResponseName(status), { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
      ),
    },
  };
}

/** hapi's `{name?}` and `{name*2}` are plain `{name}` in OpenAPI. */
function openApiPath(path: string): string {
  return path.replace(/\{(\w+)[?*]?\d*\}/g, '{$1}');
}

function errorResponseName(status: string): string {
  return status === 'default' ? 'Error' : `Error${status}`;
}

function operationOf(route: TableRoute, schemas: Record<string, JsonSchema>): Operation {
  const validate = (route.settings.validate ?? {}) as { params?: Joi.Schema; query?: Joi.Schema; payload?: Joi.Schema };
  const auth = authOf(route);
  const operation: Operation = {
    operationId: operationIdOf(route),
    tags: [tagOf(route.path)],
    ...auth,
    parameters: parametersOf(route, validate),
  };
  if (isJoi(validate.payload)) {
    operation.requestBody = { required: isRequired(validate.payload), content: { 'application/json': { schema: jsonSchemaOf(validate.payload) } } };
  }
  operation.responses = { ...answersOf(route, schemas), ...errorsOf(route, validate, auth.security !== undefined && auth.security.length === 0) };
  return operation;
}

/** `get /api/jobs/{id}/runs` → `getJobsIdRuns`: unique per method and path. */
function operationIdOf(route: Pick<TableRoute, 'method' | 'path'>): string {
  const words = route.path.replace(/^\/api\//, '/').split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method + words.map((word) => word[0].toUpperCase() + word.slice(1)).join('');
}

/** The first segment after /api groups the operations: jobs, runs, auth … */
function tagOf(path: string): string {
  return path.replace(/^\/api\//, '').split('/')[0] || 'api';
}

/** The security requirement and key scope of a route. */
function authOf(route: TableRoute): { security?: Array<Record<string, string[]>>; 'x-cairn-scope'?: string } {
  const auth = route.settings.auth as false | { mode?: string } | undefined;
  if (auth === false) return { security: [] };
  const scope = scopeOf(route);
  const schemes = scope === 'session' ? ['cookie', 'bearerSession'] : ['cookie', 'bearerSession', 'bearerApiKey'];
  const requirements: Array<Record<string, string[]>> = schemes.map((scheme) => ({ [scheme]: [] }));
  // `try`: answered without credentials too (with less detail).
  return { security: auth?.mode === 'try' ? [{}, ...requirements] : requirements, 'x-cairn-scope': scope };
}

function parametersOf(route: TableRoute, validate: { params?: Joi.Schema; query?: Joi.Schema }): unknown[] {
  const declared = isJoi(validate.params) ? objectKeysOf(validate.params) : [];
  const inPath = [...route.path.matchAll(/\{(\w+)[?*]?\d*\}/g)].map((match) => match[1]);
  const pathParameters = inPath.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: declared.find((parameter) => parameter.name === name)?.schema ?? { type: 'string' },
  }));
  const queryParameters = (isJoi(validate.query) ? objectKeysOf(validate.query) : []).map((parameter) => ({
    name: parameter.name,
    in: 'query',
    required: parameter.required,
    schema: parameter.schema,
  }));
  return [...pathParameters, ...queryParameters];
}

/** The success answers a route declares (`answers()`), else one generic answer marked undescribed. */
function answersOf(route: TableRoute, schemas: Record<string, JsonSchema>): Record<string, unknown> {
  const declared = (route.settings.response as { status?: Record<string, Joi.Schema> } | undefined)?.status ?? {};
  const entries = Object.entries(declared).filter(([, schema]) => isJoi(schema));
  if (entries.length === 0) return { '200': { description: 'Not yet described in this document', [UNDESCRIBED]: true } };
  return Object.fromEntries(entries.map(([status, schema]) => [status, { description: 'Success', content: { [mediaTypeOf(schema)]: { schema: namedSchemaOf(schema, schemas) } } }]));
}

/** JSON, unless the schema names another media type (`textBody()`). */
function mediaTypeOf(schema: Joi.Schema): string {
  const metas = (schema.describe() as { metas?: Array<{ mediaType?: unknown }> }).metas ?? [];
  const declared = metas.find((meta) => typeof meta?.mediaType === 'string')?.mediaType as string | undefined;
  return declared ?? 'application/json';
}

/**
 * A labelled schema (`.label('Job')`), or a list of one, as a reference to `components.schemas`,
 * added there once; anything else inline.
 */
function namedSchemaOf(schema: Joi.Schema, schemas: Record<string, JsonSchema>): JsonSchema {
  return named(schema.describe(), schemas);
}

function named(description: Joi.Description, schemas: Record<string, JsonSchema>): JsonSchema {
  const label = (description.flags as { label?: string } | undefined)?.label;
  if (label) {
    const schema = jsonSchemaOfDescription(description);
    // Two shapes under one name would document one of them wrongly: a route's declaration is wrong.
    if (schemas[label] && JSON.stringify(schemas[label]) !== JSON.stringify(schema)) throw new Error(`two response schemas are labelled ${label}`);
    schemas[label] = schema;
    return { $ref: `#/components/schemas/${label}` };
  }
  const items = (description as { items?: Joi.Description[] }).items;
  if (description.type === 'array' && items?.length === 1) return { ...jsonSchemaOfDescription(description), items: named(items[0], schemas) };
  // Plain alternatives (`Joi.alternatives(User, TotpRequired)`): each labelled one by reference.
  const matches = (description as { matches?: Array<{ schema?: Joi.Description }> }).matches;
  if (description.type === 'alternatives' && matches?.length && matches.every((match) => match.schema)) return { anyOf: matches.map((match) => named(match.schema!, schemas)) };
  return jsonSchemaOfDescription(description);
}

/** The error answers a route can give, each in the contract's shape. */
function errorsOf(route: TableRoute, validate: { params?: unknown; query?: unknown; payload?: unknown }, isPublic: boolean): Record<string, unknown> {
  const statuses: string[] = [];
  if (validate.params || validate.query || validate.payload) statuses.push('400');
  if (!isPublic) statuses.push('401', '403');
  if (route.path.includes('{')) statuses.push('404');
  const declared = ((route.settings.app ?? {}) as AnswerDeclaration).errors ?? [];
  return errorAnswers([...statuses, ...declared.map(String)]);
}

/** The statuses, each once and in order, then `default`, as references to the shared error answers. */
function errorAnswers(statuses: string[]): Record<string, unknown> {
  const distinct = [...new Set(statuses)].sort();
  return Object.fromEntries([...distinct, 'default'].map((status) => [status, { $ref: `#/components/responses/${errorResponseName(status)}` }]));
}

/**
 * A WebSocket as the GET that upgrades it (OpenAPI has no WebSocket object): its auth and
 * parameters, `101` for the upgrade, the errors that refuse it in the contract's shape, and its
 * frames (`x-cairn-websocket.frames`, one of the `WsEvent…` schemas by `type`).
 */
function webSocketOperationOf(socket: WebSocketDescription, schemas: Record<string, JsonSchema>): Operation {
  const frames = Object.fromEntries(Object.entries(socket.frames).map(([type, schema]) => [type, namedSchemaOf(schema, schemas)]));
  const union = socket.framesName;
  // One schema for any frame of this socket, chosen by `type`.
  schemas[union] = { oneOf: Object.values(frames), discriminator: { propertyName: 'type', mapping: Object.fromEntries(Object.entries(frames).map(([type, ref]) => [type, ref.$ref])) } };
  const pathParameters = Object.entries(socket.params ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: jsonSchemaOf(schema) }));
  return {
    operationId: operationIdOf({ method: 'get', path: socket.path }),
    tags: ['websockets'],
    summary: socket.summary,
    description: 'A WebSocket (`ws://`, or `wss://` over HTTPS), also served without `/api`. The credential is checked before the upgrade; a socket whose session or key is revoked is closed (1008).',
    security: ['cookie', 'bearerSession', 'bearerApiKey', 'queryToken'].map((scheme) => ({ [scheme]: [] })),
    'x-cairn-scope': 'read',
    'x-cairn-websocket': { frames: { $ref: `#/components/schemas/${union}` }, types: Object.keys(frames) },
    parameters: [...pathParameters, { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'The credential, when no header or cookie carries it' }],
    responses: {
      '101': { description: `Switching Protocols: the socket then sends JSON frames, each one of \`${union}\`` },
      ...errorAnswers(['401', '403', '429', ...(pathParameters.length ? ['404'] : [])]),
    },
  };
}

function isJoi(schema: unknown): schema is Joi.Schema {
  return typeof schema === 'object' && schema !== null && typeof (schema as Joi.Schema).describe === 'function';
}
