/**
 * `prune`: frees the space of blobs no snapshot uses any more, as restic's `prune` does. Under an
 * exclusive lock: mark every blob reachable from the snapshots, delete packs nothing uses, copy the
 * used blobs of partly used packs into new packs (repack), write a new index, then remove the old
 * index files and the packs that went.
 *
 * Crash safety is the order: new packs, then the new index naming them, then the old index files,
 * then the old packs. Killed before the new index, the new packs are unreferenced (restic calls them
 * "additional files", harmless); between the index steps, a pack is named by two index files (a
 * hint to restic, not an error); during the pack removal, only packs no index names go. At every
 * point each index entry names an existing pack, so `restic check` passes and the next run works.
 *
 * Memory: the reachable set is a bitmap over the blob index's entry numbers (one bit a blob), and
 * the new index is another compact BlobIndex, never an object per blob.
 */
import { filePath } from './backend.ts';
import { BlobIndex, type BlobType } from './blob-index.ts';
import { damaged, missing, unreachable } from './errors.ts';
import { withLock } from './locks.ts';
import { indexEntry, PACK_TARGET, type IndexPack, type PackWriter, type Repository } from './repository.ts';
import { packRanges, RangeReader } from './pack-ranges.ts';
import { listSnapshots } from './snapshots.ts';
import { decodeTree } from './tree.ts';

export interface PruneOptions {
  /**
   * The unused share of the repository (percent of its pack bytes after the prune) tolerated in
   * partly used packs rather than repacking them; restic's `--max-unused`, default 5. 0 repacks
   * every partly used pack; 100 repacks none (only wholly unused packs go).
   */
  maxUnusedPercent?: number;
  /** Aborting stops before the new index is written (afterwards the prune finishes its removals). */
  signal?: AbortSignal;
  /** Called as each step starts and as packs are repacked and removed. */
  onProgress?: (progress: PruneProgress) => void;
}

export interface PruneProgress {
  step: 'mark' | 'repack' | 'index' | 'remove';
  /** Units done and to do in this step (packs for repack and remove, snapshots for mark, index files for index). */
  done: number;
  total: number;
}

export interface PruneResult {
  snapshots: number;
  /** Blobs a snapshot uses, and blobs dropped from the index (unused, or a second copy). */
  blobsUsed: number;
  blobsRemoved: number;
  /** Packs left as they were, removed whole, repacked (removed after their used blobs were copied), and new. */
  packsKept: number;
  packsRemoved: number;
  packsRepacked: number;
  packsWritten: number;
  indexFilesRemoved: number;
  indexFilesWritten: number;
  /** Pack bytes before and after, and what that freed. */
  bytesBefore: number;
  bytesAfter: number;
  bytesFreed: number;
}

/** A repack pack's buffer: the pack target plus the largest blob (8 MiB chunk) and header room. */
const PACK_BUFFER = PACK_TARGET + 9 * 1024 * 1024;
/** Blobs per index file, as restic splits them. */
const INDEX_FILE_BLOBS = 50_000;
/** The bytes a pack spends on each header entry (41 for a compressed blob), and on the header's seal and length. */
const ENTRY_SIZE = 37;
const COMPRESSED_ENTRY_SIZE = 41;
const HEADER_FIXED = 32 + 4;

/**
 * Prunes as described above and returns what it did. Refuses (REPOSITORY_DAMAGED or
 * _FILE_MISSING, changing nothing) when a snapshot needs a blob that is in no index or whose pack
 * is gone, as restic does: that repository needs a check, not a prune. zstd-compressed blobs
 * (format version 2) are repacked as they are stored. On return, `repo.index` is the new index.
 */
export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const maxUnusedPercent = options.maxUnusedPercent ?? 5;
  if (!(maxUnusedPercent >= 0 && maxUnusedPercent <= 100)) throw new RangeError('maxUnusedPercent is a percentage, 0 to 100');
  // An unplugged drive's empty mount point is no repository to prune (nor to leave a lock in).
  if (!(await repo.backend.stat('config'))) throw unreachable(repo.backend.where(), new Error('its config file is gone'));
  return withLock(repo, true, async () => {
    // What other clients wrote since this instance loaded its index counts too.
    await repo.reloadIndex();
    const index = repo.index;
    const stored = new Map<string, number>();
    for await (const entry of repo.backend.list('data')) if (/^[0-9a-f]{64}$/.test(entry.name)) stored.set(entry.name, entry.size);
    const indexFiles = await repo.list('index');

    const snapshots = await listSnapshots(repo);
    const used = await markReachable(repo, snapshots.map((s) => ({ id: s.id, tree: s.tree })), options);
    const plan = planPacks(repo, used, stored, maxUnusedPercent);
    const result: PruneResult = {
      snapshots: snapshots.length,
      blobsUsed: plan.blobsUsed,
      blobsRemoved: 0,
      packsKept: plan.keep.length,
      packsRemoved: plan.remove.length,
      packsRepacked: plan.repack.length,
      packsWritten: 0,
      indexFilesRemoved: 0,
      indexFilesWritten: 0,
      bytesBefore: sum(stored.values()),
      bytesAfter: 0,
      bytesFreed: 0,
    };
    if (plan.remove.length === 0 && plan.repack.length === 0 && plan.dangling === 0) {
      result.bytesAfter = result.bytesBefore;
      return result;
    }

    // 1. New packs with the used blobs of the packs being repacked, and the new index in memory.
    const next = new BlobIndex();
    for (const p of plan.keep) for (const n of plan.entriesOf(p)) next.add(index.idAt(n), index.locationAt(n));
    const written = await repack(repo, plan, used, next, options);
    result.packsWritten = written.length;
    options.signal?.throwIfAborted();

    // 2. The new index, written whole before anything old goes.
    const newIndexFiles = await writeIndex(repo, next, indexFiles, options);
    result.indexFilesWritten = newIndexFiles.size;
    result.blobsRemoved = index.size - next.size;

    // 3. The old index files, then the packs no index names any more.
    try {
      for (const id of indexFiles) {
        if (newIndexFiles.has(id)) continue;
        await repo.backend.remove(filePath('index', id));
        result.indexFilesRemoved++;
      }
      const goners = [...plan.remove, ...plan.repack.map((p) => index.packIdAt(p))];
      for (const [i, id] of goners.entries()) {
        options.onProgress?.({ step: 'remove', done: i, total: goners.length });
        await repo.backend.remove(filePath('data', id));
      }
    } catch (error) {
      // The index in memory must not go on naming packs that may be gone (a restore would miss them).
      await repo.reloadIndex().catch(() => undefined);
      throw error;
    }
    await repo.reloadIndex();
    result.bytesAfter = sum(plan.keep.map((p) => stored.get(index.packIdAt(p)) ?? 0)) + sum(written.sizes.values());
    result.bytesFreed = result.bytesBefore - result.bytesAfter;
    return result;
  });
}

/** A set of index entry numbers, one bit each. */
class Bitmap {
  private readonly words: Uint32Array;
  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }
  has(n: number): boolean {
    return (this.words[n >>> 5] & (1 << (n & 31))) !== 0;
  }
  add(n: number): void {
    this.words[n >>> 5] |= 1 << (n & 31);
  }
}

/**
 * Marks every blob the snapshots reach: their trees, the trees below, and the files' data blobs.
 * A tree already marked is not read again (snapshots share most of theirs). A blob in no index is
 * damage: prune refuses rather than drop what a snapshot needs.
 */
async function markReachable(repo: Repository, snapshots: Array<{ id: string; tree: string }>, options: PruneOptions): Promise<Bitmap> {
  const index = repo.index;
  const used = new Bitmap(index.size);
  const position = (hex: string, what: string) => {
    const n = index.position(Buffer.from(hex, 'hex'));
    if (n < 0) throw damaged(`${what}: blob ${hex.slice(0, 12)} is in no index, so the repository (checked by "check")`);
    return n;
  };
  for (const [i, snapshot] of snapshots.entries()) {
    options.onProgress?.({ step: 'mark', done: i, total: snapshots.length });
    options.signal?.throwIfAborted();
    const what = `snapshot ${snapshot.id.slice(0, 8)}`;
    const pending = [position(snapshot.tree, what)];
    while (pending.length > 0) {
      const n = pending.pop()!;
      if (used.has(n)) continue;
      used.add(n);
      const nodes = decodeTree(await repo.loadBlob(Buffer.from(index.idAt(n)), `a tree of ${what}`));
      for (const node of nodes) {
        if (node.type === 'dir' && node.subtree) pending.push(position(node.subtree, what));
        for (const content of node.content ?? []) used.add(position(content, `${what}'s file ${node.name}`));
      }
    }
  }
  return used;
}

interface PackPlan {
  /** Pack numbers (the blob index's) kept as they are, and repacked; ids of packs to remove whole. */
  keep: number[];
  repack: number[];
  remove: string[];
  blobsUsed: number;
  /** Packs the index names that are not stored (and that nothing uses): the new index drops them. */
  dangling: number;
  /** The entry numbers of pack number `p`. */
  entriesOf(p: number): Int32Array;
}

/**
 * Sorts the packs: those nothing uses go, those fully used stay, partly used ones are repacked
 * (most unused first) until the unused bytes left fit `maxUnusedPercent`. A pack whose size is not
 * what its entries add up to (it holds copies the index names elsewhere) is never kept as is:
 * listed whole in the new index it would not match, so it is repacked (or removed, when unused).
 */
function planPacks(repo: Repository, used: Bitmap, stored: Map<string, number>, maxUnusedPercent: number): PackPlan {
  const index = repo.index;
  const packs = index.packs;
  const count = new Uint32Array(packs);
  const usedCount = new Uint32Array(packs);
  const bytes = new Float64Array(packs);
  const usedBytes = new Float64Array(packs);
  // Header bytes of each pack's entries (all, and the used ones'), which differ for compressed blobs.
  const headers = new Float64Array(packs);
  const usedHeaders = new Float64Array(packs);
  let blobsUsed = 0;
  for (let n = 0; n < index.size; n++) {
    const p = index.packNumberAt(n);
    const entry = index.isCompressedAt(n) ? COMPRESSED_ENTRY_SIZE : ENTRY_SIZE;
    count[p]++;
    bytes[p] += index.lengthAt(n);
    headers[p] += entry;
    if (used.has(n)) {
      usedCount[p]++;
      usedBytes[p] += index.lengthAt(n);
      usedHeaders[p] += entry;
      blobsUsed++;
    }
  }
  // Entries grouped by pack (a counting sort), so a pack's entries are found without a scan.
  const start = new Int32Array(packs + 1);
  for (let p = 0; p < packs; p++) start[p + 1] = start[p] + count[p];
  const order = new Int32Array(index.size);
  const fill = start.slice(0, packs);
  for (let n = 0; n < index.size; n++) order[fill[index.packNumberAt(n)]++] = n;

  const keep: number[] = [];
  let dangling = 0;
  const candidates: Array<{ p: number; unused: number; used: number }> = [];
  let usedTotal = 0;
  for (let p = 0; p < packs; p++) {
    const id = index.packIdAt(p);
    const size = stored.get(id);
    if (usedCount[p] > 0 && size === undefined) {
      throw missing(`pack ${repo.backend.where(filePath('data', id))}, which the snapshots need (nothing was pruned; the repository needs a check),`);
    }
    if (size === undefined) {
      dangling++;
      continue;
    }
    const whole = size === bytes[p] + headers[p] + HEADER_FIXED;
    if (usedCount[p] === 0) continue;
    usedTotal += usedBytes[p];
    if (whole && usedCount[p] === count[p]) keep.push(p);
    else candidates.push({ p, unused: size - usedBytes[p] - usedHeaders[p] - HEADER_FIXED, used: usedBytes[p] });
  }
  // restic's rule: unused bytes may be p% of what stays, i.e. used · p / (100 − p).
  const budget = maxUnusedPercent >= 100 ? Infinity : (usedTotal * maxUnusedPercent) / (100 - maxUnusedPercent);
  candidates.sort((a, b) => b.unused * a.used - a.unused * b.used);
  let unusedLeft = candidates.reduce((total, c) => total + c.unused, 0);
  const repack: number[] = [];
  for (const candidate of candidates) {
    const mustRepack = stored.get(index.packIdAt(candidate.p)) !== bytes[candidate.p] + headers[candidate.p] + HEADER_FIXED;
    if (mustRepack || unusedLeft > budget) {
      repack.push(candidate.p);
      unusedLeft -= candidate.unused;
    } else keep.push(candidate.p);
  }
  const staying = new Set([...keep, ...repack].map((p) => index.packIdAt(p)));
  const remove = [...stored.keys()].filter((id) => !staying.has(id));
  return { keep, repack, remove, dangling, blobsUsed, entriesOf: (p) => order.subarray(start[p], start[p + 1]) };
}

/**
 * Copies the used blobs of the packs to repack into new packs (one type per pack, as restic
 * keeps them), checking each blob's MAC and hash on the way; adds the new locations to `next`.
 * Returns the new packs' ids (with their sizes).
 */
async function repack(repo: Repository, plan: PackPlan, used: Bitmap, next: BlobIndex, options: PruneOptions) {
  const index = repo.index;
  const written = Object.assign([] as string[], { sizes: new Map<string, number>() });
  // Packs are filled in files where the backend takes them (both local and remote ones do). In
  // memory, data packs get a full pack's buffer at once (growing one by doubling cost a second of
  // copies per 60 MB repacked); tree packs are small and grow as needed.
  const writers: Record<BlobType, PackWriter> = { data: await repo.packWriter(PACK_BUFFER), tree: await repo.packWriter() };
  try {
    await copyUsedBlobs(repo, plan, used, writers, written, next, options);
  } finally {
    writers.data.discard();
    writers.tree.discard();
  }
  return written;
}

async function copyUsedBlobs(repo: Repository, plan: PackPlan, used: Bitmap, writers: Record<BlobType, PackWriter>, written: string[] & { sizes: Map<string, number> }, next: BlobIndex, options: PruneOptions) {
  const index = repo.index;
  const flush = async (type: BlobType) => {
    const pack = await writers[type].write();
    if (!pack) return;
    for (const blob of pack.blobs) next.add(blob.id, { packId: pack.id, type: blob.type, offset: blob.offset, length: blob.length, compressed: blob.compressed === true, uncompressedLength: blob.uncompressedLength });
    written.push(pack.id);
    written.sizes.set(pack.id, pack.size);
  };
  const reader = new RangeReader(repo.backend);
  for (const [i, p] of plan.repack.entries()) {
    options.onProgress?.({ step: 'repack', done: i, total: plan.repack.length });
    options.signal?.throwIfAborted();
    const path = filePath('data', index.packIdAt(p));
    // Only the used blobs' bytes are read, a few large ranges a pack, not the whole pack at once.
    for (const range of packRanges(index, [...plan.entriesOf(p)].filter((n) => used.has(n)))) {
      const bytes = await reader.read(path, range).catch((error: { code?: string }) => {
        if (error.code === 'REPOSITORY_FILE_MISSING') throw missing(`bytes ${range.offset}–${range.offset + range.length} of pack ${repo.backend.where(path)} (the pack is shorter than the index says; nothing was pruned)`);
        throw error;
      });
      for (const n of range.entries) {
        const location = index.locationAt(n);
        const id = Buffer.from(index.idAt(n));
        const sealed = bytes.subarray(location.offset - range.offset, location.offset - range.offset + location.length);
        // Checked (MAC, then SHA-256 against the id), then copied sealed as it is: sealing again
        // would cost a second pass of the cipher and the MAC for the same protection.
        // A compressed blob is checked through its frame too, and stays compressed as stored.
        const uncompressedLength = location.compressed ? location.uncompressedLength : undefined;
        repo.checkBlob(sealed, id, `blob ${id.toString('hex').slice(0, 12)} in pack ${repo.backend.where(path)} (nothing was pruned)`, uncompressedLength);
        if (writers[location.type].size() + sealed.length > PACK_BUFFER) await flush(location.type);
        writers[location.type].addSealed(location.type, id, sealed, uncompressedLength);
        if (writers[location.type].size() >= PACK_TARGET) await flush(location.type);
      }
      reader.release(bytes);
    }
  }
  await flush('data');
  await flush('tree');
}

/** Writes `next` as index files of at most 50,000 blobs each; returns their ids. */
async function writeIndex(repo: Repository, next: BlobIndex, supersedes: string[], options: PruneOptions): Promise<Set<string>> {
  const ids = new Set<string>();
  const total = Math.ceil(next.size / INDEX_FILE_BLOBS);
  let packs: IndexPack[] = [];
  let blobs = 0;
  let lastPack = -1;
  const write = async () => {
    options.onProgress?.({ step: 'index', done: ids.size, total });
    ids.add(await repo.writeUnpacked('index', { supersedes, packs }));
    packs = [];
    blobs = 0;
  };
  for (let n = 0; n < next.size; n++) {
    const p = next.packNumberAt(n);
    // Entries of one pack are contiguous in `next` (added pack by pack). A file ends only between
    // packs: restic hints at a pack named by two index files.
    const location = next.locationAt(n);
    if (p !== lastPack) {
      if (blobs >= INDEX_FILE_BLOBS) await write();
      packs.push({ id: location.packId, blobs: [] });
      lastPack = p;
    }
    packs.at(-1)!.blobs.push(indexEntry({ ...location, id: next.idAt(n) }));
    blobs++;
  }
  if (packs.length > 0 || ids.size === 0) await write();
  return ids;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
