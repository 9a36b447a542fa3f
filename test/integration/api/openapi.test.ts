/**
 * `GET /api/openapi.json` (issue 16 item 4): an independent validator accepts it, every route of the
 * server's own table is in it with its auth, every operation's answers are described, and the
 * answers real requests get (every operation's success, and the errors each declares) match the
 * schemas it documents, as do the frames real WebSockets send (checked with Ajv, not with the joi
 * schemas they were made from).
 */
import type { RequestRoute } from '@hapi/hapi';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { scopeOf } from '../../../src/api/plugins/route-policy.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { currentTotpCode, TOTP_STEP_MS } from '../../../src/auth/index.ts';
import { ADMIN, createJob, createSchedule, finishedRun, startTestDaemon, tempDir, type ApiClient, type ApiResponse, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

// ajv-formats is CommonJS: its default export arrives as the module object under tsx.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;

type Doc = { paths: Record<string, Record<string, any>>; components: Record<string, any> } & Record<string, any>;

type Check = ((method: string, route: string, response: ApiResponse) => void) & { answered: Set<string> };

const openapi = suite<{ daemon: TestDaemon; owner: ApiClient; doc: Doc; table: RequestRoute[]; check: Check }>('openapi');

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

/** Errors any route may give without declaring them (body too large, wrong media type): the `default` answer. A 500 is a bug, never documented. */
const UNDECLARED_ERRORS = new Set(['413', '415']);

/** A validator of `schema` (a document's, with its `$ref`s into `doc.components`). */
function schemaValidator(doc: Doc): (name: string, schema: object) => ((value: unknown) => string | null) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  let compiled = 0;
  return (name, schema) => {
    // The components travel with the schema so its $refs resolve.
    const validate = ajv.compile({ ...schema, $id: `cairn:${pointerSegment(name)}:${(compiled += 1)}`, components: doc.components });
    return (value) => (validate(value) ? null : JSON.stringify(validate.errors));
  };
}

/**
 * Checks an answer against what the document says `method route` answers with its status (an
 * error's own status, or `default` for the few any route may give), following references as a
 * client generator would; notes each `METHOD route status` it checked in `answered`.
 */
function answerChecker(doc: Doc): Check {
  const validatorOf = schemaValidator(doc);
  const answered = new Set<string>();
  const check = (method: string, route: string, response: ApiResponse) => {
    const operation = doc.paths[route]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${route} is not in the document`);
    const status = String(response.status);
    let answer = operation.responses[status] ?? (UNDECLARED_ERRORS.has(status) ? operation.responses.default : undefined);
    // A plain Error, not an assertion, so a test can expect it (uvu's throws() passes assertions on).
    if (!answer) throw new Error(`${method} ${route} documents no answer for ${status}: ${JSON.stringify(response.body).slice(0, 300)}`);
    if (answer.$ref) answer = doc.components.responses[answer.$ref.split('/').pop()];
    const [mediaType, content] = Object.entries<any>(answer.content ?? {})[0] ?? [];
    assert.ok(content?.schema, `${method} ${route} ${status} is documented without a schema`);
    if (mediaType !== 'application/json') {
      assert.ok(response.headers.get('content-type')?.startsWith(mediaType), `${method} ${route}: ${response.headers.get('content-type')} is not ${mediaType}`);
      assert.type(response.body, 'string', `${method} ${route} answers text`);
    }
    const problem = validatorOf(`${method}:${route}:${status}`, content.schema)(response.body);
    if (problem) throw new Error(`${method} ${route} ${status}: ${problem} for ${JSON.stringify(response.body).slice(0, 500)}`);
    answered.add(`${method.toUpperCase()} ${route} ${status}`);
  };
  return Object.assign(check, { answered });
}

openapi('the answer check refuses an answer that does not match (it is not vacuous)', async ({ owner, check }) => {
  const job = await createJob(owner);
  const answer = await owner.get(`/api/jobs/${job.id}`);
  check('GET', '/api/jobs/{id}', answer);
  const { id: _id, ...withoutId } = answer.body;
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, body: withoutId }), /must have required property 'id'/);
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, body: { ...answer.body, enabled: 'yes' } }), /must be boolean/);
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, status: 404 }), /must have required property 'error'/);
  assert.throws(() => check('GET', '/api/jobs/{id}', { ...answer, status: 409, body: { error: 'Conflict', message: 'm', code: 'JOB_NAME_TAKEN' } }), /documents no answer for 409/);
});

openapi('the document passes an independent OpenAPI 3.1 validator', async ({ doc }) => {
  assert.is(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc);
  assert.ok(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
});

/** The operations of the document that are routes of the table (not WebSockets). */
const routeOperations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([route, operations]) =>
    Object.entries<any>(operations)
      .filter(([, operation]) => !operation['x-cairn-websocket'])
      .map(([method, operation]) => ({ method, route, operation })),
  );

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
  assert.is(routeOperations(doc).length, table.length, 'no operation without a route');
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

openapi('every operation describes its answers: none is left generic', ({ doc }) => {
  const undescribed: string[] = [];
  for (const [route, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      if (Object.values<any>(operation.responses).some((response) => response['x-cairn-undescribed'])) undescribed.push(`${method.toUpperCase()} ${route}`);
      const success = Object.keys(operation.responses).filter((status) => /^[123]/.test(status));
      assert.ok(success.length > 0, `${method.toUpperCase()} ${route} documents no success`);
    }
  }
  assert.equal(undescribed, []);
});

openapi('/metrics and the export are documented as what they are: text, not JSON', ({ doc }) => {
  assert.equal(Object.keys(doc.paths['/metrics'].get.responses['200'].content), ['text/plain']);
  assert.match(doc.paths['/metrics'].get.responses['200'].content['text/plain'].schema.description, /Prometheus text format 0\.0\.4/);
  assert.equal(Object.keys(doc.paths['/api/system/export'].post.responses['200'].content), ['application/octet-stream']);
});

openapi('errors a route declares are documented under their status, in the error shape', ({ doc }) => {
  const login = doc.paths['/api/auth/login'].post;
  assert.equal(Object.keys(login.responses).sort(), ['200', '400', '401', '429', 'default']);
  assert.equal(login.responses['429'], { $ref: '#/components/responses/Error429' });
  assert.equal(login.responses['200'].content['application/json'].schema, { anyOf: [{ $ref: '#/components/schemas/User' }, { $ref: '#/components/schemas/TotpRequired' }] });
  assert.ok(doc.paths['/api/system/mount'].post.responses['404'], 'mount: 404 DRIVE_NOT_FOUND without an id in its path');
  assert.ok(doc.paths['/api/jobs'].post.responses['409']);
});

openapi('the document needs a session or a key of any scope, and is the same for both', async ({ daemon, owner, doc, check }) => {
  const anonymous = await daemon.client().get('/api/openapi.json');
  assert.is(anonymous.status, 401);
  const made = await owner.post('/api/keys', { name: 'Docs reader', scope: 'read' });
  assert.is(made.status, 201);
  const app = daemon.client();
  app.bearer = made.body.key;
  const byKey = await app.get('/api/openapi.json');
  assert.is(byKey.status, 200);
  check('GET', '/api/openapi.json', byKey);
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

openapi('the snapshot tree, retention preview, dashboard and metrics answer as documented', async ({ owner, check }) => {
  const body = jobBody();
  writeFileSync(path.join((body.source_dirs as string[])[0], 'notes.txt'), 'kept');
  const job = (await owner.post('/api/jobs', body)).body;
  const run = await finishedRun(owner, (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id);
  assert.is(run.status, 'completed', run.error_message);
  const snapshot = (await owner.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots[0];
  const top = await owner.get(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(snapshot.id)}/tree`);
  assert.is(top.status, 200);
  check('GET', '/api/jobs/{id}/snapshots/{snapshot_id}/tree', top);
  const inside = await owner.get(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(snapshot.id)}/tree?path=${encodeURIComponent(top.body.entries[0].name)}`);
  assert.equal(inside.body.entries.map((entry: any) => entry.name), ['notes.txt']);
  check('GET', '/api/jobs/{id}/snapshots/{snapshot_id}/tree', inside);
  const outside = await owner.get(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(snapshot.id)}/tree?path=..`);
  assert.is(outside.status, 400);
  check('GET', '/api/jobs/{id}/snapshots/{snapshot_id}/tree', outside);
  check('GET', '/api/jobs/{id}/snapshots/{snapshot_id}/tree', await owner.get(`/api/jobs/${job.id}/snapshots/nope/tree`));

  const preview = await owner.post(`/api/jobs/${job.id}/retention/preview`, { keep_last: 1 });
  assert.is(preview.status, 200);
  assert.is(preview.body.keep[0].id, snapshot.id);
  check('POST', '/api/jobs/{id}/retention/preview', preview);
  check('POST', '/api/jobs/{id}/retention/preview', await owner.post(`/api/jobs/${job.id}/retention/preview`));
  const mirror = await createJob(owner);
  const notSnapshots = await owner.post(`/api/jobs/${mirror.id}/retention/preview`, { keep_last: 1 });
  assert.is(notSnapshots.status, 409);
  check('POST', '/api/jobs/{id}/retention/preview', notSnapshots);

  const dashboard = await owner.get('/api/dashboard');
  assert.ok(dashboard.body.jobs.some((status: any) => status.job_id === job.id && status.last_success?.run_id === run.id));
  check('GET', '/api/dashboard', dashboard);
  const metrics = await owner.get('/metrics');
  assert.match(metrics.body, /^cairn_up 1$/m);
  check('GET', '/metrics', metrics);
});

openapi('notification channels, kinds and the alert history answer as documented', async ({ owner, check }) => {
  check('GET', '/api/notifications/kinds', await owner.get('/api/notifications/kinds'));
  // Nothing listens on port 9 here: the test message fails, and says so in a 200.
  const channel = { name: 'Documented hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } };
  const created = await owner.post('/api/notifications/channels', channel);
  assert.is(created.status, 201, JSON.stringify(created.body));
  check('POST', '/api/notifications/channels', created);
  const taken = await owner.post('/api/notifications/channels', channel);
  assert.is(taken.status, 409);
  check('POST', '/api/notifications/channels', taken);
  const id = created.body.id;
  check('GET', '/api/notifications/channels', await owner.get('/api/notifications/channels'));
  check('GET', '/api/notifications/channels/{id}', await owner.get(`/api/notifications/channels/${id}`));
  check('GET', '/api/notifications/channels/{id}', await owner.get('/api/notifications/channels/99999'));
  check('PUT', '/api/notifications/channels/{id}', await owner.put(`/api/notifications/channels/${id}`, { name: 'Renamed hook' }));
  const tested = await owner.post(`/api/notifications/channels/${id}/test`);
  assert.is(tested.body.ok, false);
  check('POST', '/api/notifications/channels/{id}/test', tested);
  const history = await owner.get('/api/notifications/history');
  assert.is(history.body.items[0].event, 'test');
  check('GET', '/api/notifications/history', history);
  const user = await createJob(owner, { notify: { channel_ids: [id] } });
  const inUse = await owner.delete(`/api/notifications/channels/${id}`);
  assert.is(inUse.status, 409);
  check('DELETE', '/api/notifications/channels/{id}', inUse);
  await owner.delete(`/api/jobs/${user.id}`);
  check('DELETE', '/api/notifications/channels/{id}', await owner.delete(`/api/notifications/channels/${id}`));
});

openapi('pairing answers as documented, the claim included', async ({ daemon, owner, check }) => {
  const started = await owner.post('/api/pairing', { scope: 'read' });
  assert.is(started.status, 201);
  check('POST', '/api/pairing', started);
  check('GET', '/api/pairing', await owner.get('/api/pairing'));
  const app = daemon.client();
  const wrong = await app.post('/api/pairing/claim', { code: 'AAAA-BBBB-CCCC', device_name: 'Phone' });
  assert.is(wrong.status, 401);
  check('POST', '/api/pairing/claim', wrong);
  const claimed = await app.post('/api/pairing/claim', { code: started.body.code, device_name: 'Documented phone' });
  assert.is(claimed.status, 201);
  check('POST', '/api/pairing/claim', claimed);
  const after = await owner.get(`/api/pairing/${started.body.id}`);
  assert.is(after.body.state, 'claimed');
  check('GET', '/api/pairing/{id}', after);
  const ended = await owner.delete(`/api/pairing/${started.body.id}`);
  assert.is(ended.status, 409);
  check('DELETE', '/api/pairing/{id}', ended);
  const other = await owner.post('/api/pairing', { scope: 'operate', name: 'Tablet' });
  check('DELETE', '/api/pairing/{id}', await owner.delete(`/api/pairing/${other.body.id}`));
  check('GET', '/api/pairing/{id}', await owner.get('/api/pairing/99999'));

  // A paired app learns what its key may do.
  app.bearer = claimed.body.key;
  const me = await app.get('/api/auth/me');
  assert.equal(me.body.key, { id: claimed.body.id, name: 'Documented phone', scope: 'read' });
  check('GET', '/api/auth/me', me);
  check('GET', '/api/auth/me', await owner.get('/api/auth/me'));
  check('GET', '/api/auth/sessions', await owner.get('/api/auth/sessions'));
  const audit = await owner.get('/api/audit?action=pairing.claim');
  assert.ok(audit.body.total >= 2);
  check('GET', '/api/audit', audit);
  check('GET', '/api/audit', await owner.get('/api/audit?limit=0'));
  check('GET', '/api/audit', await app.get('/api/audit'));
});

openapi('providers, credential usage and a connection test answer as documented', async ({ owner, check }) => {
  check('GET', '/api/providers', await owner.get('/api/providers'));
  check('GET', '/api/providers/{type}/capabilities', await owner.get('/api/providers/local/capabilities'));
  check('GET', '/api/providers/{type}/capabilities', await owner.get('/api/providers/nowhere/capabilities'));
  const tested = await owner.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: tempDir('cairn-target-'), backup_subdir: '' } });
  assert.is(tested.status, 200);
  check('POST', '/api/providers/test', tested);
  const credential = await owner.post('/api/credentials', { name: 'Used S3', provider_type: 's3', data: { access_key_id: 'AKIA', secret_access_key: 'not shown' } });
  check('GET', '/api/credentials/{id}/usage', await owner.get(`/api/credentials/${credential.body.id}/usage`));
  check('GET', '/api/credentials/{id}/usage', await owner.get('/api/credentials/99999/usage'));
});

openapi('drives, mounts, browsing and folders answer as documented', async ({ owner, check }) => {
  check('GET', '/api/system/drives', await owner.get('/api/system/drives'));
  check('GET', '/api/system/mounts', await owner.get('/api/system/mounts'));
  const parent = tempDir('cairn-browse-');
  const made = await owner.post('/api/system/mkdir', { path: path.join(parent, 'new folder') });
  assert.is(made.status, 201);
  check('POST', '/api/system/mkdir', made);
  const again = await owner.post('/api/system/mkdir', { path: path.join(parent, 'new folder') });
  assert.is(again.status, 409);
  check('POST', '/api/system/mkdir', again);
  const listing = await owner.get(`/api/system/browse?path=${encodeURIComponent(parent)}`);
  assert.equal(listing.body.entries.map((entry: any) => entry.name), ['new folder']);
  check('GET', '/api/system/browse', listing);
  check('GET', '/api/system/browse', await owner.get('/api/system/browse?path=/etc'));
  // Mounting needs a real drive (the USB tests): here, the refusals a client must expect.
  const busy = await owner.post('/api/system/mount', { uuid: '1234-ABCD', mount_point: parent });
  assert.is(busy.status, 409);
  check('POST', '/api/system/mount', busy);
  const notMounted = await owner.post('/api/system/unmount', { mount_point: parent });
  assert.is(notMounted.status, 404);
  check('POST', '/api/system/unmount', notMounted);
});

openapi('setup, login, 2FA and the box export answer as documented on a new box', async ({ owner, check }) => {
  const box = await startTestDaemon({}, { responseCheck: 'error' });
  try {
    const client = box.client();
    const setup = await client.post('/api/auth/setup', ADMIN);
    assert.is(setup.status, 201);
    check('POST', '/api/auth/setup', setup);
    const again = await box.client().post('/api/auth/setup', ADMIN);
    assert.is(again.status, 403);
    check('POST', '/api/auth/setup', again);
    check('POST', '/api/auth/login', await box.client().login());
    const wrong = await box.client().login({ ...ADMIN, password: 'wrong password' });
    assert.is(wrong.status, 401);
    check('POST', '/api/auth/login', wrong);

    const exported = await owner.post('/api/system/export', { passphrase: 'a long export passphrase' });
    assert.is(exported.status, 200);
    check('POST', '/api/system/export', exported);
    const imported = await client.post('/api/system/import', { file: exported.body, passphrase: 'a long export passphrase' });
    assert.is(imported.status, 200, JSON.stringify(imported.body));
    assert.ok(imported.body.imported.jobs > 0);
    check('POST', '/api/system/import', imported);
    const notEmpty = await client.post('/api/system/import', { file: exported.body, passphrase: 'a long export passphrase' });
    assert.is(notEmpty.status, 409);
    check('POST', '/api/system/import', notEmpty);

    const setupTotp = await client.post('/api/auth/totp/setup');
    check('POST', '/api/auth/totp/setup', setupTotp);
    const secret = setupTotp.body.secret;
    // The code of the step before, as helpers' enableTotp does, so the current one stays unused for the login.
    if (TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS) < 5_000) await new Promise((resolve) => setTimeout(resolve, TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS) + 50));
    const enabled = await client.post('/api/auth/totp/enable', { secret, code: currentTotpCode(secret, Date.now() - TOTP_STEP_MS) });
    assert.is(enabled.status, 200, JSON.stringify(enabled.body));
    check('POST', '/api/auth/totp/enable', enabled);
    check('POST', '/api/auth/totp/setup', await client.post('/api/auth/totp/setup'));

    const phone = box.client();
    const step = await phone.login();
    assert.is(step.body.totp_required, true);
    check('POST', '/api/auth/login', step);
    const badCode = await phone.post('/api/auth/totp/validate', { totp_token: step.body.totp_token, code: '000000' === currentTotpCode(secret) ? '111111' : '000000' });
    assert.is(badCode.status, 401);
    check('POST', '/api/auth/totp/validate', badCode);
    const validated = await phone.post('/api/auth/totp/validate', { totp_token: step.body.totp_token, code: currentTotpCode(secret) });
    assert.is(validated.status, 200, JSON.stringify(validated.body));
    check('POST', '/api/auth/totp/validate', validated);
    const tablet = box.client();
    const second = await tablet.login();
    const recovered = await tablet.post('/api/auth/totp/recovery', { totp_token: second.body.totp_token, recovery_code: enabled.body.recovery_codes[0] });
    assert.is(recovered.status, 200, JSON.stringify(recovered.body));
    check('POST', '/api/auth/totp/recovery', recovered);
    check('POST', '/api/auth/totp/recovery', await tablet.post('/api/auth/totp/recovery', { totp_token: second.body.totp_token, recovery_code: enabled.body.recovery_codes[0] }));

    // The next step's code: the current one was just used to log in.
    const disabled = await client.post('/api/auth/totp/disable', { code: currentTotpCode(secret, Date.now() + TOTP_STEP_MS) });
    assert.is(disabled.status, 200, JSON.stringify(disabled.body));
    check('POST', '/api/auth/totp/disable', disabled);
    const notEnabled = await client.post('/api/auth/totp/disable', { code: currentTotpCode(secret) });
    assert.is(notEnabled.status, 409);
    check('POST', '/api/auth/totp/disable', notEnabled);

    const wrongCurrent = await client.post('/api/auth/change-password', { current_password: 'not the password', new_password: 'another long password' });
    assert.is(wrongCurrent.status, 403);
    check('POST', '/api/auth/change-password', wrongCurrent);
    check('POST', '/api/auth/change-password', await client.post('/api/auth/change-password', { current_password: ADMIN.password, new_password: 'another long password' }));
  } finally {
    await box.stop();
  }
});

openapi('retention, restore, cancel and deleting runs and snapshots answer as documented', async ({ owner, check }) => {
  const body = jobBody();
  writeFileSync(path.join((body.source_dirs as string[])[0], 'kept.txt'), 'restored');
  const job = (await owner.post('/api/jobs', body)).body;
  for (let i = 0; i < 2; i++) assert.is((await finishedRun(owner, (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id)).status, 'completed');
  check('PUT', '/api/jobs/{id}/retention', await owner.put(`/api/jobs/${job.id}/retention`, { keep_last: 5 }));
  const apply = await owner.post(`/api/jobs/${job.id}/retention/apply`);
  assert.is(apply.status, 202);
  check('POST', '/api/jobs/{id}/retention/apply', apply);
  await finishedRun(owner, apply.body.run_id);
  const restore = await owner.post(`/api/jobs/${job.id}/restore`, { target_dir: tempDir('cairn-restore-') });
  assert.is(restore.status, 202, JSON.stringify(restore.body));
  check('POST', '/api/jobs/{id}/restore', restore);
  assert.is((await finishedRun(owner, restore.body.run_id)).status, 'completed');
  const snapshots = (await owner.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
  check('DELETE', '/api/jobs/{id}/snapshots/{snapshot_id}', await owner.delete(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(snapshots.at(-1).id)}`));
  check('DELETE', '/api/jobs/{id}/snapshots/{snapshot_id}', await owner.delete(`/api/jobs/${job.id}/snapshots/nope`));

  const idle = await owner.post(`/api/jobs/${job.id}/cancel`);
  assert.is(idle.status, 409);
  check('POST', '/api/jobs/{id}/cancel', idle);
  // A slow run (1 MB at 200 KiB/s) to cancel while it is under way.
  const slowSource = tempDir('cairn-source-');
  mkdirSync(path.join(slowSource, 'big'));
  writeFileSync(path.join(slowSource, 'big', 'file.bin'), Buffer.alloc(1024 * 1024, 7));
  const slow = await createJob(owner, { source_dirs: [slowSource], sync_options: { bandwidth_limit_kbps: 200 } });
  const started = (await owner.post(`/api/jobs/${slow.id}/run`)).body.run_id;
  const running = await owner.delete(`/api/runs/${started}`);
  assert.is(running.status, 409);
  check('DELETE', '/api/runs/{id}', running);
  const cancelled = await owner.post(`/api/jobs/${slow.id}/cancel`);
  assert.is(cancelled.status, 200);
  check('POST', '/api/jobs/{id}/cancel', cancelled);
  assert.is((await finishedRun(owner, started)).status, 'cancelled');

  check('DELETE', '/api/runs/{id}', await owner.delete(`/api/runs/${started}`));
  check('DELETE', '/api/jobs/{id}/runs', await owner.delete(`/api/jobs/${job.id}/runs`));
  check('DELETE', '/api/runs', await owner.delete('/api/runs'));
});

/** Opens a WebSocket and collects its frames (parsed) until it closes. */
function collectFrames(url: string): Promise<{ frames: any[]; closed: Promise<number>; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const frames: any[] = [];
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    socket.on('open', () => resolve({ frames, closed, socket }));
    socket.on('error', reject);
  });
}

openapi('the WebSockets are documented: their upgrade, auth and frame schemas', ({ doc }) => {
  for (const [route, types] of [
    ['/api/ws/status', ['job_started', 'job_progress', 'job_completed', 'snapshot_created', 'snapshot_removed', 'drive_connected', 'drive_mounted', 'drive_safe_to_remove', 'drive_removed']],
    ['/api/ws/logs/{run_id}', ['log', 'status']],
  ] as const) {
    const upgrade = doc.paths[route].get;
    assert.ok(upgrade.responses['101'], `${route}: 101`);
    assert.ok(upgrade.responses['401'] && upgrade.responses['429'], `${route}: refusals`);
    assert.ok(upgrade.security.some((requirement: object) => 'queryToken' in requirement));
    assert.ok(upgrade.parameters.some((parameter: any) => parameter.name === 'token' && parameter.in === 'query'));
    assert.equal(upgrade['x-cairn-websocket'].types, [...types]);
    const union = doc.components.schemas[upgrade['x-cairn-websocket'].frames.$ref.split('/').pop()];
    assert.is(union.oneOf.length, types.length);
    for (const type of types) assert.equal(doc.components.schemas[union.discriminator.mapping[type].split('/').pop()].properties.type, { const: type });
  }
});

openapi('the frames real WebSockets send match their documented schemas', async ({ daemon, owner, doc }) => {
  const validatorOf = schemaValidator(doc);
  const checkFrames = (route: string, frames: any[]) => {
    const documented = doc.paths[route].get['x-cairn-websocket'];
    const validate = validatorOf(route, documented.frames);
    for (const frame of frames) {
      assert.ok(documented.types.includes(frame.type), `${route} sent an undocumented frame type ${frame.type}`);
      const problem = validate(frame);
      if (problem) throw new Error(`${route} ${frame.type}: ${problem} for ${JSON.stringify(frame)}`);
    }
  };
  const token = (await owner.get('/api/auth/token')).body.token;
  const wsUrl = (pathAndQuery: string) => daemon.url.replace(/^http/, 'ws') + pathAndQuery;
  const status = await collectFrames(wsUrl(`/api/ws/status?token=${token}`));
  // 512 KiB at 256 KiB/s: a run long enough to send progress frames.
  const body: Record<string, unknown> = { ...jobBody(), sync_options: { bandwidth_limit_kbps: 256 } };
  writeFileSync(path.join((body.source_dirs as string[])[0], 'a.bin'), Buffer.alloc(512 * 1024, 1));
  const job = (await owner.post('/api/jobs', body)).body;
  const runId = (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id;
  await waitFor('snapshot_created', () => status.frames.find((frame) => frame.type === 'snapshot_created'));
  await waitFor('job_completed', () => status.frames.find((frame) => frame.type === 'job_completed' && frame.run_id === runId));
  const verify = (await owner.post(`/api/jobs/${job.id}/verify`, {})).body;
  await waitFor('the verify to complete', () => status.frames.find((frame) => frame.type === 'job_completed' && frame.run_id === verify.run_id));
  const snapshotId = status.frames.find((frame) => frame.type === 'snapshot_created').snapshot.id;
  assert.is((await owner.delete(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(snapshotId)}`)).status, 200);
  await waitFor('snapshot_removed', () => status.frames.find((frame) => frame.type === 'snapshot_removed'));
  // No drive can be plugged in here: the daemon's own bus carries the events ws.ts turns into frames.
  const drive = { uuid: '1234-ABCD', device: '/dev/sdz1', label: null, registered: true };
  daemon.events.emit('drive:connected', drive);
  daemon.events.emit('drive:mounted', { ...drive, mount_point: '/mnt/backup' });
  daemon.events.emit('drive:safe_to_remove', { ...drive, mount_point: '/mnt/backup', outcome: 'completed' });
  daemon.events.emit('drive:removed', drive);
  await waitFor('drive_removed', () => status.frames.find((frame) => frame.type === 'drive_removed'));
  status.socket.close();
  const seen = new Set(status.frames.map((frame) => frame.type));
  for (const type of doc.paths['/api/ws/status'].get['x-cairn-websocket'].types) assert.ok(seen.has(type), `no ${type} frame was seen`);
  checkFrames('/api/ws/status', status.frames);

  for (const id of [runId, verify.run_id]) {
    const log = await collectFrames(wsUrl(`/api/ws/logs/${id}?token=${token}`));
    assert.is(await log.closed, 1000);
    assert.ok(log.frames.some((frame) => frame.type === 'log') && log.frames.at(-1).type === 'status');
    checkFrames('/api/ws/logs/{run_id}', log.frames);
  }
  assert.throws(() => checkFrames('/api/ws/status', [{ type: 'job_started', job_id: 1, run_id: 1, job_name: 'x', trigger: 'sometimes' }]), /trigger/);
});

openapi('a repository job and its recovery kit answer as documented; an import from this box is refused in the error shape', async ({ owner, check }) => {
  const created = await owner.post('/api/jobs', { ...jobBody(), backup_mode: 'repository' });
  check('POST', '/api/jobs', created);
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.type(created.body.repository_password, 'string', 'the generated password is in the create answer');
  const shown = await owner.get(`/api/jobs/${created.body.id}`);
  assert.not.ok('repository_password' in shown.body, 'and in no later answer');
  const kit = await owner.get(`/api/jobs/${created.body.id}/recovery-kit`);
  assert.is(kit.status, 200);
  check('GET', '/api/jobs/{id}/recovery-kit', kit);
  const local = await owner.post('/api/system/import/destination', { destination_type: 'local', destination_config: { mount_point: tempDir() }, credential_data: null, passphrase: 'a passphrase long enough' });
  assert.is(local.status, 400);
  check('POST', '/api/system/import/destination', local);
});

openapi('the one-time repository password is documented on the create and update answers only', ({ doc }) => {
  const schemaOf = (route: string, method: string, status: string) => {
    let schema = doc.paths[route][method].responses[status].content['application/json'].schema;
    while (schema.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
    return schema;
  };
  for (const [route, method, status] of [['/api/jobs', 'post', '201'], ['/api/jobs/{id}', 'put', '200']]) {
    const schema = schemaOf(route, method, status);
    const field = schema.properties?.repository_password;
    assert.ok(field, `${method.toUpperCase()} ${route} ${status} does not document repository_password`);
    assert.is(field.type, 'string');
    assert.match(field.description, /once/);
    assert.not.ok(schema.required?.includes('repository_password'), 'only when this request generated it');
  }
  assert.not.ok(schemaOf('/api/jobs/{id}', 'get', '200').properties?.repository_password, 'never in a job read');
});

/** Operations whose success cannot be reached here, with the reason; their errors are checked all the same. */
const SUCCESS_NOT_REACHED: Record<string, string> = {
  'POST /api/system/mount': 'needs a real drive (test/integration/usb.test.ts mounts one)',
  'POST /api/system/unmount': 'needs a mounted drive (test/integration/usb.test.ts)',
  'POST /api/system/import/destination': 'needs an export on a remote server (test/integration/box-export-remote-disaster.test.ts imports one)',
};

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

// Last: the tests above have made their requests.
openapi('every operation had a successful answer checked against its documented schema', ({ doc, check }) => {
  const missing = routeOperations(doc)
    .map(({ method, route }) => `${method.toUpperCase()} ${route}`)
    .filter((operation) => !SUCCESS_NOT_REACHED[operation] && ![...check.answered].some((answered) => answered.startsWith(`${operation} `) && /\s[123]\d\d$/.test(answered)));
  assert.equal(missing, []);
  for (const operation of Object.keys(SUCCESS_NOT_REACHED)) assert.ok([...check.answered].some((answered) => answered.startsWith(`${operation} `)), `${operation}: not even an error checked`);
});

openapi.run();
