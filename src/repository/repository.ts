/**
 * An open repository: its config and master key, the blob index, and the reads and writes every
 * operation needs: unpacked files (config, index, snapshots, locks: each sealed JSON, named by the
 * SHA-256 of its stored bytes) and blobs (in packs). New blobs are gathered into packs; a pack is
 * written before the index file that names it, and the index before any snapshot that needs it,
 * so an interrupted run leaves only unreferenced packs behind.
 *
 * Format version 2 (what `restic init` makes since 0.14) may zstd-compress blobs and unpacked files
 * (not `config`): both forms are read there, and the compressed one written; version 1 never gets it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BlobIndex, type BlobLocation, type BlobType } from './blob-index.ts';
import { filePath, type RepositoryBackend, type RepositoryFolder } from './backend.ts';
import { cryptoReady, keyFromJSON, keyToJSON, MacMismatch, newKey, open, SEAL_OVERHEAD, seal, sealedPlaintextHash, type CryptoKey } from './crypto.ts';
import { conflict } from '../domain/errors.ts';
import { damaged, malformed, missing, unsupported } from './errors.ts';
import { addKey, openMasterKey, parseJSON, DEFAULT_SCRYPT } from './keys.ts';
import { PackBuilder, PackFile, parsePackHeader, type PackedBlob } from './pack.ts';
import { degree, isIrreducible, randomPolynomial } from './polynomial.ts';
import { loadZstd, type Zstd } from './zstd.ts';

/** What `config` holds. */
export interface RepositoryConfig {
  /** 1: no compression; 2: blobs and unpacked files may be zstd-compressed. */
  version: 1 | 2;
  id: string;
  chunkerPolynomial: bigint;
}

/** Pack size at which a pack is written: restic's default 16 MiB is a good size for every store. */
export const PACK_TARGET = 16 * 1024 * 1024;
/**
 * A buffer for a pack being built: untouched memory until blobs fill it (large allocations are
 * mapped lazily), so the tree pack's buffer costs only what trees fill.
 */
function packBuffer(): Buffer {
  return Buffer.allocUnsafe(PACK_TARGET);
}

/** The most a pack of `blobs` blobs adds for its header: entries (at most 41 bytes), the seal, the length. */
function headerBytes(blobs: number): number {
  return blobs * 41 + SEAL_OVERHEAD + 4;
}

/** Blobs per index file, as restic splits them. */
const INDEX_FILE_BLOBS = 50_000;

/** A pack being filled: in a local file (`PackFile`) where the backend stores files, else in memory. */
type OpenPack = PackBuilder | PackFile;

/** See `Repository.packWriter`. */
export interface PackWriter {
  /** Seals `plaintext` (whose SHA-256 is `id`) into the pack. */
  add(type: BlobType, id: Buffer, plaintext: Uint8Array): void;
  /** Copies a blob sealed elsewhere as it is (compressed when `uncompressedLength` is given). */
  addSealed(type: BlobType, id: Buffer, sealed: Uint8Array, uncompressedLength?: number): void;
  /** Sealed bytes in the pack so far. */
  size(): number;
  /** Writes the pack (whole or not at all) and starts an empty one; null when it was empty. */
  write(): Promise<{ id: string; size: number; blobs: PackedBlob[] } | null>;
  /** Drops the pack being filled (its file, when filled in one): for a run that stops. */
  discard(): void;
}

/** What `loadIndex` shows a caller that looks at every index file (check). */
export interface IndexVisitor {
  pack?(pack: IndexPack, indexFile: string): void;
  badFile?(indexFile: string, error: unknown): void;
}

/** An index file's content, as restic writes it. */
export interface IndexJSON {
  supersedes?: string[];
  packs: IndexPack[];
}

/** One pack in an index file: its blobs, in the order they are stored. */
export interface IndexPack {
  id: string;
  blobs: Array<{ id: string; type: BlobType; offset: number; length: number; uncompressed_length?: number }>;
}

/**
 * Creates a repository in an empty store, sealed with `password`: format version 2 with zstd
 * compression (as `restic init` makes by default) when the runtime has zstd (see zstd.ts), else
 * version 1; `options.version` asks for one. Refuses a store that already has a config.
 */
export async function initRepository(backend: RepositoryBackend, password: string, options: { scrypt?: typeof DEFAULT_SCRYPT; version?: 1 | 2 } = {}): Promise<Repository> {
  if (await backend.stat('config')) throw conflict('REPOSITORY_EXISTS', `${backend.where()} already holds a repository; open it with its password instead.`);
  const zstd = await loadZstd();
  const version = options.version ?? (zstd ? 2 : 1);
  await backend.prepare?.();
  const key = newKey();
  const config: RepositoryConfig = { version, id: randomBytes(32).toString('hex'), chunkerPolynomial: randomPolynomial() };
  const keyId = await addKey(backend, key, password, options.scrypt);
  const json = { version: config.version, id: config.id, chunker_polynomial: config.chunkerPolynomial.toString(16) };
  // `config` is plain JSON in every version: it says which version the rest is.
  await backend.write('config', seal(key, Buffer.from(JSON.stringify(json))));
  return new Repository(backend, key, config, version === 2 ? zstd : null, keyId);
}

/**
 * Opens the repository in `backend` with `password` (REPOSITORY_WRONG_PASSWORD when it opens no
 * key) and reads its config. The index is not loaded: call `loadIndex`.
 */
export async function openRepository(backend: RepositoryBackend, password: string): Promise<Repository> {
  const { key, keyId } = await openMasterKey(backend, password);
  const repo = await openWithMasterKey(backend, key, keyId);
  if (!repo) throw damaged(backend.where('config'));
  return repo;
}

/** `unseal()`'s answer; a MAC that does not match is REPOSITORY_DAMAGED naming `where`. */
function damagedOnMismatch<T>(where: string, unseal: () => T): T {
  try {
    return unseal();
  } catch (error) {
    if (error instanceof MacMismatch) throw damaged(where);
    throw error;
  }
}

/** A master key an earlier open of the repository found, and the key file that sealed it (see `Repository.rememberable`). */
export interface RememberedKey {
  keyId: string;
  /** `keyToJSON`'s shape: plain data, so that it crosses a process boundary as it is. */
  master: object;
}

/**
 * Opens the repository with a master key remembered from an earlier open (no scrypt): null when it
 * is not this repository's (the place now holds another repository, or the key file that sealed
 * it is gone, as after `restic key passwd`: then the password must decide). The config's MAC is
 * the check that the key is the repository's. Other faults (a store that cannot be read, a config
 * that is not JSON) throw as `openRepository` does.
 */
export async function openRepositoryWithKey(backend: RepositoryBackend, remembered: RememberedKey): Promise<Repository | null> {
  const key = keyFromJSON(remembered.master);
  if (!key || !/^[0-9a-f]{64}$/.test(remembered.keyId)) return null;
  // The key file still there means the password still opens this same master key: key files are
  // named by the hash of their bytes, so one that was rewritten has another name.
  if (!(await backend.stat(filePath('keys', remembered.keyId)))) return null;
  // Loaded by openMasterKey after scrypt; without scrypt it is loaded here.
  await cryptoReady();
  return openWithMasterKey(backend, key, remembered.keyId);
}

/** Reads the config with `key`; null when its MAC does not match (not this repository's key). */
async function openWithMasterKey(backend: RepositoryBackend, key: CryptoKey, keyId: string): Promise<Repository | null> {
  const sealed = await backend.read('config');
  let plain: Buffer;
  try {
    plain = open(key, sealed);
  } catch (error) {
    if (error instanceof MacMismatch) return null;
    throw error;
  }
  const json = parseJSON(plain, backend.where('config')) as { version?: unknown; id?: unknown; chunker_polynomial?: unknown };
  if (json.version !== 1 && json.version !== 2) throw unsupported(`${backend.where()} is repository format version ${String(json.version)}; Cairn reads versions 1 and 2.`);
  if (typeof json.id !== 'string' || typeof json.chunker_polynomial !== 'string' || !/^[0-9a-f]{1,16}$/.test(json.chunker_polynomial)) {
    throw malformed(backend.where('config'), 'id or chunker_polynomial missing');
  }
  const polynomial = BigInt(`0x${json.chunker_polynomial}`);
  if (degree(polynomial) > 53 || !isIrreducible(polynomial)) throw malformed(backend.where('config'), 'the chunker polynomial is not irreducible of degree ≤ 53');
  // restic only ever makes degree 53; the chunker's integer loop needs at least 40.
  if (degree(polynomial) < 40) throw unsupported(`${backend.where()} uses a chunker polynomial of degree ${degree(polynomial)}; Cairn supports 40–53.`);
  const zstd = json.version === 2 ? await loadZstd() : null;
  return new Repository(backend, key, { version: json.version, id: json.id, chunkerPolynomial: polynomial }, zstd, keyId);
}

/** See the module comment. One backup or restore at a time per instance. */
export class Repository {
  private blobIndex = new BlobIndex();
  /** The packs being filled, made at their first blob. */
  private packs: Record<BlobType, OpenPack | null> = { data: null, tree: null };
  /** Where packs are filled as files (`RepositoryBackend.tempFolder`), asked once; null: in memory. */
  private packFolder: Promise<string | null> | null = null;
  /** Ids in the packs not yet written, so a blob seen twice in one run is stored once. */
  private readonly unwritten = new Set<string>();
  private pendingIndex: IndexJSON['packs'] = [];
  private pendingBlobs = 0;
  private packWrite: Promise<void> = Promise.resolve();
  private packWriteError: unknown = null;
  /** The buffer of the last pack written in memory, for the next pack instead of allocating another. */
  private spareBuffer: Buffer | null = null;
  /** Bytes of packs written by this instance (what a run added to the repository). */
  packBytesWritten = 0;

  /**
   * @param zstd the compressor of a version 2 repository (null in version 1, which is never
   * compressed, and where the runtime has none: then what is written is stored uncompressed, which
   * version 2 allows, and compressed data is REPOSITORY_UNSUPPORTED when read)
   */
  constructor(
    readonly backend: RepositoryBackend,
    private readonly key: CryptoKey,
    readonly config: RepositoryConfig,
    private readonly zstd: Zstd | null = null,
    /** The key file (`keys/<id>`) that opened (or, at creation, sealed) the master key; null when not known. */
    readonly keyId: string | null = null,
  ) {
    if (config.version !== 2) this.zstd = null;
  }

  /**
   * The master key and its key file, for `openRepositoryWithKey` to open the repository again
   * without scrypt (null when the key file is not known). Secret: the daemon keeps it in memory only.
   */
  rememberable(): RememberedKey | null {
    return this.keyId === null ? null : { keyId: this.keyId, master: keyToJSON(this.key) };
  }

  /** Adds another key file that `password` opens (e.g. for a recovery kit); returns its id. */
  addKey(password: string): Promise<string> {
    return addKey(this.backend, this.key, password);
  }

  /** The blob index (what `loadIndex` read, plus the packs this instance wrote since). */
  get index(): BlobIndex {
    return this.blobIndex;
  }

  /**
   * Reads every index file into `index`. With `visit`, each pack entry of each file is shown to
   * `visit.pack` (duplicates included, which the index itself drops), and a file that cannot be
   * read or is malformed goes to `visit.badFile` and is skipped instead of failing the load.
   */
  async loadIndex(visit?: IndexVisitor): Promise<void> {
    for (const id of await this.list('index')) {
      let packs: IndexPack[];
      try {
        packs = await this.readIndexFile(id);
      } catch (error) {
        if (!visit?.badFile || !isRepositoryFault(error)) throw error;
        visit.badFile(id, error);
        continue;
      }
      for (const pack of packs) {
        visit?.pack?.(pack, id);
        for (const blob of pack.blobs) {
          const compressed = blob.uncompressed_length !== undefined;
          this.index.add(Buffer.from(blob.id, 'hex'), { packId: pack.id, type: blob.type, offset: blob.offset, length: blob.length, compressed, uncompressedLength: blob.uncompressed_length });
        }
      }
    }
  }

  /**
   * Forgets the index in memory and reads the index files again: after a prune replaced them, the
   * old entries would name packs that are gone.
   */
  async reloadIndex(visit?: IndexVisitor): Promise<void> {
    this.blobIndex = new BlobIndex();
    await this.loadIndex(visit);
  }

  /** The packs one index file lists, checked for shape (REPOSITORY_MALFORMED names the file). */
  async readIndexFile(id: string): Promise<IndexPack[]> {
    const json = (await this.readUnpacked('index', id)) as IndexJSON;
    if (!Array.isArray(json?.packs)) throw malformed(this.backend.where(filePath('index', id)), 'no packs');
    for (const pack of json.packs) {
      if (!isHexId(pack?.id) || !Array.isArray(pack.blobs) || !pack.blobs.every(isIndexBlob)) {
        throw malformed(this.backend.where(filePath('index', id)), 'a pack entry has a bad id, type, offset or length');
      }
    }
    return json.packs;
  }

  /**
   * A pack filled outside the run's own packing, for prune's copies of blobs the index already
   * names elsewhere: each blob is sealed as it is added (no plaintext is held), and `write` stores
   * the pack and starts the next one. Nothing is added to the index: the caller writes the index
   * that names the pack. Filled in a file where the backend takes one (`writeFile`); else in a
   * buffer, which `bufferBytes` sizes up front (a full pack's worth saves the copies of growing
   * it; without it the buffer grows by doubling).
   */
  async packWriter(bufferBytes?: number): Promise<PackWriter> {
    const folder = await this.filePackFolder();
    const fresh = (reuse?: Buffer): OpenPack => (folder ? new PackFile(folder) : new PackBuilder(reuse ?? (bufferBytes ? Buffer.allocUnsafe(bufferBytes) : undefined)));
    let builder = fresh();
    return {
      add: (type, id, plaintext) => builder.add(this.key, type, id, plaintext),
      addSealed: (type, id, sealed, uncompressedLength) => builder.addSealed(type, id, sealed, uncompressedLength),
      size: () => builder.size,
      write: async () => {
        if (builder.blobs.length === 0) return null;
        const pack = builder;
        const { id, size } = await this.storePack(pack);
        builder = fresh(pack instanceof PackBuilder ? pack.storage : undefined);
        return { id, size, blobs: pack.blobs };
      },
      discard: () => {
        builder.discard();
      },
    };
  }

  /** The folder packs are filled in as files, or null when the backend takes no files (then in memory). */
  private filePackFolder(): Promise<string | null> {
    this.packFolder ??= this.backend.writeFile && this.backend.tempFolder ? this.backend.tempFolder() : Promise.resolve(null);
    return this.packFolder;
  }

  /** Finishes `pack` and stores it (whole or not at all); its id and size. */
  private async storePack(pack: OpenPack): Promise<{ id: string; size: number }> {
    let done: ReturnType<OpenPack['finish']>;
    try {
      done = pack.finish(this.key);
    } catch (error) {
      // Its last writes failed (a full disk): no one else holds it now, so its file goes here.
      pack.discard();
      throw error;
    }
    const path = filePath('data', done.id);
    if ('bytes' in done) {
      await this.backend.write(path, done.bytes);
      return { id: done.id, size: done.bytes.length };
    }
    await this.backend.writeFile!(path, done.file);
    return { id: done.id, size: done.size };
  }

  /**
   * The blobs a pack's own header lists (REPOSITORY_DAMAGED when its MAC fails or the lengths do
   * not add up to `size`, the pack's size in the store).
   */
  async readPackHeader(packId: string, size: number): Promise<PackedBlob[]> {
    const path = filePath('data', packId);
    const where = this.backend.where(path);
    if (size < 4 + 32) throw damaged(`the header of pack ${where} (the file is ${size} bytes)`);
    const lengthBytes = await this.backend.read(path, { offset: size - 4, length: 4 });
    const headerLength = lengthBytes.readUInt32LE(0);
    if (headerLength + 4 > size) throw damaged(`the header of pack ${where} (it claims ${headerLength} bytes)`);
    const tail = await this.backend.read(path, { offset: size - 4 - headerLength, length: headerLength + 4 });
    try {
      return parsePackHeader(this.key, tail, size);
    } catch (error) {
      if (error instanceof MacMismatch || error instanceof RangeError) throw damaged(`the header of pack ${where}`, error);
      throw error;
    }
  }

  /** The ids of the files in `folder` (snapshots, index, locks, keys). */
  async list(folder: RepositoryFolder): Promise<string[]> {
    const ids: string[] = [];
    for await (const entry of this.backend.list(folder)) if (/^[0-9a-f]{64}$/.test(entry.name)) ids.push(entry.name);
    return ids;
  }

  /** Reads and opens one unpacked file; checks that its name is its hash and its MAC. */
  async readUnpacked(folder: RepositoryFolder, id: string): Promise<unknown> {
    const path = filePath(folder, id);
    const where = this.backend.where(path);
    const bytes = await this.backend.read(path);
    if (createHash('sha256').update(bytes).digest('hex') !== id) throw damaged(where);
    const plain = damagedOnMismatch(where, () => open(this.key, bytes));
    return parseJSON(this.decodeUnpacked(plain, where), where);
  }

  /**
   * The JSON of an unpacked file's plaintext. In version 2 a first byte of 2 means zstd-compressed
   * JSON follows; '{' or '[' (and anything in version 1, as restic reads it) is the JSON itself.
   */
  private decodeUnpacked(plain: Buffer, where: string): Buffer {
    if (this.config.version < 2 || plain[0] === 0x7b || plain[0] === 0x5b) return plain;
    if (plain[0] !== 2) throw malformed(where, `unknown encoding version ${plain[0] ?? '(empty file)'}`);
    const zstd = this.zstd;
    if (!zstd) throw unsupported(`${where} is zstd-compressed (repository format 2), and this runtime offers no zstd.`);
    try {
      return Buffer.from(zstd.decompress(plain.subarray(1)));
    } catch (error) {
      throw malformed(where, `its zstd data does not decompress (${(error as Error).message})`);
    }
  }

  /**
   * Seals `value` as JSON (zstd-compressed behind the version byte 2 in a version 2 repository, as
   * restic writes it) and writes it under the SHA-256 of the stored bytes; returns that id.
   */
  async writeUnpacked(folder: RepositoryFolder, value: unknown): Promise<string> {
    const json = Buffer.from(JSON.stringify(value));
    const bytes = seal(this.key, this.zstd ? Buffer.concat([VERSION_ZSTD, this.zstd.compress(json)]) : json);
    const id = createHash('sha256').update(bytes).digest('hex');
    await this.backend.write(filePath(folder, id), bytes);
    return id;
  }

  /** Whether a blob with this id is stored or about to be. */
  hasBlob(id: Buffer): boolean {
    return this.index.has(id) || this.unwritten.has(id.toString('hex'));
  }

  /**
   * Stores `plaintext` as a blob of `type` unless one with its id exists; returns the id
   * (SHA-256 of the plaintext) and whether it was new. Full packs are written as they fill.
   */
  async saveBlob(type: BlobType, plaintext: Uint8Array, knownId?: Buffer): Promise<{ id: Buffer; added: boolean }> {
    const id = knownId ?? createHash('sha256').update(plaintext).digest();
    if (this.hasBlob(id)) return { id, added: false };
    this.unwritten.add(id.toString('hex'));
    // Version 2: compressed when that saves bytes; already compressed media is stored as it is
    // (the format allows both in one pack), which also spares the restore a decompression.
    const compressed = this.zstd?.compress(plaintext);
    const shrunk = compressed && compressed.length < plaintext.length ? compressed : undefined;
    const payload = shrunk ?? plaintext;
    // The pack is cut before a blob would take it past the target, so its buffer (PACK_TARGET,
    // allocated once and reused) never grows: growing by doubling left ~60 MB of old buffers to
    // the garbage collector per pack buffer, and sized the buffers at 25 MiB for the largest blob.
    const sealed = payload.length + SEAL_OVERHEAD;
    const filling = this.packs[type];
    if (filling && filling.blobs.length > 0 && filling.size + sealed + headerBytes(filling.blobs.length + 1) > PACK_TARGET) await this.writePack(type);
    const pack = (this.packs[type] ??= await this.newPack());
    pack.add(this.key, type, id, payload, shrunk ? plaintext.length : undefined);
    if (pack.size + headerBytes(pack.blobs.length) >= PACK_TARGET) await this.writePack(type);
    return { id, added: true };
  }

  /**
   * An empty pack: a file where the backend takes files (memory then holds no pack at all), else a
   * buffer of PACK_TARGET, the written pack's when there is one.
   */
  private async newPack(): Promise<OpenPack> {
    const folder = await this.filePackFolder();
    if (folder) return new PackFile(folder);
    const buffer = this.spareBuffer ?? packBuffer();
    this.spareBuffer = null;
    return new PackBuilder(buffer);
  }

  private async writePack(type: BlobType): Promise<void> {
    const pack = this.packs[type];
    if (!pack || pack.blobs.length === 0) return;
    // One pack in flight: the next one is filled while this one is stored (fsynced, or uploaded).
    // In memory that holds two packs, and the buffer of a stored pack is reused for the next. When
    // the last one failed, this one stays in `packs` for `discardUnwritten` to remove.
    await this.waitForPackWrite();
    this.packs[type] = null;
    this.packWrite = this.storePack(pack).then(
      ({ id, size }) => {
        this.packBytesWritten += size;
        for (const blob of pack.blobs) {
          this.index.add(blob.id, { packId: id, type: blob.type, offset: blob.offset, length: blob.length, compressed: blob.compressed === true, uncompressedLength: blob.uncompressedLength });
          this.unwritten.delete(blob.id.toString('hex'));
        }
        this.pendingIndex.push({ id, blobs: pack.blobs.map(indexEntry) });
        this.pendingBlobs += pack.blobs.length;
        if (pack instanceof PackBuilder) this.spareBuffer = pack.storage;
      },
      // Kept until the next pack or `flush` reports it, so it is never an unhandled rejection.
      (error: unknown) => {
        this.packWriteError = error;
      },
    );
    if (this.pendingBlobs >= INDEX_FILE_BLOBS) await this.writeIndex();
  }

  private async waitForPackWrite(): Promise<void> {
    await this.packWrite;
    if (this.packWriteError) throw this.packWriteError;
  }

  private async writeIndex(): Promise<void> {
    if (this.pendingIndex.length === 0) return;
    const packs = this.pendingIndex;
    this.pendingIndex = [];
    this.pendingBlobs = 0;
    await this.writeUnpacked('index', { packs } satisfies IndexJSON);
  }

  /** Writes the packs being filled and then the index naming every pack written since the last index. */
  async flush(): Promise<void> {
    await this.writePack('data');
    await this.writePack('tree');
    await this.waitForPackWrite();
    await this.writeIndex();
  }

  /**
   * After a failed or cancelled run: waits for the pack being written and forgets the blobs not yet
   * written, so the next run on this instance stores them again instead of trusting lost packs.
   */
  async discardUnwritten(): Promise<void> {
    await this.packWrite;
    this.packWriteError = null;
    for (const pack of Object.values(this.packs)) pack?.discard();
    this.packs = { data: null, tree: null };
    this.unwritten.clear();
  }

  /**
   * The plaintext of a blob, checked: the pack range's MAC, then the SHA-256 against the id.
   * `what` names the file or tree it belongs to in errors (REPOSITORY_DAMAGED, _FILE_MISSING).
   */
  async loadBlob(id: Buffer, what: string): Promise<Buffer> {
    const location = this.index.get(id);
    if (!location) throw damaged(`${what}: blob ${id.toString('hex').slice(0, 12)} is in no index, so it`);
    return this.readLocated(id, location, what);
  }

  private async readLocated(id: Buffer, location: BlobLocation, what: string): Promise<Buffer> {
    const path = filePath('data', location.packId);
    let bytes: Buffer;
    try {
      bytes = await this.backend.read(path, { offset: location.offset, length: location.length });
    } catch (error) {
      if ((error as { code?: string }).code === 'REPOSITORY_FILE_MISSING') throw missing(`${what}: its pack ${this.backend.where(path)}`);
      throw error;
    }
    return this.openBlob(bytes, id, `${what} (pack ${this.backend.where(path)})`, location.compressed ? location.uncompressedLength : undefined);
  }

  /**
   * The plaintext of a sealed blob read from a pack, after its MAC, then (a compressed blob, with
   * `uncompressedLength`) its zstd frame and length, then its SHA-256 against `id` are checked;
   * REPOSITORY_DAMAGED naming `what` otherwise (REPOSITORY_UNSUPPORTED: compressed, and no zstd here).
   */
  openBlob(sealed: Buffer, id: Buffer, what: string, uncompressedLength?: number): Buffer {
    let plain = damagedOnMismatch(what, () => open(this.key, sealed));
    if (uncompressedLength !== undefined) plain = this.decompressBlob(plain, uncompressedLength, what);
    if (!createHash('sha256').update(plain).digest().equals(id)) throw damaged(what);
    return plain;
  }

  /**
   * Checks a sealed blob as `openBlob` does, without returning (or keeping) its plaintext where it
   * need not be whole: an uncompressed blob is deciphered and hashed a piece at a time.
   */
  checkBlob(sealed: Buffer, id: Buffer, what: string, uncompressedLength?: number): void {
    if (uncompressedLength !== undefined) {
      this.openBlob(sealed, id, what, uncompressedLength);
      return;
    }
    if (!damagedOnMismatch(what, () => sealedPlaintextHash(this.key, sealed)).equals(id)) throw damaged(what);
  }

  private decompressBlob(frame: Buffer, uncompressedLength: number, what: string): Buffer {
    // Reading needs zstd even where writing went without: a restic-made version 2 repository.
    const zstd = this.zstd;
    if (!zstd) throw unsupported(`${what} is zstd-compressed (repository format ${this.config.version}), and this runtime offers no zstd.`);
    let plain: Uint8Array;
    try {
      plain = zstd.decompress(frame, uncompressedLength);
    } catch (error) {
      throw damaged(what, error);
    }
    if (plain.length !== uncompressedLength) throw damaged(what);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.length);
  }
}


/** Whether `error` says the repository's content is wrong (damaged, missing, malformed, unsupported) rather than the store failing. */
export function isRepositoryFault(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'REPOSITORY_DAMAGED' || code === 'REPOSITORY_FILE_MISSING' || code === 'REPOSITORY_MALFORMED' || code === 'REPOSITORY_UNSUPPORTED';
}

function isHexId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

function isIndexBlob(blob: IndexJSON['packs'][number]['blobs'][number]): boolean {
  const uint32 = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;
  return isHexId(blob?.id) && (blob.type === 'data' || blob.type === 'tree') && uint32(blob.offset) && uint32(blob.length) && (blob.uncompressed_length === undefined || uint32(blob.uncompressed_length));
}

/** The version byte of a zstd-compressed unpacked file (format version 2). */
const VERSION_ZSTD = Buffer.from([2]);

/** A pack's blob as an index file lists it (`uncompressed_length` only for a compressed one). */
export function indexEntry(blob: PackedBlob | (BlobLocation & { id: Buffer })): IndexPack['blobs'][number] {
  const entry: IndexPack['blobs'][number] = { id: blob.id.toString('hex'), type: blob.type, offset: blob.offset, length: blob.length };
  if (blob.compressed) entry.uncompressed_length = blob.uncompressedLength;
  return entry;
}
