/**
 * The source walk of a remote sync, on a thread of its own when the tree is large. On a no-change
 * run the walk's readdir and one lstat per file were a quarter of the daemon's work, on the thread
 * that also lists the destination, decrypts SSH and answers the API (issue 17): a walker thread
 * (local-walk-worker.ts) walks while the daemon's thread compares, a few batches ahead.
 * A walker that finished its walk is kept for IDLE_MS, for the job's next source or the next run.
 */
import { Worker } from 'node:worker_threads';
import { CairnError } from '../../domain/errors.ts';
import { previousEntryCount, rememberEntryCount } from '../entry-counts.ts';
import type { Excludes } from './excludes.ts';
import { walkLocalTree, type LocalFile, type LocalProblems } from './local-tree.ts';
import type { FromWalker, ToWalker } from './local-walk-worker.ts';

/** The walker's code as one script, put in by the single binary's build (which has no file to start it from). */
declare const CAIRN_LOCAL_WALK_WORKER: string | undefined;

/** How long a walker thread waits for another walk before it ends: its heap is not kept at rest. */
const IDLE_MS = 5_000;

interface IdleWalker {
  worker: Worker;
  timer: NodeJS.Timeout;
  /** Drops it from the idle walkers when it stops while kept. */
  onExit: () => void;
}

const idleWalkers: IdleWalker[] = [];

/** Walker threads alive, walking or idle: for tests that check none is left behind. */
export const walkerThreads = new Set<Worker>();

function startWalker(): Worker {
  let worker: Worker;
  if (typeof CAIRN_LOCAL_WALK_WORKER === 'string') {
    worker = new Worker(CAIRN_LOCAL_WALK_WORKER, { eval: true });
  } else {
    // From the source checkout: the thread registers tsx's loader itself, then runs the TypeScript file.
    const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const file = JSON.stringify(new URL('./local-walk-worker.ts', import.meta.url).href);
    worker = new Worker(`import(${loader}).then(({ register }) => { register(); return import(${file}); })`, { eval: true });
  }
  walkerThreads.add(worker);
  worker.once('exit', () => walkerThreads.delete(worker));
  // A walk hears its walker fail through a listener of its own. A failure when none listens (the
  // walker kept idle, or ending as its walk is left) would be an unhandled 'error', which ends the daemon.
  worker.on('error', () => undefined);
  return worker;
}

function takeWalker(): Worker {
  const kept = idleWalkers.at(-1);
  if (!kept) return startWalker();
  dropIdle(kept);
  kept.worker.ref();
  return kept.worker;
}

/** Keeps a walker whose walk ended for IDLE_MS; it does not keep the process alive meanwhile. */
function keepWalker(worker: Worker): void {
  worker.unref();
  const kept: IdleWalker = {
    worker,
    timer: setTimeout(() => {
      dropIdle(kept);
      void worker.terminate();
    }, IDLE_MS).unref(),
    // One that stopped while kept (it failed on its own) is no walker for the next walk, which would
    // wait for it forever.
    onExit: () => dropIdle(kept),
  };
  worker.once('exit', kept.onExit);
  idleWalkers.push(kept);
}

function dropIdle(kept: IdleWalker): void {
  const at = idleWalkers.indexOf(kept);
  if (at !== -1) idleWalkers.splice(at, 1);
  clearTimeout(kept.timer);
  kept.worker.off('exit', kept.onExit);
}

/**
 * From a source whose last complete walk found this many files, its walk runs on a walker thread.
 * The thread costs ~10–17 MB while a run lasts, and the daemon keeps ~14 MB of it after the first
 * (glibc's heap, pages of the binary its start touched); it shortened a no-change SFTP run by ~20%
 * at 100,000 files (0.3 s) and by 10–20% (1–2 s) at a million. Small trees and first walks run on the
 * daemon's thread.
 */
export const WALKER_FROM_FILES = 200_000;

/** Where a run remembers how many files each source's walk found (entry-counts.ts), and which sources it keeps. */
export interface WalkCounts {
  file: string;
  sources: readonly string[];
}

/** The file of a remote job's walk counts: beside its record of sent files (`stateFile`). */
export const walkCountsFileOf = (stateFile: string) => `${stateFile}.walked`;

/** A remote job's walk counts, for the job's sources. */
export function walkCountsOf(context: { stateFile: string; realSources: readonly string[] }): WalkCounts {
  return { file: walkCountsFileOf(context.stateFile), sources: context.realSources };
}

/**
 * The source's walk (walkLocalTree), on a walker thread when its last complete walk found a large
 * tree. A complete walk's count is remembered only when it crosses WALKER_FROM_FILES, so a run that
 * changes nothing writes nothing. Not the record of sent files' size: it holds only what Cairn sent,
 * so a tree already on the server (or moved from an rsync job) would never look large.
 */
export async function* walkSource(root: string, excludes: Excludes, signal: AbortSignal, problems: LocalProblems, counts: WalkCounts): AsyncGenerator<Array<[string, LocalFile]>> {
  const large = ((await previousEntryCount(counts.file, root)) ?? 0) >= WALKER_FROM_FILES;
  let files = 0;
  for await (const batch of large ? walkSourceAside(root, excludes, signal, problems) : walkLocalTree(root, excludes, signal, problems)) {
    files += batch.length;
    yield batch;
  }
  if (files >= WALKER_FROM_FILES !== large) {
    // Only a hint for the next walk: a full disk must not fail the backup.
    await rememberEntryCount(counts.file, root, files, counts.sources).catch(() => undefined);
  }
}

/** As walkLocalTree (local-tree.ts), walked by a walker thread. */
export async function* walkSourceAside(root: string, excludes: Excludes, signal: AbortSignal, problems: LocalProblems): AsyncGenerator<Array<[string, LocalFile]>> {
  const worker = takeWalker();
  const arrived: FromWalker[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const nudge = () => wake?.();
  const onMessage = (message: FromWalker) => {
    arrived.push(message);
    nudge();
  };
  const onError = (error: Error) => {
    failure ??= error;
    nudge();
  };
  const onExit = (code: number) => onError(new Error(`the source walk's thread stopped (exit code ${code})`));
  worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  signal.addEventListener('abort', nudge);
  const tell = (message: ToWalker) => worker.postMessage(message);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  let ended = false;
  try {
    tell({ type: 'walk', root, excludes: excludes.written });
    for (;;) {
      signal.throwIfAborted();
      const message = arrived.shift();
      if (!message) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (message.type === 'failed') {
        ended = true;
        throw new CairnError('unavailable', 'SOURCE_WALK_FAILED', `Walking ${root} failed: ${message.message}`);
      }
      if (message.type === 'end') {
        ended = true;
        problems.skipped.addAll(message.skipped);
        problems.unreadable.addAll(message.unreadable);
        return;
      }
      tell({ type: 'taken' });
      const { numbers } = message;
      yield message.paths.split('\0').map((relative, index): [string, LocalFile] => [relative, { absolute: prefix + relative, size: numbers[2 * index], mtimeMs: numbers[2 * index + 1] }]);
    }
  } finally {
    signal.removeEventListener('abort', nudge);
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    // A walk left midway (a failed upload, a stopped run) would go on posting: that thread ends.
    if (ended && !failure) keepWalker(worker);
    else await worker.terminate();
  }
}
