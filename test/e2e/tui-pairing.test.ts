/**
 * Pairing a phone from the real terminal UI in tmux: `p`, a scope, the QR code and its code on
 * screen until the app claims it; Esc cancels the code.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, spawnDaemonProcess, tempDir, type DaemonProcess } from '../helpers.ts';
import { act, killSession, launchTui, logIn, newSessionName, press, screenOf, shows } from '../tmux-tui.ts';

interface Context {
  daemon: DaemonProcess;
  api: ApiClient;
  session: string;
}

const tui = suite<Context>('tui pairing');

tui.before.each(async (context) => {
  context.daemon = await spawnDaemonProcess(tempDir());
  context.api = new ApiClient(context.daemon.url);
  await context.api.setupAdmin();
  context.session = newSessionName();
});
tui.after.each(async (context) => {
  killSession(context);
  await context.daemon.kill();
});

const claim = (context: Context, code: string) => new ApiClient(context.daemon.url).post('/api/pairing/claim', { code, device_name: 'Pixel' });

tui('p, then o: the QR code and its code stay on screen until the app claims it, then the dashboard says who got a key', async (context) => {
  launchTui(context.session, context.daemon.url, { width: 80, height: 24 });
  await logIn(context);
  await shows(context, 'Jobs');
  act(context, 'pair');
  await shows(context, 'What may the app do?');
  press(context, 'o');
  await shows(context, /Code: [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/);
  const code = screenOf(context).match(/Code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/)![1];
  assert.match(screenOf(context), /[▄▀█]{10,}/, 'a QR code is drawn');
  assert.match(screenOf(context), /Esc: cancel the code/, 'everything fits 80×24');
  assert.match(screenOf(context), /Scope: operate/);

  const claimed = await claim(context, code);
  assert.is(claimed.status, 201);
  await shows(context, 'paired: key "Pixel" (operate)');
  assert.equal((await context.api.get('/api/keys')).body.map((key: any) => [key.name, key.scope]), [['Pixel', 'operate']]);
});

tui('Esc on the QR code cancels it: the dashboard says so and the code is refused', async (context) => {
  launchTui(context.session, context.daemon.url);
  await logIn(context);
  await shows(context, 'Jobs');
  act(context, 'pair');
  await shows(context, 'What may the app do?');
  press(context, 'r');
  await shows(context, /Code: [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/);
  const code = screenOf(context).match(/Code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/)![1];
  press(context, 'Escape');
  await shows(context, 'pairing cancelled');
  const refused = await claim(context, code);
  assert.is(refused.status, 401);
  assert.is(refused.body.code, 'PAIRING_CODE_CANCELLED');
});

tui.run();
