/**
 * The TUI's pairing screen without blessed: its API calls against a real daemon, and the text it
 * shows (the QR code, the code, the pin, the URLs) and says when the pairing ends.
 */
import QRCode from 'qrcode';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TuiApi } from '../../../tui/api.ts';
import { footerFor, helpText, KEYS, keysOf } from '../../../tui/keys.ts';
import { pairingDetails, pairingOutcome, qrWidth, scopeQuestion } from '../../../tui/present/pairing.ts';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../helpers.ts';

const pairing = suite<{ daemon: TestDaemon; api: TuiApi }>('tui pairing');

pairing.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.api = new TuiApi(context.daemon.url);
  await context.api.setup(ADMIN.username, ADMIN.password);
});
pairing.after.each(async ({ daemon }) => {
  await daemon.stop();
});

pairing('p on the dashboard pairs a phone, in the help and not clashing with another dashboard key', () => {
  assert.equal(keysOf('pair'), ['p']);
  assert.match(helpText(), /^p\s+pair phone\s+\(dashboard\)$/m);
  const dashboardKeys = KEYS.filter((key) => key.screens.includes('dashboard')).flatMap((key) => key.keys);
  assert.is(dashboardKeys.filter((key) => key === 'p').length, 1);
  assert.ok(footerFor('dashboard').length <= 80);
  assert.match(scopeQuestion(), /r\s+read.*\n.*o\s+operate.*\n.*a\s+admin/);
});

pairing('the screen shows the QR code of the payload beside the code and URLs, within 80×24, and says who got a key', async ({ daemon, api }) => {
  const started = await api.startPairing('operate');
  const qr = await QRCode.toString(started.qr_payload, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
  const details = pairingDetails(started);
  assert.ok(details.includes(`Code: ${started.code}`));
  assert.ok(details.includes('Scope: operate'));
  assert.ok(details.includes(`  ${daemon.url}`), 'the URL to connect to');
  assert.match(details, /HTTPS is off/);
  assert.ok(qr.trimEnd().split('\n').length <= 24, `${qr.split('\n').length} lines`);
  assert.ok(qrWidth(qr) + 2 + 30 <= 80, `the QR code is ${qrWidth(qr)} columns`);
  assert.is(pairingOutcome(await api.pairing(started.id)), 'pairing still waiting');

  const claim = await fetch(`${daemon.url}/api/pairing/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: started.code, device_name: 'Pixel' }),
  });
  assert.is(claim.status, 201);
  assert.is(pairingOutcome(await api.pairing(started.id)), 'paired: key "Pixel" (operate)');
});

pairing('Esc cancels the code: the daemon refuses it afterwards', async ({ daemon, api }) => {
  const started = await api.startPairing('read');
  assert.is(pairingOutcome(await api.cancelPairing(started.id)), 'pairing cancelled: the code no longer works');
  const claim = await fetch(`${daemon.url}/api/pairing/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: started.code, device_name: 'Pixel' }),
  });
  assert.is(claim.status, 401);
});

pairing.run();
