/**
 * Benchmark of the remote destinations: a generated tree (default 10,000 files, ~200 MB) backed up
 * through the daemon's API and by `rclone sync` (Debian's rclone) to the same local test servers,
 * initial and no-change, printed side by side with the peak RSS of the daemon and of rclone.
 *
 *   node --import tsx bench/remote.ts [--files 10000] [--bytes 200000000] [--only sftp,s3,webdav] [--dir /dev/shm]
 * --profile DIR runs the daemon under `node --cpu-prof`, writing its CPU profile into DIR when it stops.
 * --node-flags "--max-semi-space-size=1 --trace-gc" starts the daemon's node with these flags (the
 * binary sets --max-semi-space-size=1, the source checkout does not); with --trace-gc the peak of V8's
 * heap (used, and committed) is printed beside the peak RSS, so the rest is known to be outside it.
 * --cairn PROGRAM runs that program as the daemon instead (a built binary, dist/cairn-linux-x64: what users run).
 * Servers are the test servers of test/servers.ts (OpenSSH, s3rver, rclone serve webdav) on 127.0.0.1,
 * so both sides pay the same server costs; each side writes to its own folder or prefix.
 * rclone is set up as its users would for each server, with every advantage it offers: 4 transfers and
 * 8 checkers, and for SFTP a pool of connections (Cairn sends 8 files at once over one connection); SFTP told the server has no shell (`shell_type none`: no
 * remote hash command per file, which made rclone's initial run 4× slower); S3 with `--fast-list` and
 * `--use-server-modtime --update` (one listing, no HEAD per object to read a modification time).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, REPO_ROOT, spawnDaemonProcess } from '../test/helpers.ts';
import { numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';
import { memoryNow, peakRssMb, timedRun } from '../test/process-memory.ts';
import { startS3Server, startSftpServer, startWebdavServer } from '../test/servers.ts';
import { waitFor } from '../test/trees.ts';

const FILES = numberOption('--files', 10_000);
const BYTES = numberOption('--bytes', 200_000_000);
const ONLY = textOption('--only', 'sftp,s3,webdav').split(',');
const PROFILE = textOption('--profile');
const NODE_FLAGS = textOption('--node-flags', '').split(' ').filter(Boolean);
const PROGRAM = textOption('--cairn');

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
  stop(): Promise<void>;
}

const obscure = (secret: string) => execFileSync('rclone', ['obscure', '-'], { input: secret, encoding: 'utf8' }).trim();

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
    const server = await startWebdavServer();
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
      stop: server.stop,
    });
  }
  return list;
}

function timeRclone(target: Target): { seconds: number; peakRssMb: number } {
  // AWS_CA_BUNDLE (set on some machines for proxies) makes rclone's S3 backend refuse to start.
  const { AWS_CA_BUNDLE: _ignored, ...env } = process.env;
  return timedRun('rclone', ['sync', '--transfers', '4', '--checkers', '8', ...target.rcloneFlags, source, target.rcloneRemote], { ...env, ...target.rcloneEnv, RCLONE_CONFIG: '/dev/null' });
}

/** The highest heap use and committed size in --trace-gc lines ("Scavenge 10.2 (12.3) -> 9.8 (13.3) MB"), or null without them. */
function peakHeap(output: string): { used: number; committed: number; collections: number } | null {
  let used = 0;
  let committed = 0;
  let collections = 0;
  for (const match of output.matchAll(/ ([\d.]+) \(([\d.]+)\) -> [\d.]+ \(([\d.]+)\) MB/g)) {
    collections++;
    used = Math.max(used, Number(match[1]));
    committed = Math.max(committed, Number(match[2]), Number(match[3]));
  }
  return collections > 0 ? { used, committed, collections } : null;
}

async function main() {
  console.log(`Generating ${FILES} files, ~${Math.round(BYTES / 1e6)} MB in ${source} …`);
  generateTree(source, FILES, BYTES);
  const rows: string[] = [];
  for (const target of await targets()) {
    // A fresh daemon per server, so each peak RSS belongs to one destination type.
    // The tree may sit outside the test root (--dir /dev/shm): the daemon is told it may read it.
    const profile = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(PROFILE)] : [];
    const cairn = PROGRAM ? [path.resolve(PROGRAM)] : [process.execPath, ...NODE_FLAGS, ...profile, path.join(REPO_ROOT, 'bin', 'cairn.mjs')];
    const daemon = await spawnDaemonProcess(path.join(work, `data-${target.type}`), { CAIRN_ALLOWED_PATHS: work }, cairn);
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
    // Private (anonymous) memory at its highest, sampled while Cairn runs: RSS less the program's own pages.
    let peakAnonymousMb = 0;
    const runThroughCairn = async () => {
      const sampler = setInterval(() => {
        peakAnonymousMb = Math.max(peakAnonymousMb, memoryNow(daemon.child.pid!).anonymousMb);
      }, 200);
      try {
        return await runOnce();
      } finally {
        clearInterval(sampler);
      }
    };
    const runOnce = async () => {
      const started = process.hrtime.bigint();
      const runId = (await client.post(`/api/jobs/${job.body.id}/run`)).body.run_id;
      const run = await waitFor(
        'the run',
        async () => {
          const current = (await client.get(`/api/runs/${runId}`)).body;
          return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : null;
        },
        3_600_000,
      );
      if (run.status !== 'completed') throw new Error(`${target.type} run ${run.status}: ${run.error_message}`);
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, files: run.files_transferred as number };
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
    rows.push(
      `${target.type.padEnd(7)} initial    ${cairnInitial.seconds.toFixed(2).padStart(7)} s  ${rcloneInitial.seconds.toFixed(2).padStart(7)} s  ${ratio(cairnInitial.seconds, rcloneInitial.seconds).padStart(6)}  ≤ 1.20×  (${cairnInitial.files} files)`,
      `${target.type.padEnd(7)} no-change  ${cairnRerun.seconds.toFixed(2).padStart(7)} s  ${rcloneRerun.seconds.toFixed(2).padStart(7)} s  ${ratio(cairnRerun.seconds, rcloneRerun.seconds).padStart(6)}  ≤ 1.00×  (${cairnRerun.files} files)`,
      `${target.type.padEnd(7)} peak RSS   ${rss.toFixed(0).padStart(7)} MB ${rcloneRss.toFixed(0).padStart(6)} MB           daemon ≤ ${FILES >= 1_000_000 ? 250 : 150} MB`,
      `${target.type.padEnd(7)} daemon: peak private ${peakAnonymousMb.toFixed(0)} MB${heap ? `, V8 heap at most ${heap.used.toFixed(0)} MB used / ${heap.committed.toFixed(0)} MB committed (${heap.collections} GCs)` : ''}${NODE_FLAGS.length ? ` [${NODE_FLAGS.join(' ')}]` : ''}`,
    );
    console.log(rows.slice(-4).join('\n'));
  }
  console.log(`\n${FILES} files, ~${Math.round(BYTES / 1e6)} MB, ${os.cpus().length} cores, servers on 127.0.0.1`);
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
