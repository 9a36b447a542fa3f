/**
 * Benchmark of snapshot runs through the daemon's API (issue 13): a generated tree (default 100,000
 * files, ~400 MB) with 1% of its files changed, snapshotted by a `snapshots` job's run and by bare
 * `rsync -a --link-dest` in the same run, side by side; the space the new snapshot takes; the
 * daemon's peak RSS; and a prune run (`POST /jobs/:id/retention/apply`) removing 99 of 100 snapshots.
 *
 *   node --import tsx bench/snapshot-runs.ts [--files 100000] [--bytes 400000000] [--rounds 3] [--dir /dev/shm] [--prune-files 1000]
 * A run is timed from the POST that starts it to the status WebSocket's `job_completed` frame for it
 * (as a phone learns it; no polling); both sides alternate which goes first. The CPU
 * seconds of each side (the daemon with its rsync, bare rsync) are printed too: on a loaded machine
 * they compare better than wall time. Removes what it made.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { listSnapshots } from '../src/history/index.ts';
import { ApiClient, spawnDaemonProcess, type DaemonProcess } from '../test/helpers.ts';
import { peakRssMb } from '../test/process-memory.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const BYTES = numberOption('--bytes', 400_000_000);
const ROUNDS = numberOption('--rounds', 3);
const PRUNE_FILES = numberOption('--prune-files', 1000);
const work = path.join(textOption('--dir', '/dev/shm'), `cairn-bench-snapshot-runs-${process.pid}`);
const source = path.join(work, 'source', 'data');
/** The jobs' mount point: beside the daemon's data dir, which no job may hold. */
const destination = path.join(work, 'dest');
const cairnRoot = path.join(destination, 'cairn');
// Bare rsync's copies sit as deep as the job's snapshots (dest/<folder>/<copy>/data): rsync ≥ 3.4 opens
// each component of the --link-dest path once or twice per file, so a deeper path costs it more.
const rsyncRoot = path.join(destination, 'rsync');

/** Changes 1% of the files generateTree made (same size, new bytes, new mtime); returns the bytes changed. */
function changeOnePercent(round: number): number {
  let bytes = 0;
  for (let i = round; i < FILES; i += 100) {
    const file = path.join(source, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`, `file-${i}.dat`);
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size, `changed in round ${round} `));
    utimesSync(file, new Date(), new Date(Date.now() + round * 1000));
    bytes += size;
  }
  return bytes;
}

/**
 * Starts a run (or another POST that answers a run id) and waits for the status WebSocket's
 * `job_completed` frame for it, as a phone or the TUI learns a run ended: seconds taken and the run.
 * Polling the run every 50 ms instead cost the daemon ~0.6 s of CPU per 13 s run, which the figures
 * put on the snapshot's account. A socket per run: bare rsync's turn blocks this process longer
 * than the server's heartbeat, which then closes an idle socket.
 */
async function timedRun(client: ApiClient, url: string): Promise<{ seconds: number; run: any }> {
  // After a long idle stretch (rsync's turn) pooled connections may have been closed under us: a
  // request that fails on a closed socket is tried again, a few times.
  const retried = async <T>(request: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await request();
      } catch (error) {
        if (attempt === 4) throw error;
      }
    }
  };
  const token = (await retried(() => client.get('/api/auth/token'))).body.token;
  const socket = new WebSocket(`${client.baseUrl.replace(/^http/, 'ws')}/api/ws/status?token=${token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  try {
    const frames = new Map<number, any>();
    let arrived = () => {};
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type !== 'job_completed') return;
      frames.set(frame.run_id, frame);
      arrived();
    });
    const closed = new Promise<never>((_, reject) => socket.once('close', () => reject(new Error('the status socket closed before the run ended'))));
    closed.catch(() => undefined);
    const started = process.hrtime.bigint();
    const runId = (await retried(() => client.post(url))).body.run_id;
    while (!frames.has(runId)) await Promise.race([new Promise<void>((resolve) => (arrived = resolve)), closed]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const frame = frames.get(runId);
    if (frame.status !== 'completed') throw new Error(`run ${frame.status}: ${frame.error_message}`);
    return { seconds, run: (await retried(() => client.get(`/api/runs/${runId}`))).body };
  } finally {
    socket.close();
  }
}

/**
 * CPU seconds from /proc (Linux), stable under load unlike wall time: of `pid` itself (for the
 * daemon: Node) and of its waited-for children (rsync); for 'self', the children only (bare rsync).
 */
function cpuSeconds(pid: number | 'self'): { own: number; children: number; total: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime: fields 14–17 of proc(5), indexes 11–14 after the name.
  const own = pid === 'self' ? 0 : (Number(fields[11]) + Number(fields[12])) / 100;
  const children = (Number(fields[13]) + Number(fields[14])) / 100;
  return { own, children, total: own + children };
}

/** Bytes `dir` uses that `shared` does not already hold (du counts a hard-linked file once). */
function ownBytes(shared: string, dir: string, apparent: boolean): number {
  const du = (paths: string[]) => Number(execFileSync('du', ['-s', '-c', apparent ? '-b' : '--block-size=1', ...paths], { encoding: 'utf8' }).trim().split('\n').at(-1)!.split('\t')[0]);
  return du([shared, dir]) - du([shared]);
}

async function createSnapshotsJob(client: ApiClient, name: string, from: string, subdir: string, retention = {}): Promise<number> {
  const job = await client.post('/api/jobs', {
    name,
    source_dirs: [from],
    destination_type: 'local',
    destination_config: { mount_point: destination, backup_subdir: subdir },
    backup_mode: 'snapshots',
    retention,
  });
  if (job.status !== 201) throw new Error(`job not created: ${JSON.stringify(job.body)}`);
  return job.body.id;
}

async function snapshotRace(client: ApiClient, daemon: DaemonProcess) {
  const jobId = await createSnapshotsJob(client, 'bench', source, 'cairn');
  const first = await timedRun(client, `/api/jobs/${jobId}/run`);
  mkdirSync(path.join(rsyncRoot, 'r0'), { recursive: true });
  execFileSync('rsync', ['-a', `${source}/`, path.join(rsyncRoot, 'r0', 'data/')]);
  console.log(`first snapshot (everything new) through the API: ${first.seconds.toFixed(2)} s`);

  const cairnTimes: number[] = [];
  const rsyncTimes: number[] = [];
  const cairnCpu: number[] = [];
  const daemonOwnCpu: number[] = [];
  const rsyncCpu: number[] = [];
  let changed = 0;
  for (let round = 1; round <= ROUNDS; round += 1) {
    changed = changeOnePercent(round);
    execFileSync('sync');
    mkdirSync(path.join(rsyncRoot, `r${round}`));
    const runRsync = async () => {
      const started = process.hrtime.bigint();
      const cpu = cpuSeconds('self');
      execFileSync('rsync', ['-a', `--link-dest=${path.join(rsyncRoot, `r${round - 1}`, 'data/')}`, `${source}/`, path.join(rsyncRoot, `r${round}`, 'data/')]);
      rsyncTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
      rsyncCpu.push(cpuSeconds('self').total - cpu.total);
    };
    const runCairn = async () => {
      const cpu = cpuSeconds(daemon.child.pid!);
      cairnTimes.push((await timedRun(client, `/api/jobs/${jobId}/run`)).seconds);
      const after = cpuSeconds(daemon.child.pid!);
      cairnCpu.push(after.total - cpu.total);
      daemonOwnCpu.push(after.own - cpu.own);
    };
    for (const side of round % 2 ? [runRsync, runCairn] : [runCairn, runRsync]) await side();
  }
  return { cairnTimes, rsyncTimes, cairnCpu, daemonOwnCpu, rsyncCpu, changed, rss: peakRssMb(daemon.child.pid!) };
}

/** 100 snapshots of a small tree through the API, then keep_last 1 applied by a prune run. */
async function pruneBench(client: ApiClient): Promise<{ seconds: number; removed: number }> {
  const small = path.join(work, 'small', 'data');
  mkdirSync(small, { recursive: true });
  generateTree(small, PRUNE_FILES, PRUNE_FILES * 4000);
  const jobId = await createSnapshotsJob(client, 'prune bench', small, 'prune');
  for (let i = 0; i < 100; i += 1) await timedRun(client, `/api/jobs/${jobId}/run`);
  const before = (await listSnapshots(path.join(destination, 'prune'))).length;
  await client.put(`/api/jobs/${jobId}`, { retention: { keep_last: 1 } });
  const { seconds } = await timedRun(client, `/api/jobs/${jobId}/retention/apply`);
  return { seconds, removed: before - (await listSnapshots(path.join(destination, 'prune'))).length };
}

async function main() {
  mkdirSync(source, { recursive: true });
  mkdirSync(destination);
  console.log(`generating ${FILES} files, ~${Math.round(BYTES / 1e6)} MB in ${work} …`);
  generateTree(source, FILES, BYTES);
  // The tree sits outside the test root (/dev/shm): the daemon is told it may read and write there.
  const daemon = await spawnDaemonProcess(path.join(work, 'data-dir'), { CAIRN_ALLOWED_PATHS: work });
  try {
    const client = new ApiClient(daemon.url);
    await client.setupAdmin();
    const { cairnTimes, rsyncTimes, cairnCpu, daemonOwnCpu, rsyncCpu, changed, rss } = await snapshotRace(client, daemon);
    const [newest, previous] = await listSnapshots(cairnRoot);
    const fmt = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
    console.log(`\nnew snapshot, ${FILES} files, 1% (${FILES / 100} files, ${changed} bytes) changed, ${ROUNDS} rounds, ${os.cpus().length} cores:`);
    console.log(`  cairn run (API)         ${fmt(cairnTimes)} s   median ${median(cairnTimes).toFixed(2)} s   (target ≤ 3 s)`);
    console.log(`  rsync -a --link-dest    ${fmt(rsyncTimes)} s   median ${median(rsyncTimes).toFixed(2)} s`);
    console.log(`  ratio cairn / rsync     ${(median(cairnTimes) / median(rsyncTimes)).toFixed(2)}×   (target ≤ 1.1×)`);
    console.log(`  CPU: daemon + its rsync ${fmt(cairnCpu)} s   median ${median(cairnCpu).toFixed(2)} s`);
    console.log(`   of which Node itself  ${fmt(daemonOwnCpu)} s   median ${median(daemonOwnCpu).toFixed(2)} s (the rest: the daemon's rsync)`);
    console.log(`  CPU: bare rsync         ${fmt(rsyncCpu)} s   median ${median(rsyncCpu).toFixed(2)} s   ratio ${(median(cairnCpu) / median(rsyncCpu)).toFixed(2)}×`);
    console.log(`  daemon peak RSS         ${rss.toFixed(0)} MB`);
    console.log(`  load (1/5/15 min)       ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')}; ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
    console.log(`space of the newest snapshot beyond the one before it:`);
    console.log(`  recorded bytes_added    ${newest.bytes_added} (changed bytes ${changed})`);
    console.log(`  du --apparent (-b)      ${ownBytes(previous.path, newest.path, true)} bytes`);
    console.log(`  du on disk              ${ownBytes(previous.path, newest.path, false)} bytes (changed files' blocks + directories + manifest + summary)`);
    const prune = await pruneBench(client);
    console.log(`prune run: ${prune.removed} of 100 snapshots of ${PRUNE_FILES} files removed in ${prune.seconds.toFixed(2)} s (keep_last 1, POST …/retention/apply to finished)`);
  } finally {
    await daemon.kill();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
