/**
 * The one order every sorted stream of the sync engine follows: the byte order of the UTF-8 paths,
 * which is how S3 lists keys. A folder's children sorted by `childKey` and walked depth first come
 * out in that order too (all paths below `a/` sit together, after `a.txt` and before `a0`), so a
 * local walk, a folder-by-folder remote listing, a flat S3 listing and the record of sent files can
 * be merged side by side without holding any of them whole.
 */
import { CairnError } from '../../domain/errors.ts';

/**
 * [path, item] pairs in strictly ascending path order, a batch at a time (a folder's run of files, an
 * S3 page, 64 KB of the record): the engine's streams pass batches, not items, because an
 * asynchronous step per item cost more than the comparison it carried (issue 17).
 */
export type SortedBatches<T> = AsyncIterable<Array<[string, T]>>;

/** The items of a sorted stream one at a time, for callers that are not the engine's hot path. */
export async function* eachEntry<T>(batches: SortedBatches<T>): AsyncGenerator<[string, T]> {
  for await (const batch of batches) yield* batch;
}

/** Compares two paths by the byte order of their UTF-8 encodings (code point order), without encoding them. */
export function compareBytes(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === y) continue;
    // UTF-16 puts surrogates (U+D800–DFFF, the halves of code points above U+FFFF) before U+E000–FFFF;
    // in code point order they come after: shift both ranges so they compare as UTF-8 does.
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800 && unit < 0xe000) return unit + 0x2000;
  return unit;
}

/** The key a folder's child sorts by: a folder as `name/`, so that its contents sort where its paths do. */
export function childKey(name: string, isFolder: boolean): string {
  return isFolder ? `${name}/` : name;
}

/** Throws when `next` does not come strictly after `previous`: a merge over an unsorted stream would delete wrongly. */
export function assertAscending(previous: string | undefined, next: string, what: string): void {
  if (previous !== undefined && compareBytes(previous, next) >= 0) {
    throw new CairnError('unavailable', 'LISTING_OUT_OF_ORDER', `${what} is not in path order ("${previous}" came before "${next}"); nothing more was copied or deleted`);
  }
}

/**
 * A sorted stream read a batch at a time, with the next item at hand (one side of a join, the record
 * of sent files): items are taken without a promise each, and a batch is read only when one is used up.
 */
export class SortedReader<T> {
  private readonly items: AsyncIterator<Array<[string, T]>>;
  private batch: Array<[string, T]> = [];
  private at = 0;
  /** The last path read, which the next must come after. */
  private previous: string | undefined;
  ended = false;

  /** `what` names the stream in the error for one out of order; without it the order is not checked. */
  constructor(
    stream: SortedBatches<T>,
    private readonly what?: string,
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
      if (this.what !== undefined) {
        for (const [path] of read.value) {
          assertAscending(this.previous, path, this.what);
          this.previous = path;
        }
      }
      this.batch = read.value;
      this.at = 0;
    }
  }

  async stop(): Promise<void> {
    await this.items.return?.(undefined);
  }
}
