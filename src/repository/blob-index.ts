/**
 * The in-memory blob index: where each blob lives (pack, offset, length). It must stay small on a
 * Pi with a repository of millions of blobs, so there is no JS object per blob: ids sit in one
 * Buffer (32 bytes each), pack numbers, offsets and lengths in typed arrays, and an open-addressing
 * hash table (Int32Array) keyed by the id's first four bytes (ids are SHA-256, so already uniform)
 * finds an entry. Measured bytes per blob: see test/unit/repository/blob-index.test.ts.
 */
export type BlobType = 'data' | 'tree';

export interface BlobLocation {
  packId: string;
  type: BlobType;
  offset: number;
  /** Stored (sealed) length in the pack. */
  length: number;
  /** zstd-compressed (format version 2): its plaintext length is not `length` minus the seal overhead. */
  compressed: boolean;
  /** A compressed blob's plaintext length (the index's `uncompressed_length`). */
  uncompressedLength?: number;
}

const ID = 32;

/** Blob id → location, compact. Adding an id already present keeps the first location. */
export class BlobIndex {
  private ids = Buffer.alloc(0);
  private pack = new Uint32Array(0);
  private offset = new Uint32Array(0);
  private length = new Uint32Array(0);
  /** Plaintext lengths of compressed blobs (0 for the others). */
  private plainLength = new Uint32Array(0);
  private type = new Uint8Array(0);
  private slots = new Int32Array(0);
  private count = 0;
  private packIds: Buffer = Buffer.alloc(0);
  private packCount = 0;
  private readonly packNumbers = new Map<string, number>();

  /** Number of blobs. */
  get size(): number {
    return this.count;
  }

  /** Records a blob; returns false (and changes nothing) when the id is already known. */
  add(id: Buffer, location: BlobLocation): boolean {
    if (this.find(id) >= 0) return false;
    if (this.count === this.type.length) this.grow();
    const n = this.count++;
    id.copy(this.ids, n * ID);
    this.pack[n] = this.packNumber(location.packId);
    this.offset[n] = location.offset;
    this.length[n] = location.length;
    this.plainLength[n] = location.compressed ? (location.uncompressedLength ?? 0) : 0;
    this.type[n] = (location.type === 'tree' ? 1 : 0) | (location.compressed ? 2 : 0);
    this.insertSlot(n);
    return true;
  }

  /** Whether the blob is known (of either type). */
  has(id: Buffer): boolean {
    return this.find(id) >= 0;
  }

  /** Where the blob is, or null. */
  get(id: Buffer): BlobLocation | null {
    const n = this.find(id);
    return n < 0 ? null : this.locationAt(n);
  }

  /**
   * The entry number of a blob (0 … size-1, stable while the index lives), or -1. Callers that
   * need a set of blobs (prune's reachable blobs, check's seen ones) keep a bitmap over these
   * numbers instead of an object per blob.
   */
  position(id: Buffer): number {
    return this.find(id);
  }

  /** The id of entry `n` (a view into the index: copy it to keep it). */
  idAt(n: number): Buffer {
    return this.ids.subarray(n * ID, n * ID + ID);
  }

  /** The location of entry `n`. */
  locationAt(n: number): BlobLocation {
    const p = this.pack[n];
    const location: BlobLocation = {
      packId: this.packIds.toString('hex', p * ID, p * ID + ID),
      type: (this.type[n] & 1) === 1 ? 'tree' : 'data',
      offset: this.offset[n],
      length: this.length[n],
      compressed: (this.type[n] & 2) === 2,
    };
    if (location.compressed) location.uncompressedLength = this.plainLength[n];
    return location;
  }

  /** The stored length of entry `n`, without making a location object. */
  lengthAt(n: number): number {
    return this.length[n];
  }

  /** The plaintext length of entry `n` (a compressed blob's `uncompressed_length`), without making a location object. */
  plaintextLengthAt(n: number, sealOverhead: number): number {
    return this.isCompressedAt(n) ? this.plainLength[n] : this.length[n] - sealOverhead;
  }

  /** Whether entry `n` is zstd-compressed, without making a location object. */
  isCompressedAt(n: number): boolean {
    return (this.type[n] & 2) === 2;
  }

  /** The pack number of entry `n` (0 … packs-1), to group entries by pack without strings. */
  packNumberAt(n: number): number {
    return this.pack[n];
  }

  /** Number of packs the entries point into. */
  get packs(): number {
    return this.packCount;
  }

  /** The id of pack number `p`. */
  packIdAt(p: number): string {
    return this.packIds.toString('hex', p * ID, p * ID + ID);
  }

  /** Bytes held by the index's arrays (what `size` blobs cost). */
  get bytes(): number {
    return this.ids.length + this.pack.byteLength + this.offset.byteLength + this.length.byteLength + this.plainLength.byteLength + this.type.byteLength + this.slots.byteLength + this.packIds.length;
  }

  private packNumber(hex: string): number {
    let n = this.packNumbers.get(hex);
    if (n !== undefined) return n;
    if ((this.packCount + 1) * ID > this.packIds.length) {
      const bigger = Buffer.alloc(Math.max(64, this.packIds.length * 2));
      this.packIds.copy(bigger);
      this.packIds = bigger;
    }
    n = this.packCount++;
    Buffer.from(hex, 'hex').copy(this.packIds, n * ID);
    this.packNumbers.set(hex, n);
    return n;
  }

  private find(id: Buffer): number {
    if (this.slots.length === 0) return -1;
    const mask = this.slots.length - 1;
    for (let s = id.readUInt32LE(0) & mask; ; s = (s + 1) & mask) {
      const n = this.slots[s] - 1;
      if (n < 0) return -1;
      if (this.ids.compare(id, 0, ID, n * ID, n * ID + ID) === 0) return n;
    }
  }

  private insertSlot(n: number): void {
    const mask = this.slots.length - 1;
    let s = this.ids.readUInt32LE(n * ID) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = n + 1;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.type.length * 2);
    const ids = Buffer.alloc(capacity * ID);
    this.ids.copy(ids);
    this.ids = ids;
    this.pack = copyInto(new Uint32Array(capacity), this.pack);
    this.offset = copyInto(new Uint32Array(capacity), this.offset);
    this.length = copyInto(new Uint32Array(capacity), this.length);
    this.plainLength = copyInto(new Uint32Array(capacity), this.plainLength);
    this.type = copyInto(new Uint8Array(capacity), this.type);
    // A table twice the capacity keeps probes short; it is rebuilt from the ids.
    this.slots = new Int32Array(capacity * 2);
    for (let n = 0; n < this.count; n++) this.insertSlot(n);
  }
}

function copyInto<T extends Uint32Array | Float64Array | Uint8Array>(target: T, source: T): T {
  target.set(source as never);
  return target;
}
