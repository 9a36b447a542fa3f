/**
 * Benchmark of the drive snapshot engine (src/history/drive-snapshots): a new snapshot of a
 * generated tree (default 100,000 files, ~400 MB) with 1% of its files changed, made by the engine
 * and by bare `rsync -a --link-dest` in the same run, side by side; the space the new snapshot
 * takes beyond what it shares; the engine's peak RSS; and the time to prune 100 snapshots.
 *
 *   node --import tsx bench/snapshots.ts [--files 100000] [--bytes 400000000] [--rounds 3] [--dir /dev/shm] [--prune-files 10000]
 * The engine runs in a child process (as it will inside the daemon's run), timed from inside, so
 * Node's start-up is not counted; both sides alternate which goes first. Removes what it made.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { applyRetention, listSnapshots } from '../src/history/index.ts';
import { emptyRetentionPolicy } from '../src/domain/retention.ts';
import { buildManifest } from '../src/history/drive-snapshots/manifest-build.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const BYTES = numberOption('--bytes', 400_000_000);
const ROUNDS = numberOption('--rounds', 3);
const PRUNE_FILES = numberOption('--prune-files', 10_000);
const work = path.join(textOption('--dir', '/dev/shm'), `cairn-bench-snapshots-${process.pid}`);
const source = path.join(work, 'source', 'data');
const engineRoot = path.join(work, 'engine');
const rsyncRoot = path.join(work, 'rsync');
const CHILD = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../test/integration/history/engine-child.ts');

/** Runs the engine in its own process; its own timing and peak RSS. */
function engine(args: string[]): { seconds: number; rssMb: number } {
  const output = execFileSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { encoding: 'utf8' });
  const [, ms, rssKb] = /done (\d+) (\d+)/.exec(output) ?? [];
  return { seconds: Number(ms) / 1000, rssMb: Number(rssKb) / 1024 };
}

/** Changes 1% of the files (new bytes, new mtime); returns the bytes they now hold. */
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

/** Bytes `dir` uses that `shared` does not already hold (du counts a hard-linked file once, at its first path). */
function ownBytes(shared: string, dir: string, apparent: boolean): number {
  const du = (paths: string[]) => Number(execFileSync('du', ['-s', '-c', apparent ? '-b' : '--block-size=1', ...paths], { encoding: 'utf8' }).trim().split('\n').at(-1)!.split('\t')[0]);
  return du([shared, dir]) - du([shared]);
}

const fmt = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
const time = (day: number) => new Date(Date.UTC(2026, 0, 1 + day, 10)).toISOString();

function snapshotRace() {
  mkdirSync(source, { recursive: true });
  mkdirSync(engineRoot);
  mkdirSync(rsyncRoot);
  console.log(`generating ${FILES} files, ~${Math.round(BYTES / 1e6)} MB in ${work} …`);
  generateTree(source, FILES, BYTES);
  const first = engine(['create', engineRoot, time(0), '0', source]);
  mkdirSync(path.join(rsyncRoot, 'r0'));
  execFileSync('rsync', ['-a', `${source}/`, path.join(rsyncRoot, 'r0', 'data/')]);
  console.log(`first snapshot (everything new): engine ${first.seconds.toFixed(2)} s`);

  const engineTimes: number[] = [];
  const rsyncTimes: number[] = [];
  const rss: number[] = [];
  let changed = 0;
  for (let round = 1; round <= ROUNDS; round += 1) {
    changed = changeOnePercent(round);
    execFileSync('sync');
    mkdirSync(path.join(rsyncRoot, `r${round}`));
    const runRsync = () => {
      const started = process.hrtime.bigint();
      execFileSync('rsync', ['-a', `--link-dest=${path.join(rsyncRoot, `r${round - 1}`, 'data/')}`, `${source}/`, path.join(rsyncRoot, `r${round}`, 'data/')]);
      rsyncTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
    };
    const runEngine = () => {
      const result = engine(['create', engineRoot, time(round), '0', source]);
      engineTimes.push(result.seconds);
      rss.push(result.rssMb);
    };
    if (round % 2) {
      runRsync();
      runEngine();
    } else {
      runEngine();
      runRsync();
    }
  }
  return { engineTimes, rsyncTimes, rss, changed };
}

async function main() {
  try {
    const { engineTimes, rsyncTimes, rss, changed } = snapshotRace();
    const [newest, previous] = await listSnapshots(engineRoot);
    const ratio = median(engineTimes) / median(rsyncTimes);
    console.log(`\nnew snapshot, ${FILES} files, 1% (${FILES / 100} files, ${changed} bytes) changed, ${ROUNDS} rounds:`);
    console.log(`  engine                  ${fmt(engineTimes)} s   median ${median(engineTimes).toFixed(2)} s`);
    console.log(`  rsync -a --link-dest    ${fmt(rsyncTimes)} s   median ${median(rsyncTimes).toFixed(2)} s`);
    console.log(`  ratio engine / rsync    ${ratio.toFixed(2)}×`);
    // The engine wrote the manifest from rsync's list while rsync ran; the walk is its fallback (resumed work, escaped names).
    const manifestStarted = process.hrtime.bigint();
    const totals = await buildManifest(newest.path, previous.path, new AbortController().signal);
    console.log(`  manifest by walking the tree (the fallback), rebuilt alone: ${(Number(process.hrtime.bigint() - manifestStarted) / 1e9).toFixed(2)} s (${totals.files_hashed} files hashed)`);
    console.log(`  engine peak RSS         ${fmt(rss)} MB`);
    console.log(`\nspace of the newest snapshot beyond the one before it:`);
    console.log(`  recorded bytes_added    ${newest.bytes_added} (changed bytes ${changed})`);
    console.log(`  du --apparent (-b)      ${ownBytes(previous.path, newest.path, true)} bytes`);
    console.log(`  du on disk              ${ownBytes(previous.path, newest.path, false)} bytes (changed files' blocks + directories + manifest + summary)`);
    console.log(`  of which the manifest   ${statSync(path.join(newest.path, '.cairn-manifest')).size} bytes`);
    await pruneBench();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** 100 snapshots of a PRUNE_FILES tree, each with 1% of its own files, then keep_last 1 applied. */
async function pruneBench() {
  const root = path.join(work, 'prune');
  const small = path.join(work, 'small', 'data');
  mkdirSync(root);
  mkdirSync(small, { recursive: true });
  generateTree(small, PRUNE_FILES, PRUNE_FILES * 4000);
  engine(['create', root, time(0), '0', small]);
  // The other 99 as hard-link copies of the first (cp -al: what the engine would make with nothing changed).
  const [base] = await listSnapshots(root);
  for (let i = 1; i < 100; i += 1) {
    const copy = path.join(root, `${base.id.slice(0, 4)}-02-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}00${String(Math.floor(i / 24)).padStart(2, '0')}+0100`);
    execFileSync('cp', ['-al', base.path, `${copy}.tmp`]);
    renameSync(`${copy}.tmp`, copy);
  }
  const all = await listSnapshots(root);
  const decision = applyRetention(all, { ...emptyRetentionPolicy(), keep_last: 1 }, { timezone: 'Europe/Berlin', now: Date.now() });
  const pruned = engine(['prune', root, ...decision.remove.map((info) => info.id)]);
  console.log(`\nprune: ${all.length} snapshots of ${PRUNE_FILES} files, keep_last 1 → ${decision.remove.length} removed in ${pruned.seconds.toFixed(2)} s (${((pruned.seconds / decision.remove.length) * 1000).toFixed(0)} ms each), ${readdirSync(root).length} left`);
}

await main();
