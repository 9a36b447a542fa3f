/**
 * `cairn tui` with no flags on a box whose daemon serves HTTPS (the default): the TUI reaches it over
 * plain HTTP on loopback, and its settings view shows the fingerprint a phone app pins.
 */
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, REPO_ROOT, runCli, spawnDaemonProcess, tempDir } from '../helpers.ts';
import { act, killSession, logIn, newSessionName, screenOf, shows, tmux } from '../tmux-tui.ts';

/** A port free now, for a daemon that `cairn tui` must find from the configuration alone. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

test('cairn tui with no flags works against an HTTPS daemon and shows the fingerprint that cairn fingerprint shows', async () => {
  const dataDir = tempDir();
  const port = await freePort();
  const env = { CAIRN_DATA_DIR: dataDir, CAIRN_PORT: String(port), CAIRN_HOST: '127.0.0.1' };
  const daemon = await spawnDaemonProcess(dataDir, env);
  const session = { session: newSessionName() };
  try {
    assert.match(daemon.output(), new RegExp(`listening on http://127\\.0\\.0\\.1:${port} and https://127\\.0\\.0\\.1:${port} \\(plain HTTP for this box only\\)`));
    await new ApiClient(daemon.url).setupAdmin();
    const fingerprint = (await runCli(['fingerprint'], { env })).stdout.match(/SHA-256 fingerprint: (\S+)/)![1];

    const command = ['env', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), process.execPath, path.join(REPO_ROOT, 'bin/cairn.mjs'), 'tui'].join(' ');
    // Wide enough for the fingerprint on one line of the form's help.
    tmux('new-session', '-d', '-s', session.session, '-x', '180', '-y', '30', command);
    await logIn(session);
    await shows(session, 'Jobs');
    // The header names the daemon reached once the first load is in (a loaded machine draws it later).
    await shows(session, `http://127.0.0.1:${port}`);
    act(session, 'settings');
    await shows(session, `HTTPS certificate (SHA-256, pin it in a phone app): ${fingerprint}`);
  } finally {
    killSession(session);
    await daemon.kill();
  }
});

test.run();
