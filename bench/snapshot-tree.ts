/**
 * Benchmark of browsing a huge folder inside a snapshot (`GET …/snapshots/:id/tree`,
 * src/history/snapshot-tree.ts): one page of a folder of N entries, at its start and at its end,
 * and the heap it takes, beside a listing that stats every entry (as a whole-folder browse would).
 *
 *   node --import tsx bench/snapshot-tree.ts [--entries 200000] [--limit 200] [--rounds 5] [--dir /dev/shm]
 * Removes what it made.
 */
import { promises as fs, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listSnapshotFolder } from '../src/history/snapshot-tree.ts';
import { median, numberOption, textOption } from './options.ts';

const ENTRIES = numberOption('--entries', 200_000);
const LIMIT = numberOption('--limit', 200);
const ROUNDS = numberOption('--rounds', 5);
const top = path.join(textOption('--dir', '/dev/shm'), `cairn-bench-tree-${process.pid}`);
const folder = path.join(top, 'photos', 'huge');

/** Milliseconds `work` takes, and the heap it leaves in use at its end (MB above the start, after a GC when exposed). */
async function measure(work: () => Promise<unknown>): Promise<{ ms: number; heapMb: number }> {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const kept = await work();
  const ms = performance.now() - start;
  const heapMb = (process.memoryUsage().heapUsed - before) / 1e6;
  void kept;
  return { ms, heapMb };
}

/** Every entry stat'ed, then one page taken: what the tree does not do. */
async function statEverything(): Promise<unknown> {
  const names = (await fs.readdir(folder)).sort();
  const stats = await Promise.all(names.map((name) => fs.lstat(path.join(folder, name))));
  return stats.slice(0, LIMIT);
}

async function main(): Promise<void> {
  mkdirSync(folder, { recursive: true });
  try {
    for (let n = 0; n < ENTRIES; n += 1) writeFileSync(path.join(folder, `file-${String(n).padStart(7, '0')}.jpg`), '');
    const rows: Array<[string, () => Promise<unknown>]> = [
      ['first page', () => listSnapshotFolder(top, { path: 'photos/huge', limit: LIMIT, offset: 0 })],
      ['last page', () => listSnapshotFolder(top, { path: 'photos/huge', limit: LIMIT, offset: ENTRIES - LIMIT })],
      ['stat every entry', statEverything],
    ];
    console.log(`folder of ${ENTRIES} entries, pages of ${LIMIT}, median of ${ROUNDS} rounds${globalThis.gc ? '' : ' (run with --expose-gc for steadier heap figures)'}`);
    for (const [label, work] of rows) {
      const results = [];
      for (let round = 0; round < ROUNDS; round += 1) results.push(await measure(work));
      console.log(`${label.padEnd(18)} ${median(results.map((r) => r.ms)).toFixed(0).padStart(6)} ms   heap +${median(results.map((r) => r.heapMb)).toFixed(1)} MB`);
    }
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

await main();
