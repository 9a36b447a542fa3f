/**
 * Pack files (`data/xx/<id>`): sealed blobs one after another, then the sealed header listing each
 * blob (type byte, sealed length as uint32 little-endian, 32-byte id), then the sealed header's
 * length as uint32 little-endian. The pack's id is the SHA-256 of the whole file.
 */
import { createHash } from 'node:crypto';
import type { BlobType } from './blob-index.ts';
import { open, SEAL_OVERHEAD, sealInto, type CryptoKey } from './crypto.ts';

/** One blob in a pack, as the header and the index describe it. */
export interface PackedBlob {
  id: Buffer;
  type: BlobType;
  offset: number;
  length: number;
  /** Set for zstd-compressed blobs (format version 2); this engine refuses to read those. */
  compressed?: boolean;
}

const ENTRY_SIZE = 37;
const COMPRESSED_ENTRY_SIZE = 41;

/** Collects sealed blobs until the pack is big enough, then yields the finished file. */
export class PackBuilder {
  /** The pack so far, in one buffer that grows by doubling, so finishing copies nothing. */
  private buffer: Buffer = Buffer.allocUnsafe(0);
  readonly blobs: PackedBlob[] = [];
  private bytes = 0;

  /**
   * @param reuse a buffer to build in (a written pack's), so packs do not each allocate their own
   * @param capacity the most the buffer grows to by doubling: the pack target plus a largest blob
   */
  constructor(reuse?: Buffer, private readonly capacity = 25 * 1024 * 1024) {
    if (reuse) this.buffer = reuse;
  }

  /** The buffer the pack is built in (valid until the next `add`). */
  get storage(): Buffer {
    return this.buffer;
  }

  /** Sealed bytes so far. */
  get size(): number {
    return this.bytes;
  }

  /** Seals `plaintext` (whose SHA-256 is `id`) and appends it. */
  add(key: CryptoKey, type: BlobType, id: Buffer, plaintext: Uint8Array): void {
    const length = plaintext.length + SEAL_OVERHEAD;
    this.reserve(length);
    sealInto(key, plaintext, this.buffer.subarray(this.bytes, this.bytes + length));
    this.blobs.push({ id, type, offset: this.bytes, length });
    this.bytes += length;
  }

  /**
   * Appends a blob sealed already (read from another pack, its MAC and hash checked by the caller):
   * a sealed blob stands alone (IV, ciphertext, MAC), so prune copies it rather than sealing again.
   */
  addSealed(type: BlobType, id: Buffer, sealed: Uint8Array): void {
    this.reserve(sealed.length);
    this.buffer.set(sealed, this.bytes);
    this.blobs.push({ id, type, offset: this.bytes, length: sealed.length });
    this.bytes += sealed.length;
  }

  private reserve(more: number): void {
    if (this.bytes + more <= this.buffer.length) return;
    // Doubling, but never past what a full pack needs, which is what the engine's memory is made of.
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes + more, Math.min(this.buffer.length * 2 || 64 * 1024, this.capacity)));
    this.buffer.copy(bigger, 0, 0, this.bytes);
    this.buffer = bigger;
  }

  /** The pack file and its id: blobs, sealed header, header length. */
  finish(key: CryptoKey): { id: string; bytes: Buffer } {
    const header = Buffer.alloc(this.blobs.length * ENTRY_SIZE);
    this.blobs.forEach((blob, i) => {
      const at = i * ENTRY_SIZE;
      header[at] = blob.type === 'tree' ? 1 : 0;
      header.writeUInt32LE(blob.length, at + 1);
      blob.id.copy(header, at + 5);
    });
    const sealedLength = header.length + SEAL_OVERHEAD;
    this.reserve(sealedLength + 4);
    sealInto(key, header, this.buffer.subarray(this.bytes, this.bytes + sealedLength));
    this.buffer.writeUInt32LE(sealedLength, this.bytes + sealedLength);
    const bytes = this.buffer.subarray(0, this.bytes + sealedLength + 4);
    return { id: createHash('sha256').update(bytes).digest('hex'), bytes };
  }
}

/**
 * The blobs a pack's header lists, given the pack's last bytes (`tail`, at least the header and
 * its length) and the pack's size. Throws MacMismatch from `open` when the header was changed.
 */
export function parsePackHeader(key: CryptoKey, tail: Buffer, packSize: number): PackedBlob[] {
  const headerLength = tail.readUInt32LE(tail.length - 4);
  if (headerLength + 4 > tail.length) throw new RangeError(`header of ${headerLength} bytes does not fit`);
  const header = open(key, tail.subarray(tail.length - 4 - headerLength, tail.length - 4));
  const blobs: PackedBlob[] = [];
  let offset = 0;
  for (let at = 0; at < header.length; ) {
    const kind = header[at];
    const compressed = kind === 2 || kind === 3;
    if (kind > 3) throw new RangeError(`unknown blob type ${kind}`);
    const length = header.readUInt32LE(at + 1);
    const idAt = at + (compressed ? 9 : 5);
    blobs.push({ id: Buffer.from(header.subarray(idAt, idAt + 32)), type: kind % 2 === 1 ? 'tree' : 'data', offset, length, compressed });
    offset += length;
    at += compressed ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
  }
  if (offset + headerLength + 4 !== packSize) throw new RangeError('blob lengths do not add up to the pack size');
  return blobs;
}
