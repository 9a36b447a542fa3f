/**
 * Properties of every route, read from the server's own route table, so a route added later is
 * covered without touching this file.
 */
import { readFileSync } from 'node:fs';
import type { RequestRoute } from '@hapi/hapi';
import type Joi from 'joi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const routes = suite<{ daemon: TestDaemon; admin: ApiClient; table: RequestRoute[] }>('every route');

routes.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.table = context.daemon.server.table();
});
routes.after(async ({ daemon }) => {
  await daemon.stop();
});

/** A concrete URL for a route path: every `{param}` becomes 1. */
const urlOf = (route: RequestRoute) => route.path.replace(/\{[^}]+\}/g, '1');
/** No session needed: auth off, or tried (health: a session only adds detail). */
const isPublic = (route: RequestRoute) => (route.settings.auth as unknown) === false || (route.settings.auth as { mode?: string } | undefined)?.mode === 'try';
const payloadSchemaOf = (route: RequestRoute) => route.settings.validate?.payload as Joi.ObjectSchema | undefined;

/** A value of the wrong type for a joi field type. */
function wrongValueFor(type: string | undefined): unknown {
  switch (type) {
    case 'string':
      return 12345;
    case 'number':
      return '5';
    case 'boolean':
      return 'true';
    case 'array':
      return 'not-a-list';
    default:
      return ['wrong'];
  }
}

routes('the route table is not empty and everything lives under /api, but for /metrics where Prometheus looks', ({ table }) => {
  assert.ok(table.length >= 15, `only ${table.length} routes`);
  for (const route of table) assert.ok(route.path.startsWith('/api/') || route.path === '/metrics', route.path);
});

routes('every protected route answers 401 in the contract shape without a session', async ({ daemon, table }) => {
  const anonymous = daemon.client();
  const protectedRoutes = table.filter((route) => !isPublic(route));
  assert.ok(protectedRoutes.length > 0);
  for (const route of protectedRoutes) {
    const response = await anonymous.request(route.method.toUpperCase(), urlOf(route), route.method === 'get' ? undefined : {});
    assert.is(response.status, 401, `${route.method} ${route.path}`);
    assert.ok(isErrorShape(response.body, 'UNAUTHENTICATED'), `${route.method} ${route.path}`);
  }
});

routes('the public routes are exactly the ones a logged-out client needs', ({ table }) => {
  const publicRoutes = table.filter(isPublic).map((route) => `${route.method.toUpperCase()} ${route.path}`).sort();
  assert.equal(publicRoutes, [
    'GET /api/auth/setup-required',
    'GET /api/system/health',
    'POST /api/auth/login',
    'POST /api/auth/setup',
    'POST /api/auth/totp/recovery',
    'POST /api/auth/totp/validate',
    'POST /api/pairing/claim',
  ]);
});

routes('every route with a body answers 400 in the contract shape to malformed JSON', async ({ admin, table }) => {
  for (const route of table.filter(payloadSchemaOf)) {
    const response = await admin.request(route.method.toUpperCase(), urlOf(route), undefined, { rawBody: '{"name": "x",' });
    assert.is(response.status, 400, `${route.method} ${route.path}`);
    assert.ok(isErrorShape(response.body, 'MALFORMED_JSON'), `${route.method} ${route.path}: ${JSON.stringify(response.body)}`);
  }
});

routes('every route with a body answers 400 to unknown fields, a non-object body, and each field of the wrong type', async ({ admin, table }) => {
  for (const route of table.filter(payloadSchemaOf)) {
    const name = `${route.method} ${route.path}`;
    const send = (body: unknown) => admin.request(route.method.toUpperCase(), urlOf(route), body);

    const unknown = await send({ surely_not_a_field: true });
    assert.is(unknown.status, 400, name);
    assert.ok(isErrorShape(unknown.body), name);

    for (const notAnObject of [[], 'text', 42, null]) {
      const response = await send(notAnObject);
      assert.is(response.status, 400, `${name} with ${JSON.stringify(notAnObject)}`);
      assert.ok(isErrorShape(response.body), name);
    }

    const keys = (payloadSchemaOf(route)!.describe().keys ?? {}) as Record<string, { type?: string }>;
    for (const [key, description] of Object.entries(keys).filter(([, d]) => d.type !== 'any')) {
      const response = await send({ [key]: wrongValueFor(description.type) });
      assert.is(response.status, 400, `${name} with ${key} of the wrong type`);
      assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), name);
    }
  }
});

routes('a body over the size limit is a 413 in the contract shape', async ({ admin }) => {
  const response = await admin.request('PUT', '/api/settings', undefined, { rawBody: JSON.stringify({ theme: 'x'.repeat(2 * 1024 * 1024) }) });
  assert.is(response.status, 413);
  assert.ok(isErrorShape(response.body, 'PAYLOAD_TOO_LARGE'));
});

routes('a body that is not JSON is refused with a 415', async ({ admin }) => {
  const response = await admin.request('PUT', '/api/settings', undefined, { rawBody: 'theme=dark', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.is(response.status, 415);
  assert.ok(isErrorShape(response.body, 'UNSUPPORTED_MEDIA_TYPE'));
});

routes('an unknown route is a 404 in the contract shape', async ({ admin, daemon }) => {
  for (const client of [admin, daemon.client()]) {
    const response = await client.get('/api/no-such-thing');
    assert.is(response.status, 404);
    assert.ok(isErrorShape(response.body, 'ROUTE_NOT_FOUND'));
    assert.is(response.body.error, 'Not found');
  }
});

routes('answers carry no-store and security headers, errors included', async ({ admin }) => {
  for (const response of [await admin.get('/api/system/health'), await admin.get('/api/nothing-here')]) {
    assert.is(response.headers.get('cache-control'), 'no-store');
    assert.is(response.headers.get('x-content-type-options'), 'nosniff');
    assert.is(response.headers.get('x-frame-options'), 'DENY');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  }
});

routes('health answers without a session with the status and version', async ({ daemon }) => {
  const response = await daemon.client().get('/api/system/health');
  assert.is(response.status, 200);
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  assert.equal(response.body, { status: 'ok', version });
});

routes.run();
