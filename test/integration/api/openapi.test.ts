/**
 * `GET /api/openapi.json` (issue 16 item 4): an independent validator accepts it, every route of the
 * server's own table is in it with its auth, and the answers real requests get match the schemas it
 * documents (checked with Ajv, not with the joi schemas they were made from).
 */
import type { RequestRoute } from '@hapi/hapi';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { scopeOf } from '../../../src/api/plugins/route-policy.ts';
import { createJob, createSchedule, finishedRun, startTestDaemon, tempDir, type ApiClient, type ApiResponse, type TestDaemon } from '../../helpers.ts';

// ajv-formats is CommonJS: its default export arrives as the module object under tsx.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;

type Doc = { paths: Record<string, Record<string, any>>; components: Record<string, any> } & Record<string, any>;

const openapi = suite<{ daemon: TestDaemon; owner: ApiClient; doc: Doc; table: RequestRoute[]; check: (method: string, route: string, response: ApiResponse) => void }>('openapi');

openapi.before(async (context) => {
  // Every answer is also checked by hapi against the joi schema it was documented from: a mismatch is a 500.
  context.daemon = await startTestDaemon({}, { responseCheck: 'error' });
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
  context.table = context.daemon.server.table();
  const served = await context.owner.get('/api/openapi.json');
  assert.is(served.status, 200);
  context.doc = served.body;
  context.check = answerChecker(context.doc);
});
openapi.after(async ({ daemon }) => {
  await daemon.stop();
});

/** `/api/jobs/{id}` as a JSON pointer segment inside a URI fragment. */
const pointerSegment = (segment: string) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

/**
 * Checks an answer against what the document says `method route` answers with its status (or the
 * `default` answer), following references as a client generator would.
 */
function answerChecker(doc: Doc): (method: string, route: string, response: ApiResponse) => void {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  let compiled = 0;
  return (method, route, response) => {
    const operation = doc.paths[route]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${route} is not in the document`);
    const status = String(response.status);
    let answer = operation.responses[status] ?? operation.responses.default;
    assert.ok(answer, `${method} ${route} documents no answer for ${status}`);
    if (answer.$ref) answer = doc.components.responses[answer.$ref.split('/').pop()];
    const schema = answer.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${route} ${status} is documented without a schema`);
    // The components travel with the schema so its $refs resolve.
    const validate = ajv.compile({ ...schema, $id: `cairn:${method}:${pointerSegment(route)}:${status}:${(compiled += 1)}`, components: doc.components });
    // A plain Error, not an assertion, so a test can expect it (uvu's throws() passes assertions on).
    if (!validate(response.body)) throw new Error(`${method} ${route} ${status}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(response.body).slice(0, 500)}`);
  };
}

openapi('the answer check refuses an answer that does not match (it is not vacuous)', async ({ owner, check }) => {
  const job = await createJob(owner);
  const answer = await owner.get(`/api/jobs/${job.id}`);
  check('GET', '/api/jobs/{id}', answer);
  const { id: _id, ...withoutId } = answer.body;
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, body: withoutId }), /must have required property 'id'/);
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, body: { ...answer.body, enabled: 'yes' } }), /must be boolean/);
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, status: 404 }), /must have required property 'error'/);
});

openapi('the document passes an independent OpenAPI 3.1 validator', async ({ doc }) => {
  assert.is(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc);
  assert.ok(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
});

openapi('every route of the server is documented with its method, path and auth', ({ doc, table }) => {
  for (const route of table) {
    const operation = doc.paths[route.path]?.[route.method];
    assert.ok(operation, `${route.method.toUpperCase()} ${route.path} is missing`);
    const auth = route.settings.auth as false | { mode?: string } | undefined;
    if (auth === false) {
      assert.equal(operation.security, [], `${route.path} is public`);
      assert.is(operation['x-cairn-scope'], undefined);
    } else {
      assert.is(operation['x-cairn-scope'], scopeOf(route), `${route.method} ${route.path}`);
      const schemes = operation.security.flatMap((requirement: object) => Object.keys(requirement));
      assert.ok(schemes.includes('cookie') && schemes.includes('bearerSession'), `${route.path}: ${schemes}`);
      // A key reaches every route but the session-only ones (keys, sessions, password, 2FA).
      assert.is(schemes.includes('bearerApiKey'), scopeOf(route) !== 'session', `${route.method} ${route.path}`);
    }
  }
  const documented = Object.values(doc.paths).reduce((sum, operations) => sum + Object.keys(operations).length, 0);
  assert.is(documented, table.length, 'no operation without a route');
});

openapi("request schemas come from the routes' joi validators", ({ doc }) => {
  const createJob = doc.paths['/api/jobs'].post;
  const body = createJob.requestBody.content['application/json'].schema;
  assert.is(createJob.requestBody.required, true);
  assert.equal([...body.required].sort(), ['destination_config', 'destination_type', 'name', 'source_dirs']);
  assert.is(body.additionalProperties, false, 'unknown fields are refused, as joi does');
  assert.equal(body.properties.name, { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });
  assert.equal(body.properties.sync_options.properties.verbosity, { enum: ['quiet', 'normal', 'verbose'], default: 'normal' });
  const runsQuery = doc.paths['/api/runs'].get.parameters;
  assert.equal(
    runsQuery.find((parameter: any) => parameter.name === 'limit'),
    { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
  );
  assert.equal(doc.paths['/api/jobs/{id}'].get.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 } }]);
});

openapi('every documented error answer has the contract error shape', ({ doc }) => {
  const error = doc.components.schemas.Error;
  assert.equal(error.required, ['error', 'message', 'code']);
  for (const [name, response] of Object.entries<any>(doc.components.responses)) {
    assert.equal(response.content['application/json'].schema, { $ref: '#/components/schemas/Error' }, name);
  }
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (status === 'default' || Number(status) >= 400) assert.match(response.$ref, /^#\/components\/responses\/Error/, `${method} ${path} ${status}`);
      }
    }
  }
});

/**
 * Routes whose answer is not described yet: documented with a generic answer. Describing one (with
 * `answers()` in its route) makes this test fail until it leaves the list, so the list only shrinks.
 */
const NOT_YET_DESCRIBED = [
  'DELETE /api/pairing/{id}',
  'GET /api/auth/me',
  'GET /api/auth/sessions',
  'GET /api/audit',
  'GET /api/credentials/{id}/usage',
  'GET /api/dashboard',
  'GET /api/jobs/{id}/snapshots/{snapshot_id}/tree',
  'GET /api/notifications/channels',
  'GET /api/notifications/channels/{id}',
  'GET /api/notifications/history',
  'GET /api/notifications/kinds',
  'GET /api/pairing',
  'GET /api/pairing/{id}',
  'GET /api/providers',
  'GET /api/providers/{type}/capabilities',
  'GET /api/system/browse',
  'GET /api/system/drives',
  'GET /api/system/mounts',
  'GET /metrics',
  'POST /api/auth/login',
  'POST /api/auth/setup',
  'POST /api/auth/totp/disable',
  'POST /api/auth/totp/enable',
  'POST /api/auth/totp/recovery',
  'POST /api/auth/totp/setup',
  'POST /api/auth/totp/validate',
  'POST /api/jobs/{id}/retention/preview',
  'POST /api/notifications/channels',
  'POST /api/notifications/channels/{id}/test',
  'POST /api/pairing',
  'POST /api/pairing/claim',
  'POST /api/providers/test',
  'POST /api/system/export',
  'POST /api/system/import',
  'POST /api/system/mkdir',
  'POST /api/system/mount',
  'POST /api/system/unmount',
  'PUT /api/notifications/channels/{id}',
];

openapi('the routes whose answers are not described yet are exactly the known list', ({ doc }) => {
  const undescribed: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      if (Object.values<any>(operation.responses).some((response) => response['x-cairn-undescribed'])) undescribed.push(`${method.toUpperCase()} ${path}`);
    }
  }
  assert.equal(undescribed.sort(), [...NOT_YET_DESCRIBED].sort());
  const total = Object.values(doc.paths).reduce((sum, operations) => sum + Object.keys(operations).length, 0);
  console.log(`  answers described: ${total - undescribed.length} of ${total} operations`);
});

openapi('the document needs a session or a key of any scope, and is the same for both', async ({ daemon, owner, doc }) => {
  const anonymous = await daemon.client().get('/api/openapi.json');
  assert.is(anonymous.status, 401);
  const made = await owner.post('/api/keys', { name: 'Docs reader', scope: 'read' });
  assert.is(made.status, 201);
  const app = daemon.client();
  app.bearer = made.body.key;
  const byKey = await app.get('/api/openapi.json');
  assert.is(byKey.status, 200);
  assert.equal(byKey.body, doc);
});

openapi('jobs, runs, logs, schedules, snapshots and settings answer as documented', async ({ owner, check }) => {
  const created = await owner.post('/api/jobs', jobBody());
  assert.is(created.status, 201);
  check('POST', '/api/jobs', created);
  const id = created.body.id;
  check('GET', '/api/jobs', await owner.get('/api/jobs'));
  check('GET', '/api/jobs/{id}', await owner.get(`/api/jobs/${id}`));
  check('PUT', '/api/jobs/{id}', await owner.put(`/api/jobs/${id}`, { description: 'documented' }));

  const started = await owner.post(`/api/jobs/${id}/run`);
  check('POST', '/api/jobs/{id}/run', started);
  const run = await finishedRun(owner, started.body.run_id);
  assert.is(run.status, 'completed', run.error_message);
  check('GET', '/api/runs/{id}', await owner.get(`/api/runs/${run.id}`));
  check('GET', '/api/runs', await owner.get('/api/runs'));
  check('GET', '/api/jobs/{id}/runs', await owner.get(`/api/jobs/${id}/runs`));
  const logs = await owner.get(`/api/runs/${run.id}/logs`);
  assert.ok(logs.body.length > 0);
  check('GET', '/api/runs/{id}/logs', logs);

  const snapshots = await owner.get(`/api/jobs/${id}/snapshots`);
  assert.is(snapshots.body.total, 1);
  check('GET', '/api/jobs/{id}/snapshots', snapshots);
  check('GET', '/api/jobs/{id}/snapshots/{snapshot_id}', await owner.get(`/api/jobs/${id}/snapshots/${encodeURIComponent(snapshots.body.snapshots[0].id)}`));
  check('GET', '/api/jobs/{id}/retention', await owner.get(`/api/jobs/${id}/retention`));
  const verify = await owner.post(`/api/jobs/${id}/verify`, {});
  check('POST', '/api/jobs/{id}/verify', verify);
  const verified = await finishedRun(owner, verify.body.run_id);
  assert.is(verified.status, 'completed', verified.error_message);
  check('GET', '/api/runs/{id}', await owner.get(`/api/runs/${verified.id}`));

  await createSchedule(owner, id);
  const schedule = await owner.post(`/api/jobs/${id}/schedules`, { schedule_type: 'weekly', hour: 3, minute: 30, day_of_week: 1 });
  check('POST', '/api/jobs/{id}/schedules', schedule);
  check('GET', '/api/jobs/{id}/schedules', await owner.get(`/api/jobs/${id}/schedules`));
  check('PUT', '/api/schedules/{id}', await owner.put(`/api/schedules/${schedule.body.id}`, { schedule_type: 'custom', cron_expression: '0 4 * * *' }));
  check('DELETE', '/api/schedules/{id}', await owner.delete(`/api/schedules/${schedule.body.id}`));

  check('GET', '/api/settings', await owner.get('/api/settings'));
  check('PUT', '/api/settings', await owner.put('/api/settings', { theme: 'light' }));
  check('GET', '/api/keys', await owner.get('/api/keys'));

  const clone = await owner.post(`/api/jobs/${id}/clone`);
  check('POST', '/api/jobs/{id}/clone', clone);
  check('DELETE', '/api/jobs/{id}', await owner.delete(`/api/jobs/${clone.body.id}`));
});

openapi('credentials answer as documented, and never show their secret', async ({ owner, check }) => {
  const created = await owner.post('/api/credentials', { name: 'Documented S3', provider_type: 's3', data: { access_key_id: 'AKIA', secret_access_key: 'not shown' } });
  assert.is(created.status, 201, JSON.stringify(created.body));
  check('POST', '/api/credentials', created);
  check('GET', '/api/credentials', await owner.get('/api/credentials'));
  check('GET', '/api/credentials/{id}', await owner.get(`/api/credentials/${created.body.id}`));
  check('PUT', '/api/credentials/{id}', await owner.put(`/api/credentials/${created.body.id}`, { name: 'Renamed S3' }));
  check('DELETE', '/api/credentials/{id}', await owner.delete(`/api/credentials/${created.body.id}`));
});

openapi('the system, auth and key routes answer as documented', async ({ daemon, owner, check }) => {
  check('GET', '/api/system/health', await daemon.client().get('/api/system/health'));
  check('GET', '/api/system/health', await owner.get('/api/system/health'));
  check('GET', '/api/system/info', await owner.get('/api/system/info'));
  check('GET', '/api/system/allowed-paths', await owner.get('/api/system/allowed-paths'));
  check('GET', '/api/auth/setup-required', await daemon.client().get('/api/auth/setup-required'));
  check('GET', '/api/auth/token', await owner.get('/api/auth/token'));
  check('GET', '/api/auth/totp/status', await owner.get('/api/auth/totp/status'));
  const key = await owner.post('/api/keys', { name: 'Described', scope: 'operate' });
  assert.is(key.status, 201);
  check('POST', '/api/keys', key);
  check('DELETE', '/api/keys/{id}', await owner.delete(`/api/keys/${key.body.id}`));
  const other = daemon.client();
  assert.is((await other.login()).status, 200);
  const sessions = await owner.get('/api/auth/sessions');
  const theirs = sessions.body.find((session: any) => !session.current);
  check('DELETE', '/api/auth/sessions/{id}', await owner.delete(`/api/auth/sessions/${theirs.id}`));
  const third = daemon.client();
  assert.is((await third.login()).status, 200);
  check('POST', '/api/auth/logout', await third.post('/api/auth/logout'));
});

openapi('errors 400, 401, 403, 404 and 409 answer in the documented error shape', async ({ daemon, owner, check }) => {
  const invalid = await owner.post('/api/jobs', { name: 'no sources' });
  assert.is(invalid.status, 400);
  check('POST', '/api/jobs', invalid);

  const anonymous = await daemon.client().get('/api/jobs');
  assert.is(anonymous.status, 401);
  check('GET', '/api/jobs', anonymous);

  const key = await owner.post('/api/keys', { name: 'Read only', scope: 'read' });
  const reader = daemon.client();
  reader.bearer = key.body.key;
  const forbidden = await reader.post('/api/jobs', jobBody());
  assert.is(forbidden.status, 403);
  check('POST', '/api/jobs', forbidden);

  const missing = await owner.get('/api/jobs/99999');
  assert.is(missing.status, 404);
  check('GET', '/api/jobs/{id}', missing);

  const first = await createJob(owner);
  const taken = await owner.post('/api/jobs', { ...(jobBody()), name: first.name });
  assert.is(taken.status, 409);
  check('POST', '/api/jobs', taken);
});

/** A snapshots job of a fresh empty folder (so verify and the snapshot routes have something to show). */
function jobBody(): Record<string, unknown> {
  return {
    name: `Documented ${Math.random().toString(36).slice(2, 8)}`,
    source_dirs: [tempDir('cairn-source-')],
    destination_type: 'local',
    destination_config: { mount_point: tempDir('cairn-target-'), backup_subdir: '' },
    backup_mode: 'snapshots',
  };
}

openapi.run();
