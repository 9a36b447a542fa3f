/**
 * Benchmark of the local destination: a generated tree (default 100,000 files, ~400 MB) backed up
 * through the daemon's API, by bare `rsync -a` and by `rclone sync` local to local, same machine,
 * same run, printed side by side. Also: the daemon's peak RSS (before any run, and sampled through
 * each run, so a growth with the files shows apart from the start), the peak RSS of the rsync
 * processes the daemon starts and of bare `rsync -a` (each process's VmHWM, sampled every 200 ms,
 * summed over rsync's three processes: sender, generator, receiver), and the time to read the last
 * page of the run's log.
 *
 *   node --import tsx bench/local-rsync.ts [--files 100000] [--bytes 400000000] [--rounds 3] [--dir /dev/shm] [--binary dist/cairn-linux-x64] [--no-rclone] [--verbose] [--cold]
 * --binary runs the daemon from the single binary instead of the source under this Node.
 * --no-rclone leaves rclone out (its column reads 0); --verbose runs the job at `verbose` (every
 * entry rsync lists is a log line, up to the log's limit).
 * --cold empties the page cache (root) before the daemon starts, as on a box just booted or just
 * installed (scripts/install.sh drops the binary it wrote): a binary just built sits whole in the
 * cache, and the kernel then maps ~30 MB more of it into the daemon (file pages only).
 * The daemon gets the `Environment=` lines of systemd/cairn.service, as the service does.
 * --dir picks where the trees go: the default temp dir measures the real disk (noisy on shared
 * machines); /dev/shm (tmpfs) takes the disk out and shows Cairn's own overhead over rsync.
 * Each figure is the median of --rounds timings; the two sides alternate which goes first, and the
 * disk is synced (not timed) before each timing, since this kind of machine's disk is shared and noisy.
 * Needs a few GB free in the temp dir; removes what it made.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, spawnDaemonProcess } from '../test/helpers.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';
import { emptyPageCache, memoryNow, peakRssMb, serviceEnvironment, timedRun } from '../test/process-memory.ts';
import { childrenOf } from '../test/servers.ts';
import { waitFor } from '../test/trees.ts';

const FILES = numberOption('--files', 100_000);
const BYTES = numberOption('--bytes', 400_000_000);
const ROUNDS = numberOption('--rounds', 3);
const binaryOption = textOption('--binary');
const BINARY = binaryOption === undefined ? undefined : [path.resolve(binaryOption)];
const NO_RCLONE = process.argv.includes('--no-rclone');
const VERBOSE = process.argv.includes('--verbose');
const COLD = process.argv.includes('--cold');

const work = path.join(textOption('--dir', os.tmpdir()), `cairn-bench-${process.pid}`);
const source = path.join(work, 'source', 'data');
const viaCairn = path.join(work, 'via-cairn');
const viaRsync = path.join(work, 'via-rsync');
const viaRclone = path.join(work, 'via-rclone');

/** Flushes earlier writes so they do not slow the next timing; caches stay warm for both sides alike. */
function settle(): void {
  spawnSync('sync');
}

/** CPU seconds used by a process and its waited-for children (utime+stime+cutime+cstime). */
function cpuSeconds(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

const cpu = { cairnInitial: [] as number[], rsyncInitial: [] as number[], cairnRerun: [] as number[], rsyncRerun: [] as number[], rcloneInitial: [] as number[], rcloneRerun: [] as number[] };

let rclonePeakRssMb = 0;

/** rclone's local-to-local sync as its users run it (4 transfers, 8 checkers: its defaults made explicit). */
function timeRclone(cpuInto: number[]): number {
  settle();
  const run = timedRun('rclone', ['sync', '--transfers', '4', '--checkers', '8', source, `${viaRclone}/data`], { ...process.env, RCLONE_CONFIG: '/dev/null' });
  cpuInto.push(run.cpuSeconds);
  rclonePeakRssMb = Math.max(rclonePeakRssMb, run.peakRssMb);
  return run.seconds;
}

/**
 * Each rsync process's peak RSS (VmHWM, MB) in a process tree, by PID, sampled: a process keeps its
 * high-water mark until it exits, so sampling every 200 ms misses at most a last short rise.
 */
class TreePeaks {
  private readonly peaks = new Map<number, number>();

  /** Notes the peaks of `pid`'s descendants (and of `pid` itself with `self`). */
  sample(pid: number, self = false): void {
    if (self) this.note(pid);
    for (const child of childrenOf(pid)) {
      this.note(child);
      this.sample(child);
    }
  }

  /** The largest process's peak and the sum of every process's peak, MB. */
  get figures(): { largest: number; sum: number; count: number } {
    const values = [...this.peaks.values()];
    return { largest: Math.max(0, ...values), sum: values.reduce((a, b) => a + b, 0), count: values.length };
  }

  private note(pid: number): void {
    try {
      // Only rsync's processes: the daemon may start other short-lived helpers.
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'rsync') return;
      const peak = peakRssMb(pid);
      // A process that has exited but is not yet reaped has no VmHWM line any more.
      if (Number.isFinite(peak)) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, peak));
    } catch {
      // ended meanwhile
    }
  }
}

/** Peaks of rsync's processes per side: the largest run's sum and the largest process seen. */
const rsyncPeaks = { cairn: { largest: 0, sum: 0 }, bare: { largest: 0, sum: 0 } };

function notePeaks(side: keyof typeof rsyncPeaks, peaks: TreePeaks): void {
  const { largest, sum } = peaks.figures;
  rsyncPeaks[side] = { largest: Math.max(rsyncPeaks[side].largest, largest), sum: Math.max(rsyncPeaks[side].sum, sum) };
}

/** Bare `rsync -a`, its processes' peaks sampled the same way as the daemon's rsync. */
async function timeRsync(cpuInto: number[]): Promise<number> {
  settle();
  const cpuBefore = cpuSeconds('self');
  const started = process.hrtime.bigint();
  const child = spawn('rsync', ['-a', `${source}/`, `${viaRsync}/data/`], { stdio: 'ignore' });
  const peaks = new TreePeaks();
  const sampler = setInterval(() => peaks.sample(child.pid!, true), 200);
  const [code] = (await once(child, 'exit').finally(() => clearInterval(sampler))) as [number | null];
  if (code !== 0) throw new Error(`rsync failed (${code})`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Waited-for children's CPU lands in this process's cutime/cstime.
  cpuInto.push(cpuSeconds('self') - cpuBefore);
  notePeaks('bare', peaks);
  return seconds;
}

const samples = (values: number[]) => values.map((v) => v.toFixed(1)).join(' / ');
const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();

async function main() {
  mkdirSync(viaCairn, { recursive: true });
  mkdirSync(viaRsync, { recursive: true });
  mkdirSync(viaRclone, { recursive: true });
  console.log(`Generating ${FILES} files, ~${Math.round(BYTES / 1e6)} MB in ${source} …`);
  generateTree(source, FILES, BYTES);

  // The tree may sit outside the test root (--dir /dev/shm): the daemon is told it may read it.
  if (COLD && !emptyPageCache()) throw new Error('--cold needs root (it writes /proc/sys/vm/drop_caches)');
  const daemon = await spawnDaemonProcess(path.join(work, 'data-dir'), { CAIRN_ALLOWED_PATHS: work, ...serviceEnvironment() }, BINARY);
  const client = new ApiClient(daemon.url);
  await client.setupAdmin();
  const job = await client.post('/api/jobs', {
    name: 'bench',
    source_dirs: [source],
    destination_type: 'local',
    destination_config: { mount_point: viaCairn, backup_subdir: '', auto_mount: false, auto_unmount: false },
    ...(VERBOSE ? { sync_options: { verbosity: 'verbose' } } : {}),
  });
  if (job.status !== 201) throw new Error(JSON.stringify(job.body));
  // The kernel's high-water mark before any run: start, the owner's setup (scrypt), the job.
  const startPeakMb = peakRssMb(daemon.child.pid!);
  const runPeaks = { daemon: [] as number[] };

  /**
   * Prints a side's figures as soon as they are had (a long run that fails later keeps them), then
   * removes its copy: tmpfs has ~3 inodes per 1 MB of RAM, and at a million files the source and
   * three copies do not fit in /dev/shm's (each round starts from empty folders anyway).
   */
  const done = (side: string, initial: number, rerun: number, copy: string) => {
    console.log(`${side}: initial ${initial.toFixed(2)} s, no-change ${rerun.toFixed(2)} s; ${uptime()}`);
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy, { recursive: true });
  };

  const runThroughCairn = async (cpuInto: number[]) => {
    settle();
    const started = process.hrtime.bigint();
    const cpuBefore = cpuSeconds(daemon.child.pid!);
    // After a long idle stretch the pooled connection may have been closed under us; try once more.
    const start = () => client.post(`/api/jobs/${job.body.id}/run`);
    const runId = (await start().catch(start)).body.run_id;
    // The daemon's RSS and its rsync processes' peaks, sampled: which phase reached the high-water mark.
    let daemonPeak = 0;
    const peaks = new TreePeaks();
    const sample = () => {
      daemonPeak = Math.max(daemonPeak, memoryNow(daemon.child.pid!).rssMb);
      peaks.sample(daemon.child.pid!);
    };
    sample();
    const sampler = setInterval(sample, 200);
    const run = await waitFor('the run', async () => {
      const current = (await client.get(`/api/runs/${runId}`)).body;
      return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : null;
    }, 3_600_000).finally(() => clearInterval(sampler));
    runPeaks.daemon.push(daemonPeak);
    notePeaks('cairn', peaks);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    cpuInto.push(cpuSeconds(daemon.child.pid!) - cpuBefore);
    if (run.status !== 'completed') throw new Error(`run ${run.status}: ${run.error_message}`);
    return { seconds, run };
  };

  const times = { cairnInitial: [] as number[], rsyncInitial: [] as number[], cairnRerun: [] as number[], rsyncRerun: [] as number[], rcloneInitial: [] as number[], rcloneRerun: [] as number[] };
  let cairnInitial!: Awaited<ReturnType<typeof runThroughCairn>>;
  let cairnRerun!: Awaited<ReturnType<typeof runThroughCairn>>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const dir of [viaCairn, viaRsync, viaRclone]) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
    const sides = [
      async () => {
        cairnInitial = await runThroughCairn(cpu.cairnInitial);
        times.cairnInitial.push(cairnInitial.seconds);
        cairnRerun = await runThroughCairn(cpu.cairnRerun);
        times.cairnRerun.push(cairnRerun.seconds);
        done('cairn', cairnInitial.seconds, cairnRerun.seconds, viaCairn);
      },
      async () => {
        times.rsyncInitial.push(await timeRsync(cpu.rsyncInitial));
        times.rsyncRerun.push(await timeRsync(cpu.rsyncRerun));
        done('rsync', times.rsyncInitial.at(-1)!, times.rsyncRerun.at(-1)!, viaRsync);
      },
      async () => {
        if (NO_RCLONE) return;
        times.rcloneInitial.push(timeRclone(cpu.rcloneInitial));
        times.rcloneRerun.push(timeRclone(cpu.rcloneRerun));
        done('rclone', times.rcloneInitial.at(-1)!, times.rcloneRerun.at(-1)!, viaRclone);
      },
    ];
    if (round % 2 === 1) sides.reverse();
    for (const side of sides) await side();
  }
  const rsyncInitial = median(times.rsyncInitial);
  const rsyncRerun = median(times.rsyncRerun);
  const rss = peakRssMb(daemon.child.pid!);

  const logTimes: number[] = [];
  // After the other sides' long runs the pooled connection may have been closed under us: once more.
  const first = await client.request('GET', `/api/runs/${cairnInitial.run.id}/logs?limit=1`).catch(() => client.request('GET', `/api/runs/${cairnInitial.run.id}/logs?limit=1`));
  const total = Number(first.headers.get('x-total-count'));
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    const page = await client.get(`/api/runs/${cairnInitial.run.id}/logs?offset=${Math.max(0, total - 1000)}&limit=1000`);
    logTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (page.body.length === 0) throw new Error('empty last page');
  }
  await daemon.kill();

  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const rcloneInitial = NO_RCLONE ? 0 : median(times.rcloneInitial);
  const rcloneRerun = NO_RCLONE ? 0 : median(times.rcloneRerun);
  console.log(`\n${FILES} files, ${(cairnInitial.run.bytes_transferred / 1e6).toFixed(0)} MB, ${os.cpus().length} cores, in ${path.dirname(work)}${VERBOSE ? ', job at verbose' : ''}; ${uptime()}`);
  console.log(`                 cairn (API)   rsync -a     ratio   target`);
  const cairnInitialMedian = median(times.cairnInitial);
  const cairnRerunMedian = median(times.cairnRerun);
  console.log(`initial          ${cairnInitialMedian.toFixed(2).padStart(8)} s  ${rsyncInitial.toFixed(2).padStart(8)} s  ${ratio(cairnInitialMedian, rsyncInitial).padStart(6)}   ≤ 1.10×`);
  console.log(`no-change rerun  ${cairnRerunMedian.toFixed(2).padStart(8)} s  ${rsyncRerun.toFixed(2).padStart(8)} s  ${ratio(cairnRerunMedian, rsyncRerun).padStart(6)}   ≤ 1.25×`);
  console.log(`samples (s)      initial cairn ${samples(times.cairnInitial)} | rsync ${samples(times.rsyncInitial)}`);
  console.log(`                 rerun   cairn ${samples(times.cairnRerun)} | rsync ${samples(times.rsyncRerun)}`);
  console.log(`CPU (median s)   initial cairn ${median(cpu.cairnInitial).toFixed(2)} (daemon + its rsync) | rsync ${median(cpu.rsyncInitial).toFixed(2)}  ${ratio(median(cpu.cairnInitial), median(cpu.rsyncInitial))}`);
  console.log(`                 rerun   cairn ${median(cpu.cairnRerun).toFixed(2)} | rsync ${median(cpu.rsyncRerun).toFixed(2)}`);
  if (!NO_RCLONE) {
    // Issue 17's targets are against rclone (initial ≤ 1.2×, no-change ≤ 1.0×); those in the table above are the local destination's own, against bare rsync.
    console.log(`rclone sync      initial ${rcloneInitial.toFixed(2)} s (cairn ${ratio(cairnInitialMedian, rcloneInitial)}, target ≤ 1.20×), rerun ${rcloneRerun.toFixed(2)} s (cairn ${ratio(cairnRerunMedian, rcloneRerun)}, target ≤ 1.00×); CPU ${median(cpu.rcloneInitial).toFixed(2)} / ${median(cpu.rcloneRerun).toFixed(2)} s; samples ${samples(times.rcloneInitial)} | ${samples(times.rcloneRerun)}`);
  }
  const { cairn: daemonRsync, bare: bareRsync } = rsyncPeaks;
  console.log(`peak RSS         daemon ${rss.toFixed(0)} MB (target ≤ ${FILES >= 1_000_000 ? 250 : 150} MB) | rsync -a ${bareRsync.sum.toFixed(1)} MB (largest process ${bareRsync.largest.toFixed(1)}) | rclone ${rclonePeakRssMb.toFixed(0)} MB`);
  console.log(`                 daemon before any run ${startPeakMb.toFixed(0)} MB, sampled through each run ${samples(runPeaks.daemon)} MB`);
  console.log(`                 the daemon's rsync: ${daemonRsync.sum.toFixed(1)} MB summed over its processes (largest ${daemonRsync.largest.toFixed(1)} MB)`);
  console.log(`last log page    ${Math.min(...logTimes).toFixed(1)} ms best, ${Math.max(...logTimes).toFixed(1)} ms worst of 5 (${total} lines; target < 50 ms)`);
  console.log(`files counted    initial ${cairnInitial.run.files_transferred}, rerun ${cairnRerun.run.files_transferred}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
