/**
 * What rsync's whole-transfer progress costs a local copy (src/destinations/local/list-share.ts):
 * rsync run with the local destination's own arguments, and with the same minus
 * `--info=progress2 --no-inc-recursive` (incremental recursion, no progress lines), on a generated
 * tree, for a first copy and for a rerun that finds nothing changed. Prints the medians of wall
 * time, CPU (user + sys of rsync and its forks) and the largest rsync process's peak RSS, from
 * GNU time. The two sides alternate which goes first; say the load (uptime) with the figures.
 *
 *   node --import tsx bench/local-progress.ts [--files 100000] [--bytes 400000000] [--rounds 3] [--dir /dev/shm]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rsyncArguments } from '../src/destinations/local/rsync-args.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const BYTES = numberOption('--bytes', 400_000_000);
const ROUNDS = numberOption('--rounds', 3);
const work = path.join(textOption('--dir', os.tmpdir()), `cairn-bench-progress-${process.pid}`);
const source = path.join(work, 'data');
const PROGRESS_FLAGS = ['--info=progress2', '--no-inc-recursive'];

interface Figures {
  wall: number;
  cpu: number;
  rssKb: number;
}

/** One rsync copy of the tree into `target` under GNU time; with `progress`, the destination's arguments as they are. */
function timeCopy(target: string, progress: boolean): Figures {
  const args = rsyncArguments({ source, target, options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' }, fatLike: false });
  const used = progress ? args : args.filter((arg) => !PROGRESS_FLAGS.includes(arg));
  const report = path.join(work, 'time.txt');
  const result = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %U %S %M', 'rsync', ...used], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`rsync failed (${result.status}): ${String(result.stderr).slice(-500)}`);
  const [wall, user, sys, rss] = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + sys, rssKb: rss };
}

function main(): void {
  execFileSync('/usr/bin/time', ['--version'], { stdio: 'ignore' });
  mkdirSync(source, { recursive: true });
  generateTree(source, FILES, BYTES);
  const runs = { first: { with: [] as Figures[], without: [] as Figures[] }, rerun: { with: [] as Figures[], without: [] as Figures[] } };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const progress of round % 2 === 0 ? [true, false] : [false, true]) {
        const target = path.join(work, `target-${round}-${progress}`);
        mkdirSync(target);
        runs.first[progress ? 'with' : 'without'].push(timeCopy(target, progress));
        runs.rerun[progress ? 'with' : 'without'].push(timeCopy(target, progress));
        rmSync(target, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const describe = (figures: Figures[]) =>
    `${median(figures.map((f) => f.wall)).toFixed(2)} s wall, ${median(figures.map((f) => f.cpu)).toFixed(2)} s CPU, ${(median(figures.map((f) => f.rssKb)) / 1024).toFixed(1)} MB peak RSS`;
  console.log(`${FILES} files, ${BYTES} bytes in ${work}, ${ROUNDS} rounds (medians), load ${os.loadavg()[0].toFixed(1)}`);
  for (const [what, sides] of Object.entries(runs)) {
    console.log(`${what.padEnd(6)} with progress2 --no-inc-recursive: ${describe(sides.with)}`);
    console.log(`${''.padEnd(6)} without (incremental recursion):   ${describe(sides.without)}`);
  }
}

main();
