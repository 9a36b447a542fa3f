/** The export passphrase seals every secret into a file beside each local backup: a key may not choose it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const test = suite<{ daemon: TestDaemon; owner: ApiClient }>('settings export passphrase and keys');

test.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
test.after.each(async ({ daemon }) => {
  await daemon.stop();
});

test('an admin key cannot set or remove the export passphrase; a session can', async ({ daemon, owner }) => {
  const made = await owner.post('/api/keys', { name: 'admin script', scope: 'admin' });
  assert.is(made.status, 201);
  const key = daemon.client();
  key.bearer = made.body.key;
  const set = await key.put('/api/settings', { export_passphrase: 'key chose this passphrase' });
  assert.is(set.status, 403, JSON.stringify(set.body));
  assert.ok(isErrorShape(set.body, 'SCOPE_TOO_SMALL'), JSON.stringify(set.body));
  assert.is((await owner.get('/api/settings')).body.export_passphrase_set, false);
  assert.is((await owner.put('/api/settings', { export_passphrase: 'owner chose this passphrase' })).status, 200);
  const removed = await key.put('/api/settings', { export_passphrase: null });
  assert.is(removed.status, 403);
  assert.is((await owner.get('/api/settings')).body.export_passphrase_set, true);
  // Other settings stay the admin key's to change.
  assert.is((await key.put('/api/settings', { theme: 'light' })).status, 200);
});

test.run();
