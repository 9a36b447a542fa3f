/**
 * Reading many blobs of one pack in a few requests: the blobs (index entries) sorted by offset and
 * cut into ranges, neighbours merged while a range stays under a size and the bytes skipped between
 * two blobs stay small. Every request costs a round trip on a remote store and a system call
 * locally, so restore and prune read packs this way rather than blob by blob.
 */
import type { BlobIndex } from './blob-index.ts';

/** A span of one pack and the index entries it covers, by offset. */
export interface PackRange {
  offset: number;
  length: number;
  entries: number[];
}

/** A range grows to this many bytes at most (a single larger blob makes a range of its own). */
export const RANGE_BYTES = 4 * 1024 * 1024;
/** Unneeded bytes between two needed blobs that a range still spans rather than start another. */
export const GAP_BYTES = 512 * 1024;

/** The ranges that read `entries` (of one pack, in any order, no repeats) as described above. */
export function packRanges(index: BlobIndex, entries: Iterable<number>): PackRange[] {
  const byOffset = [...entries].map((n) => ({ n, offset: index.locationAt(n).offset, length: index.lengthAt(n) }));
  byOffset.sort((a, b) => a.offset - b.offset);
  const ranges: PackRange[] = [];
  let range: PackRange | null = null;
  for (const { n, offset, length } of byOffset) {
    const end = offset + length;
    if (!range || end - range.offset > RANGE_BYTES || offset - (range.offset + range.length) > GAP_BYTES) {
      range = { offset, length: 0, entries: [] };
      ranges.push(range);
    }
    range.entries.push(n);
    range.length = Math.max(range.length, end - range.offset);
  }
  return ranges;
}
