/**
 * Updating Cairn with scripts/install.sh on a box where it runs: the binary is replaced in place and
 * the data kept; a new binary that does not become healthy is rolled back, the previous one runs
 * again with the data as it was. The box is this machine seen through a private mount namespace
 * (its /usr/local/bin, /etc/default, /etc/systemd/system, /var/lib and /run are temp folders), and
 * systemd, which does not run here, is a small `systemctl` that starts and stops `cairn daemon`
 * as the unit would (appliance/boot-test.sh checks the same with the real systemd, in the image).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, tempDir } from '../helpers.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** The box's folders, the fake systemctl and the daemon it runs. */
async function box() {
  const top = tempDir('cairn-box-');
  const dirs = { bin: 'usr-local-bin', defaults: 'etc-default', units: 'etc-systemd-system', varLib: 'var-lib', run: 'run' };
  for (const dir of Object.values(dirs)) mkdirSync(path.join(top, dir), { recursive: true });
  mkdirSync(path.join(top, 'run/systemd/system'), { recursive: true });
  const state = path.join(top, 'state');
  const fakeBin = path.join(top, 'fake-bin');
  mkdirSync(state);
  mkdirSync(fakeBin);
  const port = await freePort();
  writeFileSync(
    path.join(top, dirs.defaults, 'cairn'),
    `CAIRN_DATA_DIR=${path.join(top, 'data')}\nCAIRN_HOST=127.0.0.1\nCAIRN_PORT=${port}\nCAIRN_WATCH_DRIVES=false\nCAIRN_TLS=false\n`,
  );
  // systemctl as far as install.sh uses it: restart and stop run or end `cairn daemon` with the
  // settings file as its environment, as cairn.service does; the rest has nothing to do here.
  writeFileSync(
    path.join(fakeBin, 'systemctl'),
    `#!/bin/sh
pidfile=${state}/daemon.pid
stop() { [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; while [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.2; done; rm -f "$pidfile"; }
case "$1" in
  stop) stop ;;
  restart) stop; (set -a; . /etc/default/cairn; exec /usr/local/bin/cairn daemon) >>${state}/daemon.log 2>&1 & echo $! >"$pidfile" ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  const binds = [
    [dirs.bin, '/usr/local/bin'],
    [dirs.defaults, '/etc/default'],
    [dirs.units, '/etc/systemd/system'],
    [dirs.varLib, '/var/lib'],
    [dirs.run, '/run'],
  ];
  const mounts = binds.map(([from, to]) => `mount --bind ${path.join(top, from)} ${to}`).join(' && ');
  const install = (binary: string) =>
    spawnSync('unshare', ['-m', 'sh', '-c', `${mounts} && exec bash ${path.join(REPO_ROOT, 'scripts/install.sh')} --no-apt --health-timeout 60 --binary ${binary}`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
      timeout: 600_000,
    });
  // A few tries: a kept-alive connection to the daemon an update stopped fails once.
  const health = async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        return (await (await fetch(`http://127.0.0.1:${port}/api/system/health`)).json()) as { version: string };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    return null;
  };
  const stopDaemon = () => {
    const pidfile = path.join(state, 'daemon.pid');
    if (existsSync(pidfile)) spawnSync(path.join(fakeBin, 'systemctl'), ['stop']);
  };
  return { top, port, install, health, stopDaemon, installed: () => readFileSync(path.join(top, dirs.bin, 'cairn'), 'utf8'), db: () => path.join(top, 'data', 'cairn-db.json') };
}

/** A "binary": the repository's CLI behind a launcher; `tag` makes two of them different files. */
function goodBinary(tag: string): string {
  const file = path.join(tempDir('cairn-bin-'), 'cairn');
  writeFileSync(file, `#!/bin/sh\n# ${tag}\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'cairn.mjs')}" "$@"\n`, { mode: 0o755 });
  return file;
}

/** Says a version, as a real binary would, and cannot run the daemon. */
function brokenBinary(): string {
  const file = path.join(tempDir('cairn-bin-'), 'cairn');
  writeFileSync(file, '#!/bin/sh\n[ "$1" = version ] && { echo 9.9.9-broken; exit 0; }\necho "broken on purpose" >&2\nexit 1\n', { mode: 0o755 });
  return file;
}

test('an update is checked by its health answer; a broken one is rolled back and the previous Cairn runs on the same data', async () => {
  const machine = await box();
  try {
    const first = goodBinary('first');
    const installed = machine.install(first);
    assert.is(installed.status, 0, installed.stderr + installed.stdout);
    const version = (await machine.health())?.version;
    assert.ok(version, 'the first install answers health');
    // The owner's data, which an update must keep.
    const setup = await fetch(`http://127.0.0.1:${machine.port}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'owner', password: 'a long passphrase' }),
    });
    assert.is(setup.status, 201);
    const dbBefore = readFileSync(machine.db(), 'utf8');

    const broken = machine.install(brokenBinary());
    assert.is(broken.status, 1, broken.stdout);
    assert.match(broken.stderr, /did not become healthy within 60 s: rolling back/);
    assert.match(broken.stderr, /Rolled back: Cairn .* runs again/);
    assert.is(machine.installed(), readFileSync(first, 'utf8'), 'the previous binary is back');
    assert.is((await machine.health())?.version, version);
    assert.is(readFileSync(machine.db(), 'utf8'), dbBefore, 'the database as before');
    const login = await fetch(`http://127.0.0.1:${machine.port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'owner', password: 'a long passphrase' }),
    });
    assert.is(login.status, 200);

    // A good update: replaced in place, the one before kept beside it.
    const second = goodBinary('second');
    const updated = machine.install(second);
    assert.is(updated.status, 0, updated.stderr);
    assert.is(machine.installed(), readFileSync(second, 'utf8'));
    assert.is(readFileSync(path.join(machine.top, 'usr-local-bin', 'cairn.previous'), 'utf8'), readFileSync(first, 'utf8'));
    assert.is((await machine.health())?.version, version);
    assert.not.ok(existsSync(`${machine.db()}.before-update`), 'the copy aside is gone after a healthy update');
  } finally {
    machine.stopDaemon();
  }
});

test.run();
