/**
 * Two streams sorted by path, walked side by side (a merge join, as rsync and rclone compare a
 * source with a destination): memory holds a batch of each, whatever the length of either.
 */
import { assertAscending, compareBytes, type SortedBatches } from './sorted-paths.ts';

/** One path of either stream, with what each stream holds for it. */
export interface Joined<A, B> {
  path: string;
  left?: A;
  right?: B;
}

/**
 * Every path of `left` and `right` once, in path order, a batch at a time. Both must be strictly
 * ascending (see sorted-paths.ts): each batch is checked as it is read, before anything of it is
 * joined, and an item out of order throws rather than being mistaken for a missing one.
 */
export async function* joinSorted<A, B>(left: SortedBatches<A>, right: SortedBatches<B>): AsyncGenerator<Array<Joined<A, B>>> {
  const lefts = new SortedReader(left, 'The source walk');
  const rights = new SortedReader(right, 'The destination listing');
  try {
    // Each side's next batch is read one after the other, not both at once: each stream lists ahead on its own.
    await lefts.fill();
    await rights.fill();
    while (lefts.atHand || rights.atHand) {
      const joined: Array<Joined<A, B>> = [];
      // A path is decided only while each side has its next item at hand or has ended.
      while ((lefts.atHand || lefts.ended) && (rights.atHand || rights.ended) && (lefts.atHand || rights.atHand)) {
        const order = !lefts.atHand ? 1 : !rights.atHand ? -1 : compareBytes(lefts.next[0], rights.next[0]);
        if (order < 0) {
          const [path, item] = lefts.take();
          joined.push({ path, left: item });
        } else if (order > 0) {
          const [path, item] = rights.take();
          joined.push({ path, right: item });
        } else {
          const [path, item] = lefts.take();
          joined.push({ path, left: item, right: rights.take()[1] });
        }
      }
      if (joined.length > 0) yield joined;
      await lefts.fill();
      await rights.fill();
    }
  } finally {
    // Stopped early (an error, a cancel): let both streams end their listings.
    await Promise.allSettled([lefts.stop(), rights.stop()]);
  }
}

/** One side of the join: the batch at hand and the next item in it. */
class SortedReader<T> {
  private readonly items: AsyncIterator<Array<[string, T]>>;
  private batch: Array<[string, T]> = [];
  private at = 0;
  /** The last path read, which the next must come after. */
  private previous: string | undefined;
  ended = false;

  constructor(
    stream: SortedBatches<T>,
    private readonly what: string,
  ) {
    this.items = stream[Symbol.asyncIterator]();
  }

  get atHand(): boolean {
    return this.at < this.batch.length;
  }

  get next(): [string, T] {
    return this.batch[this.at];
  }

  take(): [string, T] {
    return this.batch[this.at++];
  }

  /** Reads batches until one has an item or the stream ends; a no-op while an item is at hand. */
  async fill(): Promise<void> {
    while (!this.atHand && !this.ended) {
      const read = await this.items.next();
      if (read.done) {
        this.ended = true;
        return;
      }
      for (const [path] of read.value) {
        assertAscending(this.previous, path, this.what);
        this.previous = path;
      }
      this.batch = read.value;
      this.at = 0;
    }
  }

  async stop(): Promise<void> {
    await this.items.return?.(undefined);
  }
}
