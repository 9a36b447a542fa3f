/**
 * Speed of the remote sync engine alone, in this process, against the test SFTP server, beside
 * `rclone sync` to the same server in the same run: wall-clock and CPU seconds of an initial run and
 * a no-change rerun. CPU seconds (this process's, rclone's) say more than wall-clock on a loaded
 * machine; run it under `node --cpu-prof` to see where the engine's time goes.
 *
 *   node --import tsx bench/engine-speed.ts [--files 100000] [--dir /dev/shm] [--rounds 1] [--no-rclone] [--profile /tmp/prof] [--seed]
 * --seed fills both folders on the server with a copy of the tree first (`cp -a`, mtimes kept), as
 * bench/remote.ts --seed does: the "initial" row is then a first run over that copy, and the no-change
 * rows come without the hours of uploads a 1,000,000-file tree costs. The server's folder is in the
 * temp folder: TMPDIR=/dev/shm puts it on tmpfs.
 * --profile writes a CPU profile of each Cairn run alone (initial.cpuprofile, no-change-N.cpuprofile),
 * for Chrome DevTools or any .cpuprofile reader.
 */
import { benchSyncContext } from './engine-context.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { openSftpStore } from '../src/destinations/sftp/sftp-store.ts';
import { syncToStore } from '../src/destinations/remote/sync-engine.ts';
import { startSftpServer } from '../test/servers.ts';
import { numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const ROUNDS = numberOption('--rounds', 1);
const RCLONE = !process.argv.includes('--no-rclone');
const PROFILE = textOption('--profile');
const SEED = process.argv.includes('--seed');
const work = path.join(textOption('--dir', os.tmpdir()), `cairn-engine-speed-${process.pid}`);

interface Timing {
  seconds: number;
  cpuSeconds: number;
  files: number;
}

/** rclone as bench/remote.ts sets it up for SFTP; CPU seconds from the kernel's count for its child. */
function timeRclone(source: string, env: Record<string, string>, remote: string): Timing {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'cpu=%U+%S', 'rclone', 'sync', '--transfers', '4', '--checkers', '8', source, remote], {
    env: { ...process.env, ...env, RCLONE_CONFIG: '/dev/null' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`rclone failed: ${result.stderr.slice(-2000)}`);
  const [user, system] = (result.stderr.match(/cpu=([\d.]+)\+([\d.]+)/) ?? ['', 'NaN', 'NaN']).slice(1).map(Number);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: user + system, files: NaN };
}

async function main() {
  const source = path.join(work, 'data');
  console.log(`Generating ${FILES} files in ${source} …`);
  generateTree(source, FILES, FILES * 100);
  const server = await startSftpServer();
  if (SEED) {
    console.log('Seeding both folders on the server with a copy of the tree …');
    const cairnFolder = path.join(server.root, 'cairn');
    const rcloneFolder = path.join(server.root, 'rclone');
    mkdirSync(cairnFolder);
    mkdirSync(rcloneFolder);
    execFileSync('cp', ['-a', source, `${cairnFolder}/`]);
    execFileSync('cp', ['-a', `${source}/.`, `${rcloneFolder}/`]);
    execFileSync('chown', ['-R', `${server.uid}:${server.gid}`, cairnFolder, rcloneFolder]);
  }
  const target = { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'cairn'), key_based_auth: false };
  const session = new Session();
  if (PROFILE) {
    mkdirSync(PROFILE, { recursive: true });
    session.connect();
    await session.post('Profiler.enable');
  }
  let runs = 0;
  const runCairn = async (): Promise<Timing> => {
    if (PROFILE) await session.post('Profiler.start');
    const store = await openSftpStore(target, { password: server.password }, { check: async () => 'pinned' });
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const totals = await syncToStore(benchSyncContext(source, path.join(work, 'state', 'job-1.json')), { store, identity: 'bench' });
    const used = process.cpuUsage(cpu);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await store.close();
    if (PROFILE) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path.join(PROFILE, `${runs === 0 ? 'initial' : `no-change-${runs}`}.cpuprofile`), JSON.stringify(profile));
    }
    runs++;
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6, files: totals.files_transferred };
  };
  const rcloneEnv = {
    RCLONE_CONFIG_BENCH_TYPE: 'sftp',
    RCLONE_CONFIG_BENCH_HOST: server.host,
    RCLONE_CONFIG_BENCH_PORT: String(server.port),
    RCLONE_CONFIG_BENCH_USER: server.username,
    RCLONE_CONFIG_BENCH_PASS: execFileSync('rclone', ['obscure', '-'], { input: server.password, encoding: 'utf8' }).trim(),
    RCLONE_CONFIG_BENCH_SHELL_TYPE: 'none',
  };
  const rcloneRemote = `bench:${path.join(server.root, 'rclone')}`;
  const show = (what: string, cairn: Timing, rclone?: Timing) =>
    console.log(
      `${what.padEnd(10)} cairn ${cairn.seconds.toFixed(2)} s (cpu ${cairn.cpuSeconds.toFixed(2)} s, ${cairn.files} files)` +
        (rclone ? `  rclone ${rclone.seconds.toFixed(2)} s (cpu ${rclone.cpuSeconds.toFixed(2)} s)  wall ${(cairn.seconds / rclone.seconds).toFixed(2)}×  cpu ${(cairn.cpuSeconds / rclone.cpuSeconds).toFixed(2)}×` : '') +
        `  [${execFileSync('uptime', { encoding: 'utf8' }).trim()}]`,
    );
  show('initial', await runCairn(), RCLONE ? timeRclone(source, rcloneEnv, rcloneRemote) : undefined);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating who goes first, so neither always meets the warmer caches.
    if (RCLONE && round % 2 === 1) {
      const rclone = timeRclone(source, rcloneEnv, rcloneRemote);
      show('no-change', await runCairn(), rclone);
    } else {
      const cairn = await runCairn();
      show('no-change', cairn, RCLONE ? timeRclone(source, rcloneEnv, rcloneRemote) : undefined);
    }
  }
  await server.stop();
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
