/**
 * Benchmark of the restic-format repository engine (src/repository) against Debian's `restic` on
 * the same generated tree, same machine, both to a local repository (or, with `--sftp`, both to the
 * same OpenSSH test server: Cairn through `openRepositoryBackend` (destinations/repository-backends.ts), restic
 * through `ssh`), in one run: initial backup,
 * no-change rerun, rerun with 1% of the files changed, full restore; wall time, peak RSS and the
 * bytes each repository holds. Both get a format-1 repository (no compression) and restic its cache
 * in the work folder, as a user's restic has. With `--compression` both get format 2 with
 * compression `auto` (restic's default, Cairn's when it creates one) and half the small files are
 * text, which compresses, so the bytes stored show it.
 *
 *   node --import tsx bench/repository.ts [--files 10000] [--bytes 200000000] [--dir /var/tmp] [--sftp] [--compression] [--backup-only]
 *     [--binary dist/cairn-linux-x64] [--in-process [--prof DIR]] [--daemon] [--remember-key]
 * Cairn's side is the engine as the daemon runs it: the built binary's hidden `repository-worker`
 * command (its Node 24, its flags, the service unit's and the engine's environment), given each task over the IPC channel as the daemon gives it
 * (run `node scripts/build-binary.mjs --arch x64` first). Its time is measured from the task sent
 * to its answer ("engine") and around the process ("process", which adds its start-up); peak RSS
 * and CPU are the engine process's own, under GNU time as restic's are. The repositories are made
 * by `init` in the old way (below), so that both get format 1 unless `--compression`.
 * `--in-process`: the engine called directly in a child of this bench, bundled by esbuild and run
 * by this Node (the old measure, before the engine had a process of its own); `--prof DIR` writes
 * each such child's V8 CPU profile. "1% changed" rewrites every hundredth small file. Removes what it made.
 * With the engine in the binary, forget and prune are one task (the daemon's `prune`: forget
 * `--keep-last 1`, then prune), against `restic forget --keep-last 1 --prune`, and the check is
 * the daemon's `verify` with no pack read, against `restic check`.
 *
 * `--remember-key`: each engine task carries the master key the last one reported (its `key`
 * message), as the daemon's remembered keys give it, so that it opens the repository without scrypt;
 * without it every task opens the repository by its password (as before the daemon remembered keys).
 *
 * `--daemon`: the daemon's own memory around repository runs instead: the binary's daemon started,
 * a repository job of the tree run through the API (initial, then no change), the daemon's RSS at
 * rest before, its peak, and at rest after each, with the engine process's peak beside it.
 *
 * Then the repository's upkeep (issue 14's forget, prune, check): a third of the files deleted and
 * another backup, `forget --keep-last 1` on both repositories, then `prune` (both at 5% unused
 * tolerated, restic's default) and a structure `check`, timed with peak RSS the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { numberOption, textOption } from './options.ts';
import { ENGINE_ENVIRONMENT } from '../src/runs/repository-runs.ts';
import { serviceEnvironment } from '../test/process-memory.ts';

const PASSWORD = 'benchmark password';
const SELF = new URL(import.meta.url).pathname;
const IS_CHILD = process.argv[2] === '--child';
const COMPRESSION = process.argv.includes('--compression');
const IN_PROCESS = process.argv.includes('--in-process');
const DAEMON = process.argv.includes('--daemon');
const REMEMBER_KEY = process.argv.includes('--remember-key');
/** `--remember-key`: the master key the engine last reported, given to the next task as the daemon gives it. */
let rememberedKey: unknown = null;
const BINARY = path.resolve(textOption('--binary', new URL('../dist/cairn-linux-x64', import.meta.url).pathname));


/** The repository as the child gets it: a local folder, or `{"sftp": <config>, "password": …}` (JSON) for one on an SFTP server. */
async function openBackend(where: string) {
  const { LocalBackend } = await import('../src/repository/index.ts');
  if (!where.startsWith('{')) return { backend: new LocalBackend(where), close: async () => undefined };
  const { sftp, password } = JSON.parse(where);
  const { openRepositoryBackend } = await import('../src/destinations/repository-backends.ts');
  // The bench's own server: its host key is taken as it comes.
  const backend = await openRepositoryBackend('sftp', sftp, { password }, { check: async () => 'matched' });
  return { backend, close: () => backend.close() };
}

/** In the child: one Cairn operation, then its own time and peak RSS as JSON on stdout. */
async function child(operation: string, args: string[]): Promise<void> {
  const { backup, check, forget, initRepository, openRepository, prune, restore } = await import('../src/repository/index.ts');
  const { emptyRetentionPolicy } = await import('../src/domain/retention.ts');
  const started = process.hrtime.bigint();
  const [repoWhere, other] = args;
  const { backend, close } = await openBackend(repoWhere);
  const repo = operation === 'init' ? await initRepository(backend, PASSWORD, { version: other === '2' ? 2 : 1 }) : await openRepository(backend, PASSWORD);
  if (operation === 'backup') {
    await repo.loadIndex();
    await backup(repo, { paths: [other] });
  } else if (operation === 'restore') {
    await repo.loadIndex();
    await restore(repo, { snapshot: 'latest', target: other });
  } else if (operation === 'forget') {
    await forget(repo, { ...emptyRetentionPolicy(), keep_last: 1 }, { now: new Date(), timeZone: 'UTC' });
  } else if (operation === 'prune') {
    await repo.loadIndex();
    await prune(repo);
  } else if (operation === 'check') {
    const { errors } = await check(repo);
    if (errors.length > 0) throw new Error(`check found ${errors.length} errors`);
  }
  await close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

interface Measured {
  seconds: number;
  /** User + system CPU seconds of the process (and its children): the figure that holds on a loaded machine. */
  cpuSeconds: number;
  peakRssMb: number;
  engineSeconds?: number;
}

function timed(program: string, args: string[], env: NodeJS.ProcessEnv): Measured {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'peak-rss-kb=%M cpu=%U+%S', program, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const peak = Number(result.stderr.match(/peak-rss-kb=(\d+)/)?.[1] ?? NaN) / 1024;
  const cpu = result.stderr.match(/cpu=([\d.]+)\+([\d.]+)/);
  const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
  const inner = result.stdout.startsWith('{"seconds"') ? (JSON.parse(result.stdout) as { seconds: number }).seconds : undefined;
  return { seconds, cpuSeconds, peakRssMb: peak, engineSeconds: inner };
}

/**
 * One task run by the binary's engine process as the daemon runs it: the task sent over the IPC
 * channel, host keys taken as they come (the bench's own server), under GNU time for its peak RSS
 * and CPU. Resolves with the figures and the task's result.
 */
function workerTask(task: Record<string, unknown>): Promise<Measured & { result: unknown }> {
  const started = process.hrtime.bigint();
  let answered = 0n;
  // As the installed daemon starts it: the unit's environment, then the engine's own.
  const env = { ...process.env, ...serviceEnvironment(), ...ENGINE_ENVIRONMENT };
  const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kb=%M cpu=%U+%S', BINARY, 'repository-worker'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', env });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let outcome: { type: string; result?: unknown; error?: { message: string } } | null = null;
  child.on('message', (message: { type: string; id?: number; result?: unknown; error?: { message: string }; key?: unknown }) => {
    if (message.type === 'host-key') child.send({ type: 'host-key', id: message.id, answer: 'matched' });
    else if (message.type === 'key') rememberedKey = message.key;
    else if (message.type === 'done' || message.type === 'failed') {
      answered = process.hrtime.bigint();
      outcome = message;
    }
  });
  child.send({ type: 'start', start: task });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0 || outcome?.type !== 'done') return reject(new Error(`the engine's ${task.op} failed (${code}): ${outcome?.error?.message ?? ''} ${stderr.slice(-2000)}`));
      const peak = Number(stderr.match(/peak-rss-kb=(\d+)/)?.[1] ?? NaN) / 1024;
      const cpu = stderr.match(/cpu=([\d.]+)\+([\d.]+)/);
      resolve({ seconds, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, peakRssMb: peak, engineSeconds: Number(answered - started) / 1e9, result: outcome.result });
    });
  });
}

/** Where the engine finds the repository: the daemon's destination type, config and secret for it. */
let enginePlace: Record<string, unknown> = {};
const engineTask = (task: Record<string, unknown>) => workerTask({ ...enginePlace, password: PASSWORD, ...(REMEMBER_KEY ? { rememberedKey } : {}), ...task });
const ENGINE_TAG = 'cairn-job-1';

let bundle = '';
/** `--prof DIR`: each Cairn child writes a V8 CPU profile there (for `node --cpu-prof` reading). */
const PROFILE_DIR = textOption('--prof');
const cairn = (operation: string, ...args: string[]) =>
  timed(process.execPath, [...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${operation}-${Date.now()}.cpuprofile`] : []), bundle, '--child', operation, ...args], process.env);

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Log-like text from random words, to cut small text files from (at random offsets, so no two are alike). */
function textPool(bytes: number): Buffer {
  const words = Array.from({ length: 2000 }, () => randomBytes(6).toString('base64url'));
  const lines: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const line = `2026-12-05T${String(i % 24).padStart(2, '0')}:00:00Z host${i % 7} ${Array.from({ length: 8 }, (_, w) => words[(i * 31 + w * 97 + (i >> 3)) % words.length]).join(' ')} n=${i}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

/**
 * FILES files, ~BYTES in all: mostly small files and a few large ones, 100 per folder; random bytes,
 * or with `text` every other small file cut from `text` (compressible).
 */
function generate(root: string, files: number, bytes: number, text?: Buffer): string[] {
  const large = Math.max(1, Math.floor(files / 500));
  const largeSize = Math.floor(bytes / 2 / large);
  const smallSize = Math.floor(bytes / 2 / (files - large));
  const names: string[] = [];
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const size = i % 500 === 0 ? largeSize : (i * 7919) % (smallSize * 2);
    const name = path.join(dir, `file-${i}.dat`);
    const start = text && i % 2 === 1 && size < text.length ? (i * 104729) % (text.length - size) : -1;
    writeFileSync(name, start >= 0 ? text!.subarray(start, start + size) : randomBytes(size));
    names.push(name);
  }
  return names;
}

/** The table: wall time (engine inside the child, and the whole process), CPU seconds (user + system) and peak RSS of each side; `uptime` says how loaded the machine was. */
function printRows(rows: Array<[string, Measured, Measured]>): void {
  console.log(`\nuptime: ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}`);
  console.log('\n| step | Cairn engine s | Cairn process s | restic s | wall ratio | Cairn CPU s | restic CPU s | CPU ratio | Cairn peak RSS MB | restic peak RSS MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [step, c, r] of rows) {
    console.log(
      `| ${step} | ${c.engineSeconds?.toFixed(2)} | ${c.seconds.toFixed(2)} | ${r.seconds.toFixed(2)} | ${(c.seconds / r.seconds).toFixed(2)}× | ${c.cpuSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${(c.cpuSeconds / r.cpuSeconds).toFixed(2)}× | ${c.peakRssMb.toFixed(0)} | ${r.peakRssMb.toFixed(0)} |`,
    );
  }
}

async function main(): Promise<void> {
  const FILES = numberOption('--files', 10_000);
  const BYTES = numberOption('--bytes', 200_000_000);
  const work = path.join(textOption('--dir', '/var/tmp'), `cairn-bench-repository-${process.pid}`);
  const source = path.join(work, 'source');
  // Not a literal: esbuild must not bundle the test servers into the child's bundle.
  const servers = '../test/servers.ts';
  const server = process.argv.includes('--sftp') ? await (import(servers) as Promise<typeof import('../test/servers.ts')>).then((m) => m.startSftpServer()) : null;
  const reposRoot = server ? server.root : work;
  const cairnRepo = path.join(reposRoot, 'cairn-repo');
  const resticRepo = path.join(reposRoot, 'restic-repo');
  const cairnWhere = server
    ? JSON.stringify({ sftp: { host: server.host, port: server.port, username: server.username, remote_path: cairnRepo, key_based_auth: false }, password: server.password })
    : cairnRepo;
  const resticWhere = server
    ? [
        '-r',
        `sftp:${server.username}@127.0.0.1:${resticRepo}`,
        '-o',
        `sftp.command=ssh -p ${server.port} -i ${path.join(server.dir, 'client_key')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes ${server.username}@127.0.0.1 -s sftp`,
      ]
    : ['-r', resticRepo];
  const resticEnv = { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(work, 'restic-cache') };
  const restic = (...args: string[]) => timed('restic', [...resticWhere, '-q', ...args], resticEnv);
  try {
    mkdirSync(work, { recursive: true });
    bundle = path.join(work, 'cairn-bench.mjs');
    const esbuild = await import('esbuild');
    // The CommonJS packages the store pulls in need `require` inside an ES module bundle.
    // ssh2 also reads __dirname (for a Windows helper it never runs here).
    const banner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); const __dirname = new URL('.', import.meta.url).pathname;";
    // ssh2's optional native speed-ups stay outside the bundle (it runs without them when absent).
    esbuild.buildSync({ entryPoints: [SELF], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error', banner: { js: banner }, external: ['cpu-features', '*.node'] });
    // The zstd library's WebAssembly file, beside the bundle, where the library looks for it.
    const zstdMain = new URL(import.meta.resolve('@bokuweb/zstd-wasm')).pathname;
    copyFileSync(path.join(path.dirname(zstdMain), 'zstd.wasm'), path.join(work, 'zstd.wasm'));
    const names = generate(source, FILES, BYTES, COMPRESSION ? textPool(16 * 1024 * 1024) : undefined);
    console.log(`tree: ${FILES} files, ${(dirBytes(source) / 1e6).toFixed(1)} MB in ${source}; repositories ${server ? `on the SFTP server at 127.0.0.1:${server.port}` : 'local'}`);
    enginePlace = server
      ? { destinationType: 'sftp', config: JSON.parse(cairnWhere).sftp, secret: { password: server.password } }
      : { destinationType: 'local', config: { mount_point: work, backup_subdir: 'cairn-repo' }, secret: null };
    if (DAEMON) {
      await daemonRuns(source, enginePlace);
      return;
    }
    cairn('init', cairnWhere, COMPRESSION ? '2' : '1');
    if (COMPRESSION) restic('init', '--repository-version', '2', '--compression', 'auto');
    else restic('init', '--repository-version', '1');
    const engine = IN_PROCESS ? `in a child of this bench (Node ${process.version})` : `the binary's engine process (${path.relative(process.cwd(), BINARY)} repository-worker)`;
    console.log(`format version ${COMPRESSION ? '2, compression auto' : '1'} on both; Cairn: ${engine} (zstd: ${IN_PROCESS ? await zstdKind() : 'node:zlib'}); ${REMEMBER_KEY ? 'the master key remembered between tasks' : 'every task opens by the password (scrypt)'}`);
    const backupStep = async () => (IN_PROCESS ? cairn('backup', cairnWhere, source) : engineTask({ op: 'backup', sources: [source], tags: ['cairn', ENGINE_TAG], jobTag: ENGINE_TAG, upkeep: null }));
    const rows: Array<[string, Measured, Measured]> = [];
    rows.push(['initial backup', await backupStep(), restic('backup', source)]);
    rows.push(['no-change rerun', await backupStep(), restic('backup', source)]);
    for (let i = 50; i < names.length; i += 100) writeFileSync(names[i], randomBytes(statSync(names[i]).size || 1000));
    rows.push(['1% changed', await backupStep(), restic('backup', source)]);
    const stored = () => `bytes stored: Cairn ${(dirBytes(cairnRepo) / 1e6).toFixed(1)} MB, restic ${(dirBytes(resticRepo) / 1e6).toFixed(1)} MB (source ${(dirBytes(source) / 1e6).toFixed(1)} MB)`;
    // `--backup-only`: the three backups alone (what the backup side's targets are about).
    if (process.argv.includes('--backup-only')) {
      printRows(rows);
      console.log(`\n${stored()}`);
      return;
    }
    const cairnOut = path.join(work, 'cairn-out');
    if (IN_PROCESS) rows.push(['full restore', cairn('restore', cairnWhere, cairnOut), restic('restore', 'latest', '--target', path.join(work, 'restic-out'))]);
    else {
      const listed = (await engineTask({ op: 'list' })).result as Array<{ id: string; time: string }>;
      const latest = listed.reduce((a, b) => (Date.parse(b.time) >= Date.parse(a.time) ? b : a));
      rows.push(['full restore', await engineTask({ op: 'restore', snapshot: latest.id, target: cairnOut, paths: null }), restic('restore', 'latest', '--target', path.join(work, 'restic-out'))]);
    }
    for (let i = 0; i < names.length; i += 3) rmSync(names[i]);
    rows.push(['backup, a third deleted', await backupStep(), restic('backup', source)]);
    const beforePrune = [dirBytes(cairnRepo), dirBytes(resticRepo)];
    if (IN_PROCESS) {
      rows.push(['forget --keep-last 1', cairn('forget', cairnWhere), restic('forget', '--keep-last', '1')]);
      rows.push(['prune (5% unused)', cairn('prune', cairnWhere), restic('prune')]);
    } else {
      const { emptyRetentionPolicy } = await import('../src/domain/retention.ts');
      const upkeep = { policy: { ...emptyRetentionPolicy(), keep_last: 1 }, timezone: 'UTC', jobTag: ENGINE_TAG };
      rows.push(['forget --keep-last 1 + prune', await engineTask({ op: 'prune', upkeep }), restic('forget', '--keep-last', '1', '--prune')]);
    }
    const freed = [beforePrune[0] - dirBytes(cairnRepo), beforePrune[1] - dirBytes(resticRepo)];
    rows.push(['check (structure)', IN_PROCESS ? cairn('check', cairnWhere) : await engineTask({ op: 'verify', percent: 0, jobTag: ENGINE_TAG }), restic('check')]);
    printRows(rows);
    console.log(`\nprune freed: Cairn ${(freed[0] / 1e6).toFixed(1)} MB, restic ${(freed[1] / 1e6).toFixed(1)} MB`);
    console.log(`\n${stored()}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (server) {
      await server.stop();
      rmSync(server.dir, { recursive: true, force: true });
    }
  }
}

/** The daemon's RSS now, in MB (VmRSS), and its peak so far (VmHWM). */
function rssOf(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * `--daemon`: the binary's daemon, a repository job of `source` run through its API twice (initial,
 * no change); the daemon's RSS at rest before and after each run and its peak during it, and the
 * peak of the engine process the run started (sampled every 50 ms from /proc, so a little low).
 */
async function daemonRuns(source: string, place: Record<string, unknown>): Promise<void> {
  // Not literals: esbuild must not bundle the test helpers into the child's bundle.
  const helpersPath = '../test/helpers.ts';
  const { ApiClient, spawnDaemonProcess, tempDir } = (await import(helpersPath)) as typeof import('../test/helpers.ts');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const REST_MS = numberOption('--rest', 15) * 1000;
  const dataDir = tempDir('cairn-bench-daemon-');
  const daemon = await spawnDaemonProcess(dataDir, { CAIRN_ALLOWED_PATHS: path.dirname(source) }, [BINARY]);
  try {
    const pid = daemon.child.pid!;
    const api = new ApiClient(daemon.url);
    await api.setupAdmin();
    const job = await api.post('/api/jobs', {
      name: 'Bench',
      source_dirs: [source],
      destination_type: place.destinationType,
      destination_config: { ...(place.config as object), ...(place.destinationType === 'local' ? { backup_subdir: 'daemon-repo' } : {}) },
      backup_mode: 'repository',
    });
    if (job.status !== 201) throw new Error(`job not created: ${JSON.stringify(job.body)}`);
    await sleep(REST_MS);
    console.log(`daemon ${path.relative(process.cwd(), BINARY)} pid ${pid}; RSS in MB, at rest = ${REST_MS / 1000} s after`);
    console.log('| run | daemon at rest before | daemon peak during | daemon at rest after | engine process peak | run status |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const label of ['initial backup', 'no-change rerun']) {
      const before = rssOf(pid).now;
      let enginePeak = 0;
      let daemonPeak = before;
      const started = await api.post(`/api/jobs/${job.body.id}/run`);
      if (started.status !== 200) throw new Error(`run not started: ${JSON.stringify(started.body)}`);
      let status = 'running';
      while (status === 'running' || status === 'queued') {
        daemonPeak = Math.max(daemonPeak, rssOf(pid).now);
        for (const child of childrenOf(pid)) enginePeak = Math.max(enginePeak, rssOf(child).peak || 0);
        await sleep(50);
        status = (await api.get(`/api/runs/${started.body.run_id}`)).body.status;
      }
      await sleep(REST_MS);
      console.log(`| ${label} | ${before.toFixed(0)} | ${daemonPeak.toFixed(0)} | ${rssOf(pid).now.toFixed(0)} | ${enginePeak.toFixed(0)} | ${status} |`);
    }
  } finally {
    await daemon.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(readFileSync(`/proc/${name}/status`, 'utf8').match(/^PPid:\s+(\d+)/m)?.[1]) === pid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Which zstd the engine uses in this Node. */
async function zstdKind(): Promise<string> {
  const { loadZstd } = await import('../src/repository/zstd.ts');
  return (await loadZstd())?.kind ?? 'none';
}

if (IS_CHILD) await child(process.argv[3], process.argv.slice(4));
else await main();
