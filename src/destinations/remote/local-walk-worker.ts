/**
 * The walker thread of local-walk.ts: walks a source folder (walkLocalTree) when asked, and posts its
 * batches to the daemon's thread a few ahead at most, in a form that is cheap to pass between threads.
 * One walk at a time; the thread waits for the next one when a walk ends.
 */
import { parentPort } from 'node:worker_threads';
import { Excludes } from './excludes.ts';
import { emptyProblems, walkLocalTree, type NameSample } from './local-tree.ts';

/** What the daemon's thread sends: a walk to make, or one more batch taken of the walk under way. */
export type ToWalker = { type: 'walk'; root: string; excludes: readonly string[] } | { type: 'taken' };

/** One batch: the files' relative paths joined by NUL (which no name holds), and [size, mtimeMs] per file. */
export interface FilesMessage {
  type: 'files';
  paths: string;
  numbers: Float64Array;
}

type Sample = Pick<NameSample, 'count' | 'names'>;

/** What the walker sends: batches in path order, then the walk's end (with what it met) or its failure. */
export type FromWalker = FilesMessage | { type: 'end'; skipped: Sample; unreadable: Sample } | { type: 'failed'; message: string };

/** Batches posted and not yet taken: enough that the daemon's thread never waits for the disk, few enough to keep memory flat. */
export const BATCHES_AHEAD = 4;

let credit = 0;
let wake: (() => void) | undefined;

async function walk(port: NonNullable<typeof parentPort>, root: string, excludes: readonly string[]): Promise<void> {
  credit = BATCHES_AHEAD;
  const problems = emptyProblems();
  try {
    for await (const batch of walkLocalTree(root, new Excludes(excludes), new AbortController().signal, problems)) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      credit--;
      const numbers = new Float64Array(batch.length * 2);
      for (const [index, [, file]] of batch.entries()) {
        numbers[2 * index] = file.size;
        numbers[2 * index + 1] = file.mtimeMs;
      }
      port.postMessage({ type: 'files', paths: batch.map(([relative]) => relative).join('\0'), numbers } satisfies FromWalker, [numbers.buffer]);
    }
    port.postMessage({ type: 'end', skipped: problems.skipped, unreadable: problems.unreadable } satisfies FromWalker);
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error).message } satisfies FromWalker);
  }
}

const port = parentPort;
port?.on('message', (message: ToWalker) => {
  if (message.type === 'taken') {
    credit++;
    wake?.();
  } else {
    void walk(port, message.root, message.excludes);
  }
});
