/**
 * The environment systemd gives the daemon (the unit's `Environment=` lines, issue 17): the unit
 * scripts/install.sh installs carries glibc's malloc settings, and a daemon started with them keeps
 * at most the arenas they allow through a login (scrypt on libuv's pool) and a few requests.
 * bench/remote.ts reads the same lines through `serviceEnvironment`, tested here on systemd's syntax.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, REPO_ROOT, spawnDaemonProcess, tempDir } from '../helpers.ts';
import { serviceEnvironment, threadArenasOf } from '../process-memory.ts';

test("the installed unit's malloc settings reach the daemon: one thread arena, not one per thread", async () => {
  const root = tempDir('cairn-root-');
  const launcher = path.join(tempDir('cairn-bin-'), 'cairn');
  writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'cairn.mjs')}" "$@"\n`, { mode: 0o755 });
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'install.sh'), '--root', root, '--binary', launcher], { stdio: ['ignore', 'pipe', 'pipe'] });
  const environment = serviceEnvironment(path.join(root, 'etc/systemd/system/cairn.service'));
  assert.is(environment.MALLOC_ARENA_MAX, '2');

  const daemon = await spawnDaemonProcess(tempDir('cairn-data-'), environment);
  try {
    const api = new ApiClient(daemon.url);
    await api.setupAdmin();
    // Logins hash on libuv's threads, which is where glibc would open arenas of their own.
    for (let login = 0; login < 3; login += 1) assert.is((await api.login()).status, 200);
    for (let request = 0; request < 20; request += 1) assert.is((await api.get('/api/jobs')).status, 200);
    const environ = readFileSync(`/proc/${daemon.child.pid}/environ`, 'utf8').split('\0');
    for (const [name, value] of Object.entries(environment)) assert.ok(environ.includes(`${name}=${value}`), `${name} is in the daemon process`);
    // MALLOC_ARENA_MAX=2: the main arena and one for every other thread (glibc's default is 8 per core).
    assert.ok(threadArenasOf(daemon.child.pid!) <= 1, `thread arenas: ${threadArenasOf(daemon.child.pid!)}`);
  } finally {
    await daemon.kill();
  }
});

test('serviceEnvironment reads Environment= lines as systemd does: several words, quotes, the later one winning', () => {
  const unit = path.join(tempDir('cairn-unit-'), 'x.service');
  writeFileSync(
    unit,
    [
      '[Service]',
      'ExecStart=/usr/local/bin/cairn daemon',
      'EnvironmentFile=/etc/default/cairn',
      'Environment=A=1 "B=two words" \'C=x  y\'',
      'Environment=A=3',
      '# Environment=D=commented',
    ].join('\n'),
  );
  assert.equal(serviceEnvironment(unit), { A: '3', B: 'two words', C: 'x  y' });
});

test.run();
