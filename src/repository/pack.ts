/**
 * Pack files (`data/xx/<id>`): sealed blobs one after another, then the sealed header listing each
 * blob (type byte, sealed length as uint32 little-endian, for a zstd-compressed blob of format
 * version 2 also its uncompressed length, then the 32-byte id), then the sealed header's length as
 * uint32 little-endian. The pack's id is the SHA-256 of the whole file.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { BlobType } from './blob-index.ts';
import { open, SEAL_OVERHEAD, sealInto, sealTo, type CryptoKey } from './crypto.ts';

/** One blob in a pack, as the header and the index describe it. */
export interface PackedBlob {
  id: Buffer;
  type: BlobType;
  offset: number;
  length: number;
  /** Set for zstd-compressed blobs (format version 2), with the length of their plaintext. */
  compressed?: boolean;
  uncompressedLength?: number;
}

const ENTRY_SIZE = 37;
const COMPRESSED_ENTRY_SIZE = 41;

/** Collects sealed blobs until the pack is big enough, then yields the finished file. */
export class PackBuilder {
  /** The pack so far, in one buffer that grows by doubling, so finishing copies nothing. */
  private buffer: Buffer = Buffer.allocUnsafe(0);
  readonly blobs: PackedBlob[] = [];
  private bytes = 0;
  private headerBytes = 0;

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

  /**
   * Seals `payload` and appends it: the plaintext whose SHA-256 is `id`, or, with
   * `uncompressedLength`, a zstd frame of that plaintext (a compressed blob, format version 2 only).
   */
  add(key: CryptoKey, type: BlobType, id: Buffer, payload: Uint8Array, uncompressedLength?: number): void {
    const length = payload.length + SEAL_OVERHEAD;
    this.reserve(length);
    sealInto(key, payload, this.buffer.subarray(this.bytes, this.bytes + length));
    this.push(id, type, length, uncompressedLength);
  }

  /** Appends a blob sealed elsewhere as it is (prune's copy of a blob it checked), compressed or not. */
  addSealed(type: BlobType, id: Buffer, sealed: Uint8Array, uncompressedLength?: number): void {
    this.reserve(sealed.length);
    this.buffer.set(sealed, this.bytes);
    this.push(id, type, sealed.length, uncompressedLength);
  }

  private push(id: Buffer, type: BlobType, length: number, uncompressedLength: number | undefined): void {
    const compressed = uncompressedLength !== undefined;
    this.blobs.push({ id, type, offset: this.bytes, length, ...(compressed ? { compressed, uncompressedLength } : {}) });
    this.bytes += length;
    this.headerBytes += compressed ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
  }

  private reserve(more: number): void {
    if (this.bytes + more <= this.buffer.length) return;
    // Doubling, but never past what a full pack needs, which is what the engine's memory is made of.
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes + more, Math.min(this.buffer.length * 2 || 64 * 1024, this.capacity)));
    this.buffer.copy(bigger, 0, 0, this.bytes);
    this.buffer = bigger;
  }

  /** As `PackFile.discard`: a pack in memory leaves nothing behind to remove. */
  discard(): void {}

  /** The pack file and its id: blobs, sealed header, header length. */
  finish(key: CryptoKey): { id: string; bytes: Buffer } {
    const header = packHeader(this.blobs, this.headerBytes);
    const sealedLength = header.length + SEAL_OVERHEAD;
    this.reserve(sealedLength + 4);
    sealInto(key, header, this.buffer.subarray(this.bytes, this.bytes + sealedLength));
    this.buffer.writeUInt32LE(sealedLength, this.bytes + sealedLength);
    const bytes = this.buffer.subarray(0, this.bytes + sealedLength + 4);
    return { id: createHash('sha256').update(bytes).digest('hex'), bytes };
  }
}

/** The plaintext header listing `blobs` (`bytes` long: their entries' sizes added up). */
function packHeader(blobs: PackedBlob[], bytes: number): Buffer {
  const header = Buffer.alloc(bytes);
  let at = 0;
  for (const blob of blobs) {
    header[at] = (blob.type === 'tree' ? 1 : 0) | (blob.compressed ? 2 : 0);
    header.writeUInt32LE(blob.length, at + 1);
    if (blob.compressed) header.writeUInt32LE(blob.uncompressedLength!, at + 5);
    blob.id.copy(header, at + (blob.compressed ? 9 : 5));
    at += blob.compressed ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
  }
  return header;
}

/** The marker in the names of packs being filled (LocalBackend's temp names carry it too). */
export const PACK_TEMP_MARKER = '.cairn-tmp-';
/** Bytes gathered before each write to the file: few system calls, little memory. */
const STAGING_BYTES = 256 * 1024;

/**
 * A pack filled in a local file rather than in memory, as restic fills its packs: each blob is
 * sealed piece by piece into a small staging buffer and written on, and the pack's SHA-256 is
 * computed as it goes, so a 16 MiB pack costs a quarter of a megabyte of memory instead of its
 * size. The file is created in `folder` at the first blob; `finish` completes it and hands it to
 * the caller (who gives it to `RepositoryBackend.writeFile`), `discard` removes it. Writes are
 * synchronous: the engine runs off the daemon's event loop (see backup.ts).
 */
export class PackFile {
  readonly blobs: PackedBlob[] = [];
  private fd = -1;
  private file = '';
  private bytes = 0;
  private headerBytes = 0;
  private hash: Hash = createHash('sha256');
  private readonly staging = Buffer.allocUnsafe(STAGING_BYTES);
  private staged = 0;

  constructor(private readonly folder: string) {}

  /** Sealed bytes so far. */
  get size(): number {
    return this.bytes;
  }

  /** As `PackBuilder.add`. */
  add(key: CryptoKey, type: BlobType, id: Buffer, payload: Uint8Array, uncompressedLength?: number): void {
    const start = this.bytes;
    sealTo(key, payload, (piece) => this.append(piece));
    this.push(id, type, start, uncompressedLength);
  }

  /** As `PackBuilder.addSealed`. */
  addSealed(type: BlobType, id: Buffer, sealed: Uint8Array, uncompressedLength?: number): void {
    const start = this.bytes;
    this.append(sealed);
    this.push(id, type, start, uncompressedLength);
  }

  private push(id: Buffer, type: BlobType, start: number, uncompressedLength: number | undefined): void {
    const compressed = uncompressedLength !== undefined;
    this.blobs.push({ id, type, offset: start, length: this.bytes - start, ...(compressed ? { compressed, uncompressedLength } : {}) });
    this.headerBytes += compressed ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
  }

  private append(bytes: Uint8Array): void {
    if (this.fd < 0) {
      this.file = path.join(this.folder, `pack${PACK_TEMP_MARKER}${randomBytes(8).toString('hex')}`);
      this.fd = openSync(this.file, 'wx', 0o600);
    }
    this.hash.update(bytes);
    this.bytes += bytes.length;
    if (this.staged + bytes.length > STAGING_BYTES) this.flushStaging();
    if (bytes.length >= STAGING_BYTES) this.writeAll(bytes);
    else {
      this.staging.set(bytes, this.staged);
      this.staged += bytes.length;
    }
  }

  private flushStaging(): void {
    this.writeAll(this.staging.subarray(0, this.staged));
    this.staged = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }

  /**
   * Appends the sealed header and its length and closes the file: the pack's id, the file's local
   * path (now the caller's to store or remove) and its size. Not to be called on an empty pack.
   */
  finish(key: CryptoKey): { id: string; file: string; size: number } {
    const header = packHeader(this.blobs, this.headerBytes);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length + SEAL_OVERHEAD);
    sealTo(key, header, (piece) => this.append(piece));
    this.append(length);
    this.flushStaging();
    closeSync(this.fd);
    this.fd = -1;
    const file = this.file;
    this.file = '';
    return { id: this.hash.digest('hex'), file, size: this.bytes };
  }

  /** Removes the file of a pack that will not be written (a failed or cancelled run). */
  discard(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Already failing (the disk): the file is removed all the same.
      }
    }
    this.fd = -1;
    if (this.file) rmSync(this.file, { force: true });
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
    const type = kind % 2 === 1 ? 'tree' : 'data';
    const id = Buffer.from(header.subarray(idAt, idAt + 32));
    blobs.push(compressed ? { id, type, offset, length, compressed, uncompressedLength: header.readUInt32LE(at + 5) } : { id, type, offset, length });
    offset += length;
    at += compressed ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
  }
  if (offset + headerLength + 4 !== packSize) throw new RangeError('blob lengths do not add up to the pack size');
  return blobs;
}
