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
  // The path read last on each side: an item is checked against it as soon as it is read.
  let leftPath: string | undefined;
  let rightPath: string | undefined;
  const checked = <T>(next: IteratorResult<[string, T]>, previous: string | undefined, what: string) => {
    if (!next.done) assertAscending(previous, next.value[0], what);
    return next;
  };
  try {
    // Each side's next item is read one after the other, not both at once: each stream lists ahead on its own.
    let a = checked(await leftItems.next(), leftPath, 'The source walk');
    let b = checked(await rightItems.next(), rightPath, 'The destination listing');
    while (!a.done || !b.done) {
      const order = a.done ? 1 : b.done ? -1 : compareBytes(a.value[0], b.value[0]);
      if (order < 0) {
        const [path, item] = a.value!;
        leftPath = path;
        yield { path, left: item };
        a = checked(await leftItems.next(), leftPath, 'The source walk');
      } else if (order > 0) {
        const [path, item] = b.value!;
        rightPath = path;
        yield { path, right: item };
        b = checked(await rightItems.next(), rightPath, 'The destination listing');
      } else {
        const path = a.value![0];
        leftPath = path;
        rightPath = path;
        yield { path, left: a.value![1], right: b.value![1] };
        a = checked(await leftItems.next(), leftPath, 'The source walk');
        b = checked(await rightItems.next(), rightPath, 'The destination listing');
      }
    }
  } finally {
    // Stopped early (an error, a cancel): let both streams end their listings.
    await Promise.allSettled([leftItems.return?.(undefined), rightItems.return?.(undefined)]);
  }
}
