/**
 * Two streams sorted by path, walked side by side (a merge join, as rsync and rclone compare a
 * source with a destination): memory holds a batch of each, whatever the length of either.
 */
import { compareBytes, SortedReader, type SortedBatches } from './sorted-paths.ts';

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
