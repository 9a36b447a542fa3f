/** CORS as the owner sets it (`cors_origins`): preflights answered for allowed origins only. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const cors = suite<{ daemon: TestDaemon; owner: ApiClient }>('cors');

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

cors.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
cors.after.each(async ({ daemon }) => {
  await daemon.stop();
});

function preflight(daemon: TestDaemon, origin: string, urlPath = '/api/jobs', method = 'POST'): Promise<Response> {
  return fetch(daemon.url + urlPath, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });
}

cors('by default no origin is allowed: a preflight is refused 403 in the error shape', async ({ daemon, owner }) => {
  assert.equal((await owner.get('/api/settings')).body.cors_origins, []);
  const response = await preflight(daemon, APP);
  assert.is(response.status, 403);
  assert.is(response.headers.get('access-control-allow-origin'), null);
  assert.ok(isErrorShape(await response.json(), 'CORS_ORIGIN_REFUSED'));
});

cors('a preflight from an allowed origin is answered; one from another origin is refused', async ({ daemon, owner }) => {
  assert.is((await owner.put('/api/settings', { cors_origins: [APP, 'http://192.168.1.20:5173'] })).status, 200);
  const allowed = await preflight(daemon, APP, '/api/jobs/1/run');
  assert.is(allowed.status, 204);
  assert.is(allowed.headers.get('access-control-allow-origin'), APP);
  assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
  assert.is(allowed.headers.get('access-control-allow-credentials'), null, 'the cookie never goes cross-origin');
  assert.match(allowed.headers.get('vary') ?? '', /Origin/);

  const refused = await preflight(daemon, EVIL);
  assert.is(refused.status, 403);
  assert.is(refused.headers.get('access-control-allow-origin'), null);
  assert.ok(isErrorShape(await refused.json(), 'CORS_ORIGIN_REFUSED'));
  // An origin differs by scheme and port too.
  assert.is((await preflight(daemon, 'http://app.example.com')).status, 403);
  assert.is((await preflight(daemon, 'http://192.168.1.20:5173')).status, 204);
});

cors('answers to an allowed origin name it (errors too) and expose the paging total; others get no CORS header', async ({ daemon, owner }) => {
  await owner.put('/api/settings', { cors_origins: [APP] });
  const ok = await owner.request('GET', '/api/jobs', undefined, { headers: { origin: APP } });
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('access-control-allow-origin'), APP);
  assert.match(ok.headers.get('access-control-expose-headers') ?? '', /X-Total-Count/);
  const error = await daemon.client().request('GET', '/api/jobs', undefined, { headers: { origin: APP } });
  assert.is(error.status, 401);
  assert.is(error.headers.get('access-control-allow-origin'), APP);
  const other = await owner.request('GET', '/api/jobs', undefined, { headers: { origin: EVIL } });
  assert.is(other.headers.get('access-control-allow-origin'), null);
});

cors('removing an origin takes effect at once', async ({ daemon, owner }) => {
  await owner.put('/api/settings', { cors_origins: [APP] });
  assert.is((await preflight(daemon, APP)).status, 204);
  await owner.put('/api/settings', { cors_origins: [] });
  assert.is((await preflight(daemon, APP)).status, 403);
});

cors('origins that are not bare http(s) origins are 400s that change nothing', async ({ owner }) => {
  for (const bad of [['*'], ['https://app.example.com/'], ['https://app.example.com/path'], ['ftp://files.example.com'], ['app.example.com'], [APP, APP], 'https://app.example.com', [5]]) {
    const response = await owner.put('/api/settings', { cors_origins: bad });
    assert.is(response.status, 400, JSON.stringify(bad));
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), JSON.stringify(response.body));
  }
  assert.equal((await owner.get('/api/settings')).body.cors_origins, []);
});

cors.run();
