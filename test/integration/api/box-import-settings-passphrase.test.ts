/**
 * A box export's settings cannot carry an export passphrase: the only passphrase an import may set
 * is the one that opened the file, and only when the file says the box wrote automatic exports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seal } from '../../../src/box-export/sealed-file.ts';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const PASSPHRASE = 'the passphrase that opens it';
const test = suite<{ daemon: TestDaemon; client: ApiClient }>('box import and the export passphrase');

test.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
test.after.each(async ({ daemon }) => {
  await daemon.stop();
});

test('an export whose settings name an export_passphrase is refused and sets none', async ({ client }) => {
  const state = {
    format: 'cairn-box-state',
    version: 1,
    settings: { theme: 'light', export_passphrase: 'a passphrase the file chose' },
    automatic_export: false,
    credentials: [],
    channels: [],
    jobs: [],
    schedules: [],
  };
  const file = await seal(Buffer.from(JSON.stringify(state)), PASSPHRASE, { box: 'elsewhere', cairnVersion: '0.1.0' }, { n: 2 ** 10, r: 8, p: 1 });
  const response = await client.post('/api/system/import', { file, passphrase: PASSPHRASE });
  assert.is(response.status, 400, JSON.stringify(response.body));
  assert.ok(isErrorShape(response.body, 'EXPORT_INVALID'), JSON.stringify(response.body));
  const settings = (await client.get('/api/settings')).body;
  assert.is(settings.export_passphrase_set, false);
  assert.is(settings.theme, 'dark');
});

test.run();
