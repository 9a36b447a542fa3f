/**
 * scripts/install.sh into a system image (--root): the service's settings, data dir and host
 * included, are in /etc/default/cairn, which the CLI reads; a box installed by the older script
 * (data dir and host as Environment= lines in the unit) keeps its data dir when installed again.
 * The "binary" is the repository's CLI behind a small launcher; the CLI checks run that same CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, runCli, tempDir } from '../helpers.ts';

function launcher(): string {
  const file = path.join(tempDir('cairn-bin-'), 'cairn');
  writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'cairn.mjs')}" "$@"\n`, { mode: 0o755 });
  return file;
}

function install(root: string, binary = launcher()): string {
  return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'install.sh'), '--root', root, '--binary', binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const settingsOf = (root: string) => readFileSync(path.join(root, 'etc/default/cairn'), 'utf8');
const unitOf = (root: string) => readFileSync(path.join(root, 'etc/systemd/system/cairn.service'), 'utf8');

test('a fresh install puts the data dir and host in the settings file, which the unit requires and the CLI reads', async () => {
  const root = tempDir('cairn-root-');
  install(root);
  const settings = settingsOf(root);
  assert.match(settings, /^CAIRN_DATA_DIR=\/var\/lib\/cairn$/m);
  assert.match(settings, /^CAIRN_HOST=0\.0\.0\.0$/m);
  assert.match(unitOf(root), /^EnvironmentFile=\/etc\/default\/cairn$/m);
  assert.not.match(unitOf(root), /^Environment=CAIRN_/m, 'no setting hides in the unit');

  // The CLI on that box, with no variables, looks where the service keeps its data.
  const run = await runCli(['run', 'Photos'], { env: { CAIRN_SERVICE_SETTINGS: path.join(root, 'etc/default/cairn') }, timeoutMs: 20_000 });
  assert.is(run.code, 1);
  assert.match(run.stderr, /No Cairn daemon is running with data dir \/var\/lib\/cairn\. Start the service with `sudo systemctl start cairn`/);
});

test('installing again over the older script keeps the data dir and host the old unit set, and the owner settings', async () => {
  const root = tempDir('cairn-root-');
  const unit = path.join(root, 'etc/systemd/system/cairn.service');
  mkdirSync(path.dirname(unit), { recursive: true });
  // What the older install.sh left: settings in the unit, a settings file without them (and no final newline).
  const oldUnit = readFileSync(path.join(REPO_ROOT, 'systemd/cairn.service'), 'utf8').replace(
    /^EnvironmentFile=.*$/m,
    'Environment=CAIRN_DATA_DIR=/srv/cairn-data\nEnvironment=CAIRN_HOST=127.0.0.2\nEnvironmentFile=-/etc/default/cairn',
  );
  writeFileSync(unit, oldUnit);
  mkdirSync(path.join(root, 'etc/default'), { recursive: true });
  writeFileSync(path.join(root, 'etc/default/cairn'), '# mine\nCAIRN_PORT=39092');

  install(root);
  assert.is(settingsOf(root), '# mine\nCAIRN_PORT=39092\nCAIRN_DATA_DIR=/srv/cairn-data\nCAIRN_HOST=127.0.0.2\n');
  assert.not.match(unitOf(root), /^Environment=CAIRN_/m);

  // A third install changes nothing more.
  install(root);
  assert.is(settingsOf(root), '# mine\nCAIRN_PORT=39092\nCAIRN_DATA_DIR=/srv/cairn-data\nCAIRN_HOST=127.0.0.2\n');

  const tui = await runCli(['tui'], { env: { CAIRN_SERVICE_SETTINGS: path.join(root, 'etc/default/cairn') }, timeoutMs: 20_000 });
  assert.is(tui.code, 1);
  assert.match(tui.stderr, /Cannot reach the Cairn daemon at http:\/\/127\.0\.0\.2:39092 .*sudo systemctl start cairn/);
});

test('the installed binary is left out of the page cache, so the daemon started next maps no more of it than after a boot', async () => {
  const root = tempDir('cairn-root-');
  // tmpfs keeps files only in the page cache: nothing to check there (Debian 13's /tmp is one).
  if (execFileSync('stat', ['-f', '-c', '%T', root], { encoding: 'utf8' }).trim() === 'tmpfs') return;
  // A launcher with 8 MB after its exec line (never read): big enough to see, as the 125 MB binary is.
  const binary = launcher();
  writeFileSync(binary, `${readFileSync(binary, 'utf8')}# ${'x'.repeat(8 * 1024 * 1024)}\n`);
  install(root, binary);
  const cachedBytes = Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path.join(root, 'usr/local/bin/cairn')], { encoding: 'utf8' }).trim());
  assert.ok(cachedBytes < 1024 * 1024, `${cachedBytes} bytes of the installed binary are in the page cache`);
});

test.run();
