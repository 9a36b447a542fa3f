/**
 * API keys as a phone app or script uses them: made once, sent as a bearer token, held to their
 * scope on every route of the route table (so routes added later are covered), expired, revoked.
 */
import type { RequestRoute } from '@hapi/hapi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { scopeOf } from '../../../src/api/plugins/route-policy.ts';
import { API_KEY_SCOPES, scopeAllows, type ApiKeyScope } from '../../../src/domain/api-keys.ts';
import { allFileText, isErrorShape, recordBodies, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

const keys = suite<{ daemon: TestDaemon; owner: ApiClient }>('api keys');

keys.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
keys.after.each(async ({ daemon }) => {
  await daemon.stop();
});

async function makeKey(owner: ApiClient, scope: ApiKeyScope, extra: Record<string, unknown> = {}): Promise<{ id: number; key: string; body: any }> {
  const response = await owner.post('/api/keys', { name: `${scope} key ${Math.random().toString(36).slice(2, 8)}`, scope, ...extra });
  if (response.status !== 201) throw new Error(`key not created: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, key: response.body.key, body: response.body };
}

function clientWith(daemon: TestDaemon, key: string): ApiClient {
  const client = daemon.client();
  client.bearer = key;
  return client;
}

const urlOf = (route: RequestRoute) => route.path.replace(/\{[^}]+\}/g, '1');
const isPublic = (route: RequestRoute) => (route.settings.auth as unknown) === false;
const nameOf = (route: RequestRoute) => `${route.method.toUpperCase()} ${route.path}`;

/** What every protected route answers a key of `scope` (bodies `{}`, ids 1: nothing exists, so nothing changes). */
async function answersTo(daemon: TestDaemon, key: string): Promise<Map<RequestRoute, { status: number; body: any }>> {
  const client = clientWith(daemon, key);
  const answers = new Map<RequestRoute, { status: number; body: any }>();
  for (const route of daemon.server.table().filter((r) => !isPublic(r))) {
    const response = await client.request(route.method.toUpperCase(), urlOf(route), route.method === 'get' ? undefined : {});
    answers.set(route, { status: response.status, body: response.body });
  }
  return answers;
}

const refusedForScope = (answer: { status: number; body: any }) => answer.status === 403 && answer.body?.code === 'SCOPE_TOO_SMALL';

keys('a new key is shown once, with the cairn_ prefix and 256 bits of randomness, and listed without it', async ({ owner }) => {
  const made = await owner.post('/api/keys', { name: 'Phone', scope: 'read' });
  assert.is(made.status, 201);
  assert.match(made.body.key, /^cairn_[A-Za-z0-9_-]{43}$/);
  assert.is(made.body.name, 'Phone');
  assert.is(made.body.scope, 'read');
  assert.is(made.body.prefix, made.body.key.slice(0, 10));
  const listed = await owner.get('/api/keys');
  assert.is(listed.status, 200);
  assert.equal(Object.keys(listed.body[0]).sort(), ['created_at', 'expired', 'expires_at', 'id', 'last_used_at', 'last_used_from', 'name', 'prefix', 'scope']);
  assert.not.ok(JSON.stringify(listed.body).includes(made.body.key));
  const other = await owner.post('/api/keys', { name: 'Script', scope: 'admin' });
  assert.is.not(other.body.key, made.body.key);
});

keys('a key works as a bearer token and its last use (time and address) is listed', async ({ daemon, owner }) => {
  const { id, key } = await makeKey(owner, 'read');
  const before = (await owner.get('/api/keys')).body.find((k: any) => k.id === id);
  assert.is(before.last_used_at, null);
  const response = await clientWith(daemon, key).get('/api/jobs');
  assert.is(response.status, 200);
  const me = await clientWith(daemon, key).get('/api/auth/me');
  assert.equal(me.body.key, { id, name: before.name, scope: 'read' });
  assert.is(me.body.username, 'admin');
  assert.is((await owner.get('/api/auth/me')).body.key, undefined);
  const after = (await owner.get('/api/keys')).body.find((k: any) => k.id === id);
  assert.ok(after.last_used_at !== null && Date.parse(after.last_used_at) > Date.now() - 60_000);
  assert.is(after.last_used_from, '127.0.0.1');
});

keys('a read key gets 403 SCOPE_TOO_SMALL on every route that is not a GET', async ({ daemon, owner }) => {
  const { key } = await makeKey(owner, 'read');
  const answers = await answersTo(daemon, key);
  let checked = 0;
  for (const [route, answer] of answers) {
    if (route.method === 'get') continue;
    checked += 1;
    assert.ok(refusedForScope(answer), `${nameOf(route)}: ${answer.status} ${JSON.stringify(answer.body)}`);
    assert.ok(isErrorShape(answer.body, 'SCOPE_TOO_SMALL'));
    assert.is(answer.body.required_scope, scopeOf(route), nameOf(route));
    assert.match(answer.body.message, new RegExp(`"${scopeOf(route)}"|session`));
  }
  assert.ok(checked > 20, `only ${checked} routes`);
});

keys('every key is answered on every route exactly as the route declares its scope', async ({ daemon, owner }) => {
  for (const scope of API_KEY_SCOPES) {
    const { key } = await makeKey(owner, scope);
    for (const [route, answer] of await answersTo(daemon, key)) {
      const name = `${scope} key, ${nameOf(route)}: ${answer.status} ${JSON.stringify(answer.body)}`;
      assert.is.not(answer.status, 401, name);
      if (scopeAllows(scope, scopeOf(route))) assert.not.ok(refusedForScope(answer), name);
      else assert.ok(refusedForScope(answer), name);
    }
  }
});

keys('an operate key may change nothing but runs, restores and drives; an admin key is refused only on account, key and box-export routes', async ({ daemon, owner }) => {
  const operating = /\/(run|cancel|restore|verify|mount|unmount)$/;
  const operate = await answersTo(daemon, (await makeKey(owner, 'operate')).key);
  const operateChanges = [...operate].filter(([route, answer]) => route.method !== 'get' && !refusedForScope(answer)).map(([route]) => route);
  assert.ok(operateChanges.length >= 3, 'run, cancel and restore at least');
  for (const route of operateChanges) assert.match(route.path, operating, nameOf(route));

  const admin = await answersTo(daemon, (await makeKey(owner, 'admin')).key);
  const adminRefused = [...admin].filter(([, answer]) => refusedForScope(answer)).map(([route]) => nameOf(route)).sort();
  // The box export too: a key must not carry every secret away, nor replace every job.
  for (const name of adminRefused) assert.match(name, / \/api\/((keys|auth|pairing)(\/|$)|system\/(export|import|import\/destination)$)/, name);
  for (const expected of ['GET /api/keys', 'POST /api/keys', 'DELETE /api/keys/{id}', 'GET /api/auth/sessions', 'DELETE /api/auth/sessions/{id}', 'GET /api/auth/token', 'POST /api/auth/change-password', 'POST /api/pairing', 'GET /api/pairing', 'DELETE /api/pairing/{id}', 'POST /api/system/export', 'POST /api/system/import', 'POST /api/system/import/destination']) {
    assert.ok(adminRefused.includes(expected), `${expected} must need a session`);
  }
});

keys('a key cannot mint keys, even an admin one', async ({ daemon, owner }) => {
  const { key } = await makeKey(owner, 'admin');
  const response = await clientWith(daemon, key).post('/api/keys', { name: 'Stronger', scope: 'admin' });
  assert.is(response.status, 403);
  assert.ok(isErrorShape(response.body, 'SCOPE_TOO_SMALL'));
  assert.is(response.body.required_scope, 'session');
  assert.is((await owner.get('/api/keys')).body.length, 1);
});

keys('an expired key is answered 401, and an expiry in the past is refused', async ({ daemon, owner }) => {
  const { key, body } = await makeKey(owner, 'read', { expires_at: new Date(Date.now() + 1500).toISOString() });
  assert.is(body.expired, false);
  const client = clientWith(daemon, key);
  assert.is((await client.get('/api/jobs')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const late = await client.get('/api/jobs');
  assert.is(late.status, 401);
  assert.ok(isErrorShape(late.body, 'UNAUTHENTICATED'));
  assert.is((await owner.get('/api/keys')).body[0].expired, true);

  const past = await owner.post('/api/keys', { name: 'Old', scope: 'read', expires_at: '2020-01-01T00:00:00Z' });
  assert.is(past.status, 400);
  assert.ok(isErrorShape(past.body, 'KEY_EXPIRY_PAST'));
});

keys('bad key bodies are 400s in the error shape and make no key', async ({ owner }) => {
  const bad: unknown[] = [
    {},
    { name: 'x' },
    { name: 'x', scope: 'root' },
    { name: '', scope: 'read' },
    { name: 'x'.repeat(65), scope: 'read' },
    { name: 'tab\there', scope: 'read' },
    { name: 5, scope: 'read' },
    { name: 'x', scope: 'read', expires_at: 'tomorrow' },
    { name: 'x', scope: 'read', key: 'cairn_mine' },
  ];
  for (const body of bad) {
    const response = await owner.post('/api/keys', body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), JSON.stringify(response.body));
  }
  await owner.post('/api/keys', { name: 'Phone', scope: 'read' });
  const twice = await owner.post('/api/keys', { name: 'Phone', scope: 'admin' });
  assert.is(twice.status, 409);
  assert.ok(isErrorShape(twice.body, 'KEY_NAME_TAKEN'));
  assert.is((await owner.get('/api/keys')).body.length, 1);
  assert.is((await owner.delete('/api/keys/99')).status, 404);
});

function openSocket(url: string, headers: Record<string, string>): Promise<{ socket: WebSocket; messages: any[]; closed: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const messages: any[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) => socket.on('close', (code, reason) => done({ code, reason: String(reason) })));
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('open', () => resolve({ socket, messages, closed }));
    socket.on('unexpected-response', (_request, response) => reject(Object.assign(new Error(`refused: ${response.statusCode}`), { status: response.statusCode })));
    socket.on('error', reject);
  });
}

/** How the socket closed, or null if it is still open after `ms`. */
const closedWithin = <T>(closed: Promise<T>, ms = 5000) => Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);

keys('a key opens the status WebSocket; revoking it refuses the next request and closes the socket at once', async ({ daemon, owner }) => {
  const { id, key } = await makeKey(owner, 'read');
  const statusUrl = daemon.url.replace(/^http/, 'ws') + '/api/ws/status';
  const open = await openSocket(statusUrl, { authorization: `Bearer ${key}` });
  const client = clientWith(daemon, key);
  assert.is((await client.get('/api/jobs')).status, 200);

  const revoked = await owner.delete(`/api/keys/${id}`);
  assert.is(revoked.status, 200);
  assert.is(revoked.body.message, 'API key revoked');
  assert.equal(await closedWithin(open.closed), { code: 1008, reason: 'credentials revoked' });
  const after = await client.get('/api/jobs');
  assert.is(after.status, 401);
  assert.ok(isErrorShape(after.body, 'UNAUTHENTICATED'));
  try {
    await openSocket(statusUrl, { authorization: `Bearer ${key}` });
    assert.unreachable('a revoked key opened a socket');
  } catch (error) {
    assert.is((error as { status?: number }).status, 401);
  }
  assert.equal((await owner.get('/api/keys')).body, []);
});

keys('a WebSocket opened with a key that then expires is closed within a heartbeat', async () => {
  const daemon = await startTestDaemon({}, { apiLimits: { webSocketHeartbeatMs: 300 } });
  try {
    const owner = daemon.client();
    await owner.setupAdmin();
    const { key } = await makeKey(owner, 'read', { expires_at: new Date(Date.now() + 1000).toISOString() });
    const open = await openSocket(daemon.url.replace(/^http/, 'ws') + '/api/ws/status', { authorization: `Bearer ${key}` });
    assert.equal(await closedWithin(open.closed, 5000), { code: 1008, reason: 'credentials revoked' });
  } finally {
    await daemon.stop();
  }
});

keys('a key with ?token= opens a run log socket too', async ({ daemon, owner }) => {
  const { key } = await makeKey(owner, 'read');
  const url = daemon.url.replace(/^http/, 'ws') + `/api/ws/status?token=${key}`;
  const open = await openSocket(url, {});
  open.socket.close();
  await open.closed;
});

keys('the key never appears after creation: not in answers, the daemon log or the data dir', async ({ daemon, owner }) => {
  const bodies = recordBodies(owner);
  const made = await owner.post('/api/keys', { name: 'Phone', scope: 'operate' });
  const key: string = made.body.key;
  const client = clientWith(daemon, key);
  const clientBodies = recordBodies(client);
  await client.get('/api/jobs');
  await client.post('/api/keys', { name: 'x', scope: 'read' });
  await client.get('/api/auth/me');
  await client.get(`/api/jobs?token=${key}`);
  await owner.get('/api/keys');
  await owner.get(`/api/keys/${made.body.id}`);
  await owner.get('/api/audit');
  await owner.delete(`/api/keys/${made.body.id}`);
  await client.get('/api/jobs');
  await daemon.stop();
  const after = bodies.slice(1).concat(clientBodies);
  assert.ok(after.length >= 8);
  for (const body of after) assert.not.ok(body.includes(key), body);
  assert.not.ok(daemon.logLines.join('\n').includes(key), 'daemon log');
  const files = allFileText(daemon.config.dataDir);
  assert.not.ok(files.includes(key), 'data dir');
  assert.not.ok(files.includes(key.slice(6)), 'data dir (without the prefix)');
  // Restart the suite's after hook on a stopped daemon: a second stop does nothing.
});

keys('sessions are listed with where they were used, the current one marked, and one can be revoked at once', async ({ daemon, owner }) => {
  const phone = daemon.client();
  assert.is((await phone.login()).status, 200);
  const listed = await owner.get('/api/auth/sessions');
  assert.is(listed.status, 200);
  assert.is(listed.body.length, 2);
  const current = listed.body.filter((s: any) => s.current);
  assert.is(current.length, 1);
  for (const session of listed.body) {
    assert.equal(Object.keys(session).sort(), ['created_at', 'current', 'expires_at', 'id', 'last_seen_at', 'last_seen_from'].sort());
    assert.is(session.last_seen_from, '127.0.0.1');
  }
  const other = listed.body.find((s: any) => !s.current);
  const phoneToken = (await phone.get('/api/auth/token')).body.token;
  const socket = await openSocket(daemon.url.replace(/^http/, 'ws') + '/api/ws/status', { authorization: `Bearer ${phoneToken}` });
  const revoked = await owner.delete(`/api/auth/sessions/${other.id}`);
  assert.is(revoked.status, 200);
  assert.is((await phone.get('/api/jobs')).status, 401);
  assert.equal(await closedWithin(socket.closed), { code: 1008, reason: 'credentials revoked' });
  assert.is((await owner.get('/api/jobs')).status, 200, 'the owner is still in');
  assert.is((await owner.get('/api/auth/sessions')).body.length, 1);
  const again = await owner.delete(`/api/auth/sessions/${other.id}`);
  assert.is(again.status, 404);
  assert.ok(isErrorShape(again.body, 'SESSION_NOT_FOUND'));
  assert.is((await owner.delete('/api/auth/sessions/not*an*id')).status, 400);
  await waitFor('the owner session still works', async () => (await owner.get('/api/auth/me')).status === 200);
});

keys.run();
