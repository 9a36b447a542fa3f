/**
 * `cairn pair` spawned for real against a running daemon (in this process, so its pairing clock can
 * be moved): it prints the QR code of the pairing payload and waits, then says whether an app
 * claimed the code, the code expired, or the owner cancelled with Ctrl-C.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePairingPayload, PAIRING_TTL_MS, terminalQr } from '../../src/pairing/index.ts';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../helpers.ts';
import { waitFor } from '../trees.ts';

const CAIRN_BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'cairn.mjs');

interface Context {
  daemon: TestDaemon;
  owner: ApiClient;
  skew: number;
}
const pair = suite<Context>('cairn pair');

pair.before.each(async (context) => {
  context.skew = 0;
  context.daemon = await startTestDaemon({}, { pairingClock: () => Date.now() + context.skew });
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
pair.after.each(async ({ daemon }) => {
  await daemon.stop();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  exited: Promise<number>;
}

function startPair(daemon: TestDaemon, args: string[]): Running {
  const child = spawn(process.execPath, [CAIRN_BIN, 'pair', ...args], { env: { ...process.env, CAIRN_DATA_DIR: daemon.config.dataDir } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return { child, output: () => output, exited };
}

/** The code `cairn pair` printed, once it says it is waiting. */
async function printedCode(running: Running): Promise<string> {
  const code = () => (/Waiting for the app/.test(running.output()) ? running.output().match(/Code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/)?.[1] : undefined);
  return waitFor('cairn pair waiting', code, 60_000);
}

pair('prints the QR code of the URLs, fingerprint and code, and says so when the app claimed it', async ({ daemon, owner }) => {
  const running = startPair(daemon, ['--scope', 'operate']);
  try {
    const code = await printedCode(running);
    const qr = await terminalQr(encodePairingPayload(code, daemon.identity()));
    assert.ok(running.output().includes(qr), `the QR code of the payload is printed:\n${running.output()}`);
    assert.match(running.output(), /scope "operate"/);
    assert.ok(running.output().trimEnd().split('\n').slice(-24).join('\n').includes(qr.trimEnd()), 'the QR code is whole in the last 24 lines of the terminal');

    const claimed = await daemon.client().post('/api/pairing/claim', { code, device_name: 'Pixel' });
    assert.is(claimed.status, 201);
    assert.is(await running.exited, 0, running.output());
    assert.ok(/Paired: the app has the key "Pixel" \(scope operate\)/.test(running.output()), running.output());
    assert.equal((await owner.get('/api/keys')).body.map((key: any) => [key.name, key.scope]), [['Pixel', 'operate']]);
  } finally {
    running.child.kill('SIGKILL');
  }
});

pair('says the code expired when nobody claimed it in 10 minutes, exit 1', async (context) => {
  const running = startPair(context.daemon, []);
  try {
    await printedCode(running);
    context.skew = PAIRING_TTL_MS;
    assert.is(await running.exited, 1, running.output());
    assert.ok(/The code expired before an app claimed it/.test(running.output()), running.output());
  } finally {
    running.child.kill('SIGKILL');
  }
});

pair('Ctrl-C cancels the pairing: the printed code stops working', async ({ daemon }) => {
  const running = startPair(daemon, ['--scope', 'admin']);
  try {
    const code = await printedCode(running);
    running.child.kill('SIGINT');
    assert.is(await running.exited, 1, running.output());
    assert.ok(/Pairing cancelled/.test(running.output()), running.output());
    const claim = await daemon.client().post('/api/pairing/claim', { code, device_name: 'Late' });
    assert.is(claim.status, 401);
    assert.ok(isErrorShape(claim.body, 'PAIRING_CODE_CANCELLED'));
  } finally {
    running.child.kill('SIGKILL');
  }
});

pair('a scope that is none is a usage error (exit 2) that starts nothing', async ({ daemon, owner }) => {
  const running = startPair(daemon, ['--scope', 'root']);
  assert.is(await running.exited, 2);
  assert.match(running.output(), /--scope must be one of read, operate, admin/);
  assert.equal((await owner.get('/api/pairing')).body, []);
});

pair.run();
