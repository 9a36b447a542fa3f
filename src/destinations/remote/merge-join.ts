/**
 * Two streams sorted by path, walked side by side (a merge join, as rsync and rclone compare a
 * source with a destination): memory holds one item of each, whatever the length of either.
 */
import { assertAscending, compareBytes } from './sorted-paths.ts';

/** One path of either stream, with what each stream holds for it. */
export interface Joined<A, B> {
  path: string;
  left?: A;
  right?: B;
}

/**
 * Every path of `left` and `right` once, in path order. Both must be strictly ascending (see
 * sorted-paths.ts); an item out of order throws rather than being mistaken for a missing one.
 */
export async function* joinSorted<A, B>(left: AsyncIterable<[string, A]>, right: AsyncIterable<[string, B]>): AsyncGenerator<Joined<A, B>> {
  const leftItems = left[Symbol.asyncIterator]();
  const rightItems = right[Symbol.asyncIterator]();
  let leftPath: string | undefined;
  let rightPath: string | undefined;
  const nextLeft = async () => {
    const next = await leftItems.next();
    if (!next.done) assertAscending(leftPath, next.value[0], 'The source walk');
    return next.done ? undefined : next.value;
  };
  const nextRight = async () => {
    const next = await rightItems.next();
    if (!next.done) assertAscending(rightPath, next.value[0], 'The destination listing');
    return next.done ? undefined : next.value;
  };
  try {
    let [a, b] = await Promise.all([nextLeft(), nextRight()]);
    while (a || b) {
      const order = !a ? 1 : !b ? -1 : compareBytes(a[0], b[0]);
      if (order < 0) {
        yield { path: a![0], left: a![1] };
        leftPath = a![0];
        a = await nextLeft();
      } else if (order > 0) {
        yield { path: b![0], right: b![1] };
        rightPath = b![0];
        b = await nextRight();
      } else {
        yield { path: a![0], left: a![1], right: b![1] };
        leftPath = a![0];
        rightPath = b![0];
        [a, b] = await Promise.all([nextLeft(), nextRight()]);
      }
    }
  } finally {
    // Stopped early (an error, a cancel): let both streams end their listings.
    await Promise.allSettled([leftItems.return?.(undefined), rightItems.return?.(undefined)]);
  }
}
