/**
 * Pairing a phone as the owner and the app live it: the owner starts a pairing on the box, the app
 * reads the QR code's payload, pins the fingerprint and claims the code once for a key of the
 * scope the owner chose. Used, expired, cancelled and wrong codes are refused and rate limited.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePairingPayload, PAIRING_TTL_MS } from '../../../src/pairing/index.ts';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { PinnedClient } from '../../pinned-client.ts';
import { waitFor } from '../../trees.ts';

interface Context {
  daemon: TestDaemon;
  owner: ApiClient;
  /** Milliseconds added to the real time on the pairing clock. */
  skew: number;
}
const pairing = suite<Context>('pairing');

pairing.before.each(async (context) => {
  context.skew = 0;
  context.daemon = await startTestDaemon({}, { pairingClock: () => Date.now() + context.skew });
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
pairing.after.each(async ({ daemon }) => {
  await daemon.stop();
});

async function startPairing(owner: ApiClient, body: Record<string, unknown> = { scope: 'read' }) {
  const response = await owner.post('/api/pairing', body);
  assert.is(response.status, 201, JSON.stringify(response.body));
  return response.body;
}

function withKey(daemon: TestDaemon, key: string): ApiClient {
  const client = daemon.client();
  client.bearer = key;
  return client;
}

pairing('a claimed code gives the app a key of the chosen scope, which the API holds it to', async ({ daemon, owner }) => {
  const started = await startPairing(owner, { scope: 'read' });
  assert.match(started.code, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
  assert.is(started.state, 'pending');
  assert.is(Date.parse(started.expires_at) - Date.parse(started.created_at), 10 * 60_000);

  const phone = daemon.client();
  const claimed = await phone.post('/api/pairing/claim', { code: started.code, device_name: 'Pixel 8' });
  assert.is(claimed.status, 201, JSON.stringify(claimed.body));
  assert.match(claimed.body.key, /^cairn_[A-Za-z0-9_-]{43}$/);
  assert.is(claimed.body.name, 'Pixel 8');
  assert.is(claimed.body.scope, 'read');
  assert.ok('fingerprint_sha256' in claimed.body);

  const app = withKey(daemon, claimed.body.key);
  assert.is((await app.get('/api/jobs')).status, 200);
  const me = await app.get('/api/auth/me');
  assert.equal(me.body.key, { id: claimed.body.id, name: 'Pixel 8', scope: 'read' });
  const refused = await app.post('/api/jobs', { name: 'x' });
  assert.is(refused.status, 403);
  assert.ok(isErrorShape(refused.body, 'SCOPE_TOO_SMALL'));
  // Not even a paired key may pair more keys.
  assert.is((await app.post('/api/pairing', { scope: 'read' })).body.required_scope, 'session');

  const listedKeys = (await owner.get('/api/keys')).body;
  assert.equal(listedKeys.map((key: any) => [key.name, key.scope]), [['Pixel 8', 'read']]);
  const after = await owner.get(`/api/pairing/${started.id}`);
  assert.is(after.body.state, 'claimed');
  assert.equal(after.body.key, { id: claimed.body.id, name: 'Pixel 8' });
  assert.equal((await owner.get('/api/pairing')).body, [], 'a claimed pairing is no longer pending');
});

pairing('a code works once: a second claim is refused 401 PAIRING_CODE_USED and makes no key', async ({ daemon, owner }) => {
  const { code } = await startPairing(owner, { scope: 'operate' });
  const first = await daemon.client().post('/api/pairing/claim', { code, device_name: 'Phone' });
  assert.is(first.status, 201);
  // The same code typed back another way (lower case, no dashes) is the same code.
  const second = await daemon.client().post('/api/pairing/claim', { code: code.toLowerCase().replace(/-/g, ''), device_name: 'Thief' });
  assert.is(second.status, 401);
  assert.ok(isErrorShape(second.body, 'PAIRING_CODE_USED'));
  assert.not.ok('key' in second.body);
  assert.equal((await owner.get('/api/keys')).body.map((key: any) => key.name), ['Phone']);
});

pairing('two claims of one code at once: exactly one key is made', async ({ daemon, owner }) => {
  const { code } = await startPairing(owner);
  const answers = await Promise.all(['A', 'B', 'C'].map((device_name) => daemon.client().post('/api/pairing/claim', { code, device_name })));
  assert.equal(answers.map((answer) => answer.status).sort(), [201, 401, 401]);
  assert.is((await owner.get('/api/keys')).body.length, 1);
});

pairing('a code past its 10 minutes is refused 401 PAIRING_CODE_EXPIRED and the pairing reads expired', async (context) => {
  const { daemon, owner } = context;
  const started = await startPairing(owner);
  context.skew = PAIRING_TTL_MS - 1000;
  assert.equal((await owner.get('/api/pairing')).body.map((p: any) => p.id), [started.id], 'still pending just before');
  context.skew = PAIRING_TTL_MS;
  const late = await daemon.client().post('/api/pairing/claim', { code: started.code, device_name: 'Slow phone' });
  assert.is(late.status, 401);
  assert.ok(isErrorShape(late.body, 'PAIRING_CODE_EXPIRED'));
  assert.match(late.body.message, /expired/);
  assert.is((await owner.get(`/api/pairing/${started.id}`)).body.state, 'expired');
  assert.equal((await owner.get('/api/pairing')).body, []);
  assert.equal((await owner.get('/api/keys')).body, []);
});

pairing('a cancelled pairing stops its code at once', async ({ daemon, owner }) => {
  const started = await startPairing(owner);
  const cancelled = await owner.delete(`/api/pairing/${started.id}`);
  assert.is(cancelled.status, 200);
  assert.is(cancelled.body.state, 'cancelled');
  const claim = await daemon.client().post('/api/pairing/claim', { code: started.code, device_name: 'Phone' });
  assert.is(claim.status, 401);
  assert.ok(isErrorShape(claim.body, 'PAIRING_CODE_CANCELLED'));
  assert.is((await owner.delete(`/api/pairing/${started.id}`)).status, 409);
  assert.is((await owner.delete('/api/pairing/999')).status, 404);
});

pairing('wrong codes are refused 401 and rate limited like logins, and the lockout holds even for the right code', async ({ daemon, owner }) => {
  const { code } = await startPairing(owner);
  const guesser = daemon.client();
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const answer = await guesser.post('/api/pairing/claim', { code: `AAAA-BBBB-CC${i}${i}`, device_name: 'Guesser' });
    if (i === 0) assert.ok(isErrorShape(answer.body, 'PAIRING_CODE_INVALID'));
    statuses.push(answer.status);
  }
  assert.equal(statuses, [401, 401, 401, 401, 401]);
  const locked = await guesser.post('/api/pairing/claim', { code, device_name: 'Guesser' });
  assert.is(locked.status, 429);
  assert.ok(isErrorShape(locked.body, 'TOO_MANY_ATTEMPTS'));
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  // The limit is the login one: the guesser cannot switch to passwords either.
  assert.is((await guesser.login({ username: 'admin', password: 'a guess at it' })).status, 429);
  assert.equal((await owner.get('/api/keys')).body, []);
  assert.is((await owner.get('/api/pairing')).body.length, 1, 'the pairing still waits for its app');
});

pairing('the key is named after the device, or as the owner said, and a taken name gets a number', async ({ daemon, owner }) => {
  const claim = async (device_name: string, start: Record<string, unknown> = { scope: 'read' }) => {
    const { code } = await startPairing(owner, start);
    const answer = await daemon.client().post('/api/pairing/claim', { code, device_name });
    assert.is(answer.status, 201, JSON.stringify(answer.body));
    return answer.body.name;
  };
  assert.is(await claim('Pixel'), 'Pixel');
  assert.is(await claim('Pixel'), 'Pixel (2)');
  assert.is(await claim('Pixel'), 'Pixel (3)');
  assert.is(await claim('Pixel', { scope: 'admin', name: 'Tablet in the kitchen' }), 'Tablet in the kitchen');
  const long = 'L'.repeat(64);
  assert.is(await claim(long), long);
  const second = await claim(long);
  assert.is(second, `${'L'.repeat(60)} (2)`);
  assert.is(second.length, 64);
});

pairing('bad input is a 400 that starts nothing: an unknown scope, a device name with control characters', async ({ daemon, owner }) => {
  const bad = await owner.post('/api/pairing', { scope: 'root' });
  assert.is(bad.status, 400);
  assert.ok(isErrorShape(bad.body, 'VALIDATION_FAILED'));
  assert.equal((await owner.get('/api/pairing')).body, []);
  const { code } = await startPairing(owner);
  const claim = await daemon.client().post('/api/pairing/claim', { code, device_name: 'bad\nname' });
  assert.is(claim.status, 400);
  assert.is((await owner.get('/api/pairing')).body.length, 1, 'the code still works after a malformed claim');
});

pairing('starting and claiming are in the audit log: who started, which device claimed which key, and refused claims', async ({ daemon, owner }) => {
  const { code, id } = await startPairing(owner);
  await daemon.client().post('/api/pairing/claim', { code: 'WRON-GCOD-EXXX', device_name: 'Guesser' });
  const claimed = await daemon.client().post('/api/pairing/claim', { code, device_name: 'Pixel' });
  const entries = await waitFor('three pairing entries', async () => {
    const listed = (await owner.get('/api/audit?limit=100')).body.entries.filter((entry: any) => entry.action.startsWith('pairing.'));
    return listed.length >= 3 ? listed : null;
  });
  const shown = entries.map((entry: any) => [entry.action, entry.outcome, entry.status, entry.actor, entry.actor_type, entry.target_id]).reverse();
  assert.equal(shown, [
    ['pairing.start', 'success', 201, 'admin', 'session', id],
    ['pairing.claim', 'failure', 401, 'Guesser', 'anonymous', null],
    ['pairing.claim', 'success', 201, 'Pixel', 'anonymous', claimed.body.id],
  ]);
  assert.not.ok(JSON.stringify(entries).includes(code), 'no code in the log');
});

pairing.run();

const https = suite('pairing over HTTPS');

https('the QR payload holds the URLs, the fingerprint and the code; an app that pins it claims its key over HTTPS', async () => {
  const daemon = await startTestDaemon({ tls: true, plainHttp: 'loopback' });
  try {
    const owner = daemon.client();
    await owner.setupAdmin();
    const started = (await owner.post('/api/pairing', { scope: 'operate' })).body;
    const info = (await owner.get('/api/system/info')).body;
    
    const payload = decodePairingPayload(started.qr_payload);
    assert.equal(payload, { code: started.code.replace(/-/g, ''), fingerprint_sha256: daemon.certificate!.fingerprint, urls: info.urls });
    assert.equal(payload.urls, [daemon.httpsUrl]);
    assert.is(started.fingerprint_sha256, daemon.certificate!.fingerprint);

    const phone = new PinnedClient(payload.urls[0], payload.fingerprint_sha256!);
    const claimed = await phone.post('/api/pairing/claim', { code: payload.code, device_name: 'iPhone' });
    assert.is(claimed.status, 201, JSON.stringify(claimed.body));
    assert.is(claimed.body.fingerprint_sha256, payload.fingerprint_sha256);
    phone.bearer = claimed.body.key;
    assert.equal((await phone.get('/api/auth/me')).body.key.scope, 'operate');
  } finally {
    await daemon.stop();
  }
});

https.run();
