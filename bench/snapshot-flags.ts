/**
 * What each rsync option a snapshot run adds to bare `rsync -a --link-dest` costs (issue 13): on a
 * generated tree with 1% of its files changed since a first copy, rsync makes a new linked copy
 * with bare `-a --link-dest`, with each of the snapshot's other options added alone, and with the
 * snapshot's whole argv (rsyncArguments as createSnapshot calls it). Its stdout goes through a pipe
 * into this process, as into the daemon. Prints medians of wall time, CPU (user + sys of rsync and
 * its forks, GNU time) and the largest rsync process's peak RSS; the variants rotate which goes
 * first in each round. Say the load (uptime) with the figures.
 *
 *   node --import tsx bench/snapshot-flags.ts [--files 100000] [--bytes 400000000] [--rounds 3] [--dir /dev/shm]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rsyncArguments } from '../src/destinations/local/rsync-args.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const BYTES = numberOption('--bytes', 400_000_000);
const ROUNDS = numberOption('--rounds', 3);
const work = path.join(textOption('--dir', '/dev/shm'), `cairn-bench-snapshot-flags-${process.pid}`);
const source = path.join(work, 'source');
const previous = path.join(work, 'previous');

/** The snapshot's argv, less the paths: what each variant picks its options from. */
function snapshotArgs(target: string): string[] {
  return rsyncArguments({
    source,
    target,
    options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    fatLike: false,
    linkDest: previous,
    listUnchanged: true,
  });
}

const OUT_FORMAT = snapshotArgs('/x').find((arg) => arg.startsWith('--out-format='))!;
/** Options added to bare `-a --link-dest`, one variant each; `-ii` alone prints nothing without an output format. */
const VARIANTS: Array<[string, string[] | 'snapshot']> = [
  ['bare -a --link-dest', []],
  ['+ --out-format (changed items)', ['--8-bit-output', OUT_FORMAT]],
  ['+ --out-format -ii (every entry)', ['--8-bit-output', OUT_FORMAT, '-ii']],
  ['+ --stats', ['--stats']],
  ['+ --info=progress2', ['--info=progress2']],
  // Not in the snapshot's argv since issue 17 (rsync-args.ts); kept to show what the earlier argv cost.
  ['+ --no-inc-recursive (earlier argv)', ['--no-inc-recursive']],
  ['+ --delete', ['--delete']],
  ['snapshot argv (all of them)', 'snapshot'],
  ['snapshot argv less progress2', ['--8-bit-output', OUT_FORMAT, '-ii', '--stats', '--delete']],
];

interface Figures {
  wall: number;
  cpu: number;
  rssKb: number;
  stdoutBytes: number;
}

function timeVariant(target: string, extra: string[] | 'snapshot'): Figures {
  const args = extra === 'snapshot' ? snapshotArgs(target) : ['-a', ...extra, `--link-dest=${previous}/`, '--', `${source}/`, `${target}/`];
  const report = path.join(work, 'time.txt');
  const result = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %U %S %M', 'rsync', ...args], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1024 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`rsync failed (${result.status}): ${String(result.stderr).slice(-500)}`);
  const [wall, user, sys, rss] = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + sys, rssKb: rss, stdoutBytes: result.stdout.length };
}

function changeOnePercent(): number {
  let changed = 0;
  for (let i = 0; i < FILES; i += 100) {
    const file = path.join(source, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`, `file-${i}.dat`);
    writeFileSync(file, Buffer.alloc(statSync(file).size, 'changed '));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    changed += 1;
  }
  return changed;
}

function main(): void {
  execFileSync('/usr/bin/time', ['--version'], { stdio: 'ignore' });
  mkdirSync(source, { recursive: true });
  generateTree(source, FILES, BYTES);
  execFileSync('rsync', ['-a', `${source}/`, `${previous}/`]);
  const changed = changeOnePercent();
  const figures = VARIANTS.map(() => [] as Figures[]);
  const load = [os.loadavg()[0]];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const index = (k + round * 3) % VARIANTS.length;
        const target = path.join(work, 'target');
        figures[index].push(timeVariant(target, VARIANTS[index][1]));
        rmSync(target, { recursive: true, force: true });
      }
      load.push(os.loadavg()[0]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const base = median(figures[0].map((f) => f.cpu));
  console.log(`${FILES} files (${changed} changed), ${BYTES} bytes in ${work}, ${ROUNDS} rounds (medians), ${os.cpus().length} cores, 1-min load ${load.map((l) => l.toFixed(1)).join(' → ')}`);
  console.log(`${'variant'.padEnd(42)} ${'wall s'.padStart(7)} ${'CPU s'.padStart(7)} ${'CPU Δ'.padStart(7)} ${'RSS MB'.padStart(7)} ${'stdout'.padStart(9)}`);
  for (const [index, [name]] of VARIANTS.entries()) {
    const f = figures[index];
    const cpu = median(f.map((x) => x.cpu));
    console.log(
      `${name.padEnd(42)} ${median(f.map((x) => x.wall)).toFixed(2).padStart(7)} ${cpu.toFixed(2).padStart(7)} ${((cpu - base >= 0 ? '+' : '') + (cpu - base).toFixed(2)).padStart(7)} ${(median(f.map((x) => x.rssKb)) / 1024).toFixed(1).padStart(7)} ${(median(f.map((x) => x.stdoutBytes)) / 1e6).toFixed(1).padStart(7)} MB`,
    );
    console.log(`${''.padEnd(42)} CPU of each round: ${f.map((x) => x.cpu.toFixed(2)).join(' / ')}`);
  }
  console.log(execFileSync('uptime', { encoding: 'utf8' }).trim());
}

main();
