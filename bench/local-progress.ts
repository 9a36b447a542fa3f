/**
 * What rsync's whole-transfer progress costs a local copy (src/destinations/local/list-share.ts):
 * rsync run with the local destination's own arguments, with the same minus `--info=progress2`
 * (no progress lines), and with the same plus `--no-inc-recursive` (the earlier argv, which made
 * rsync list the whole tree first and hold it in each of its processes), on a generated tree, for a
 * first copy and for a rerun that finds nothing changed. Prints the medians of wall time, CPU (user +
 * sys of rsync and its forks) and the largest rsync process's peak RSS, from GNU time
 * (bench/local-rsync.ts sums all three processes). The variants rotate which goes first; say the
 * load (uptime) with the figures.
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
/** Each variant: what it does to the destination's argv. */
const VARIANTS = {
  'as the destination runs it (progress2)': (args: string[]) => args,
  'without --info=progress2': (args: string[]) => args.filter((arg) => arg !== '--info=progress2'),
  'plus --no-inc-recursive (earlier argv)': (args: string[]) => [...args.slice(0, args.indexOf('--')), '--no-inc-recursive', ...args.slice(args.indexOf('--'))],
};
type Variant = keyof typeof VARIANTS;

interface Figures {
  wall: number;
  cpu: number;
  rssKb: number;
}

/** One rsync copy of the tree into `target` under GNU time, with the destination's arguments as `variant` changes them. */
function timeCopy(target: string, variant: Variant): Figures {
  const args = rsyncArguments({ source, target, options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' }, fatLike: false });
  const used = VARIANTS[variant](args);
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
  const names = Object.keys(VARIANTS) as Variant[];
  const runs = { first: new Map<Variant, Figures[]>(names.map((name) => [name, []])), rerun: new Map<Variant, Figures[]>(names.map((name) => [name, []])) };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate which variant goes first.
      for (const [index, variant] of [...names.slice(round % names.length), ...names.slice(0, round % names.length)].entries()) {
        const target = path.join(work, `target-${round}-${index}`);
        mkdirSync(target);
        runs.first.get(variant)!.push(timeCopy(target, variant));
        runs.rerun.get(variant)!.push(timeCopy(target, variant));
        rmSync(target, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const describe = (figures: Figures[]) =>
    `${median(figures.map((f) => f.wall)).toFixed(2)} s wall, ${median(figures.map((f) => f.cpu)).toFixed(2)} s CPU, ${(median(figures.map((f) => f.rssKb)) / 1024).toFixed(1)} MB peak RSS`;
  console.log(`${FILES} files, ${BYTES} bytes in ${work}, ${ROUNDS} rounds (medians), load ${os.loadavg()[0].toFixed(1)}`);
  for (const [what, variants] of Object.entries(runs)) {
    for (const [variant, figures] of variants) console.log(`${what.padEnd(6)} ${variant.padEnd(40)} ${describe(figures)}`);
  }
}

main();
