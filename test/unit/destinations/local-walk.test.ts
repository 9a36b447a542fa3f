/** The source walk on a walker thread (local-walk.ts): the same batches as the walk on the daemon's thread, and no thread left behind. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Excludes } from '../../../src/destinations/remote/excludes.ts';
import { emptyProblems, walkLocalTree, type LocalFile } from '../../../src/destinations/remote/local-tree.ts';
import { previousEntryCount, rememberEntryCount } from '../../../src/destinations/entry-counts.ts';
import { WALKER_FROM_FILES, walkCountsFileOf, walkerThreads, walkSourceAside } from '../../../src/destinations/remote/local-walk.ts';
import { syncToStore } from '../../../src/destinations/remote/sync-engine.ts';
import { BATCHES_AHEAD } from '../../../src/destinations/remote/local-walk-worker.ts';
import { tempDir } from '../../helpers.ts';

type Walk = (root: string, excludes: Excludes, signal: AbortSignal, problems: ReturnType<typeof emptyProblems>) => AsyncGenerator<Array<[string, LocalFile]>>;

/** Every batch of a walk, and what it reported. */
async function walkWith(walk: Walk, root: string, excludes: Excludes) {
  const problems = emptyProblems();
  const batches: Array<Array<[string, LocalFile]>> = [];
  for await (const batch of walk(root, excludes, new AbortController().signal, problems)) batches.push(batch);
  return { batches, skipped: problems.skipped.describe(), skippedCount: problems.skipped.count, unreadable: problems.unreadable.describe() };
}

/** A source with what a walk must get right: deep folders, a folder of 2,500 files, excludes, links, a FIFO, names beyond ASCII and one not UTF-8. */
function awkwardTree(): string {
  const root = tempDir();
  for (const folder of ['a/b/c', 'a/b.d', 'a0', 'cache', 'keep/cache', 'empty', 'ünïcode/𝄞']) mkdirSync(path.join(root, folder), { recursive: true });
  const files = ['a/1.txt', 'a/b/c/deep.bin', 'a/b.d/x', 'a.txt', 'a0/z', 'cache/dropped', 'keep/cache/dropped', 'keep/kept.tmp.not', 'skip.tmp', 'ünïcode/𝄞/note', 'new\nline'];
  for (const [index, file] of files.entries()) writeFileSync(path.join(root, file), 'x'.repeat(index));
  mkdirSync(path.join(root, 'big'));
  for (let index = 0; index < 2_500; index++) writeFileSync(path.join(root, 'big', `f${index}`), '');
  symlinkSync('a.txt', path.join(root, 'link'));
  symlinkSync('a', path.join(root, 'folder-link'));
  execFileSync('mkfifo', [path.join(root, 'a', 'pipe')]);
  writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1 name');
  return root;
}

test('the walker thread gives the same batches, sizes, times and problems as the walk on the daemon thread', async () => {
  const root = awkwardTree();
  const excludes = new Excludes(['cache/', '*.tmp']);
  const here = await walkWith(walkLocalTree, root, excludes);
  const aside = await walkWith(walkSourceAside, root, excludes);
  assert.equal(aside, here);
  // The reference itself saw what the tree holds: 2,500 files as 1000/1000/500, three things skipped, one name unreadable.
  assert.ok(here.batches.some((batch) => batch.length === 1000 && batch[0][0].startsWith('big/')));
  assert.is(here.batches.flat().length, 2_500 + 8);
  assert.is(here.skippedCount, 3);
  assert.match(here.unreadable, /not valid UTF-8/);
  assert.ok(here.batches.flat().some(([relative, file]) => relative === 'ünïcode/𝄞/note' && file.absolute === path.join(root, relative) && file.size === 9));
});

test('a walk of a root that does not exist ends empty on both', async () => {
  const missing = path.join(tempDir(), 'gone');
  assert.equal(await walkWith(walkSourceAside, missing, new Excludes([])), await walkWith(walkLocalTree, missing, new Excludes([])));
});

/** Resolves when `worker` has ended; fails the test when it is still alive after `ms`. */
async function ended(worker: Worker, ms = 15_000): Promise<void> {
  if (!walkerThreads.has(worker)) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the walker thread is alive after ${ms} ms`)), ms)));
  await Promise.race([once(worker, 'exit'), late]).finally(() => clearTimeout(timer));
}

/** The one walker thread alive (the tests run one walk at a time). */
function onlyWalker(): Worker {
  assert.is(walkerThreads.size, 1);
  return [...walkerThreads][0];
}

test('the walker posts a few batches ahead, not the tree; a walk left midway ends its thread', async () => {
  const root = tempDir();
  for (let folder = 0; folder < 40; folder++) {
    mkdirSync(path.join(root, `d${folder}`));
    for (let file = 0; file < 20; file++) writeFileSync(path.join(root, `d${folder}`, `f${file}`), '');
  }
  const walk = walkSourceAside(root, new Excludes([]), new AbortController().signal, emptyProblems());
  const first = await walk.next();
  assert.is(first.value?.length, 20);
  const walker = onlyWalker();
  let posted = 0;
  walker.on('message', () => posted++);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // 40 folders of one batch each; the walker may run BATCHES_AHEAD beyond what was taken, and no further.
  assert.ok(posted <= BATCHES_AHEAD, `${posted} batches posted ahead`);
  // Ended at once, not kept: its batches still on the way must never reach another walk.
  await walk.return(undefined);
  assert.not.ok(walkerThreads.has(walker));
});

test('a stopped run stops the walk and its thread', async () => {
  const root = awkwardTree();
  const controller = new AbortController();
  const walk = walkSourceAside(root, new Excludes([]), controller.signal, emptyProblems());
  await walk.next();
  const walker = onlyWalker();
  controller.abort();
  const stopped = await (async () => {
    for (;;) if ((await walk.next()).done) return 'ended';
  })().catch((error: Error) => error.name);
  assert.is(stopped, 'AbortError');
  assert.not.ok(walkerThreads.has(walker));
});

test('a walker that finished is used again by the next walk, then ends on its own when idle', async () => {
  const root = awkwardTree();
  await walkWith(walkSourceAside, root, new Excludes([]));
  const walker = onlyWalker();
  const again = await walkWith(walkSourceAside, root, new Excludes(['big/']));
  assert.is(onlyWalker(), walker);
  assert.not.ok(again.batches.flat().some(([relative]) => relative.startsWith('big/')));
  // It ends after a few idle seconds, and does not hold the process open meanwhile (`ended`'s timer does, here).
  await ended(walker);
  assert.is(walkerThreads.size, 0);
});

/**
 * Makes `worker` fail as a thread fails on its own (out of memory, say): a message it cannot read
 * throws there, uncaught.
 */
function breakWalker(worker: Worker): void {
  worker.postMessage(null);
}

/**
 * Resolves when `worker` has exited; unlike events.once, it does not listen for (and so hide) an
 * 'error'. A timer keeps the process up meanwhile: a kept walker does not.
 */
function exitOf(worker: Worker): Promise<void> {
  const alive = setInterval(() => undefined, 1_000);
  return new Promise<void>((resolve) => worker.once('exit', () => resolve())).finally(() => clearInterval(alive));
}

test('a walker that fails while its walk is being left does not take the daemon down', async () => {
  const root = awkwardTree();
  const walk = walkSourceAside(root, new Excludes([]), new AbortController().signal, emptyProblems());
  await walk.next();
  const walker = onlyWalker();
  breakWalker(walker);
  // The daemon's thread busy (comparing a batch, say) while the walker dies: its failure is heard
  // only after the walk was left, when the walk listens no more.
  const until = Date.now() + 1_000;
  while (Date.now() < until);
  await walk.return(undefined);
  assert.not.ok(walkerThreads.has(walker));
});

test('a kept walker that fails while idle does not take the daemon down, and the next walk gets a live one', async () => {
  const root = awkwardTree();
  const first = await walkWith(walkSourceAside, root, new Excludes([]));
  const walker = onlyWalker();
  breakWalker(walker);
  await exitOf(walker);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the next walk waits for a walker that is gone')), 15_000)));
  const again = await Promise.race([walkWith(walkSourceAside, root, new Excludes([])), hung]).finally(() => clearTimeout(timer));
  assert.equal(again, first);
  assert.is.not(onlyWalker(), walker);
});

/** A destination in memory: enough of a store for the engine to send to. */
function memoryStore(files: Map<string, Buffer>) {
  return {
    async *walk(folder: string) {
      const prefix = `${folder}/`;
      const mine = [...files.keys()].filter((key) => key.startsWith(prefix)).sort();
      if (mine.length > 0) yield mine.map((key): [string, { size: number }] => [key.slice(prefix.length), { size: files.get(key)!.length }]);
    },
    async put({ path: file, body }: { path: string; body: NodeJS.ReadableStream }) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      files.set(file, Buffer.concat(chunks));
    },
    async remove(file: string) {
      files.delete(file);
    },
    where: (file: string) => `memory:${file}`,
    async close() {},
  } as never;
}

test('a sync walks on a walker thread when the last walk of its source found a large tree, on its own thread when not', async () => {
  const root = tempDir();
  const source = path.join(root, 'photos');
  mkdirSync(source);
  for (let index = 0; index < 30; index++) writeFileSync(path.join(source, `p${index}.jpg`), `photo ${index}`);
  const stateFile = path.join(root, 'sent.jsonl');
  const counts = walkCountsFileOf(stateFile);
  const options = { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' as const };
  const files = new Map<string, Buffer>();
  const sync = () =>
    syncToStore(
      { config: {}, secret: null, sources: [source], realSources: [source], options, signal: new AbortController().signal, stateFile, hostKeys: null as never, log: () => undefined, progress: () => undefined },
      { store: memoryStore(files), identity: 'memory' },
    );
  for (const walker of [...walkerThreads]) await ended(walker);
  // First run: no count yet, so no walker; a small tree's count is not written (nothing would change).
  assert.is((await sync()).files_transferred, 30);
  assert.is(walkerThreads.size, 0, 'no walker for a first run');
  assert.not.ok(existsSync(counts), 'no count kept for a small tree');
  // The source's last walk found a large tree (a tree already on the server, say: the record holds nothing of it).
  await rememberEntryCount(counts, source, WALKER_FROM_FILES, [source]);
  writeFileSync(path.join(source, 'new.jpg'), 'new');
  const totals = await sync();
  assert.is(totals.files_transferred, 1, 'only the new file is sent: the walker gave the same files and times');
  assert.is(walkerThreads.size, 1, 'a walker thread walked, and is kept a moment for the next walk');
  await ended([...walkerThreads][0]);
  // That walk found 31 files: remembered, so the next run walks on the daemon's thread.
  assert.is(await previousEntryCount(counts, source), 31);
  assert.is((await sync()).files_transferred, 0);
  assert.is(walkerThreads.size, 0, 'no walker once the tree is small');
  assert.equal(readdirSync(root).sort(), ['photos', 'sent.jsonl', 'sent.jsonl.walked']);
});

test.run();
