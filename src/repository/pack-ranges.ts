/**
 * Reading many blobs of one pack in a few requests: the blobs (index entries) sorted by offset and
 * cut into ranges, neighbours merged while a range stays under a size and the bytes skipped between
 * two blobs stay small. Every request costs a round trip on a remote store and a system call
 * locally, so restore and prune read packs this way rather than blob by blob.
 */
import type { RepositoryBackend } from './backend.ts';
import type { BlobIndex } from './blob-index.ts';

/** A span of one pack and the index entries it covers, by offset. */
export interface PackRange {
  offset: number;
  length: number;
  entries: number[];
}

/** A range grows to this many bytes at most (a single larger blob makes a range of its own). */
export const RANGE_BYTES = 2 * 1024 * 1024;
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

/**
 * Reads ranges of packs, reusing the buffers of ranges handled where the store reads into a
 * caller's buffer (`readInto`): fresh megabytes each read would wait as garbage for the collector
 * and make memory grow with the work. `read` may answer a longer buffer: use `range.length` bytes.
 */
export class RangeReader {
  private readonly spare: Buffer[] = [];

  constructor(private readonly backend: RepositoryBackend) {}

  async read(path: string, range: { offset: number; length: number }): Promise<Buffer> {
    if (!this.backend.readInto) return this.backend.read(path, range);
    const at = this.spare.findIndex((buffer) => buffer.length >= range.length);
    const buffer = at >= 0 ? this.spare.splice(at, 1)[0] : Buffer.allocUnsafe(Math.max(range.length, RANGE_BYTES));
    try {
      await this.backend.readInto(path, range.offset, buffer.subarray(0, range.length));
    } catch (error) {
      this.spare.push(buffer);
      throw error;
    }
    return buffer;
  }

  /** Gives back a buffer `read` answered, once nothing uses its bytes any more. */
  release(buffer: Buffer): void {
    if (this.backend.readInto) this.spare.push(buffer);
  }
}
