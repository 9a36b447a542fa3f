/**
 * `check`: is the repository whole? The structure always (every index entry points into a stored
 * pack of the size its entries add up to, each pack's own header agrees with the index, every
 * snapshot's trees and data blobs are in the index) and, when asked, a random share of the packs
 * read back in full, every blob's MAC and hash verified, as restic's `check --read-data-subset`.
 *
 * Damage is an answer, not an exception: each problem found names the pack, blob, snapshot or index
 * file and what is wrong, and the check goes on. A store that cannot be read (a server down, a
 * drive unplugged) is no verdict on the repository: that throws REPOSITORY_UNREACHABLE instead.
 */
import { createHash, randomInt } from 'node:crypto';
import { filePath } from './backend.ts';
import { unreachable } from './errors.ts';
import { withLock } from './locks.ts';
import { isRepositoryFault, type Repository } from './repository.ts';
import { decodeTree } from './tree.ts';

export interface CheckOptions {
  /** Percent (0–100) of the packs, chosen at random, to read back and verify blob by blob. Default 0. */
  readDataPercent?: number;
  signal?: AbortSignal;
  onProgress?: (progress: CheckProgress) => void;
}

export interface CheckProgress {
  step: 'index' | 'packs' | 'snapshots' | 'read';
  done: number;
  total: number;
}

/** One thing wrong, named so that a user (and a later repair) can find it. */
export interface CheckProblem {
  /** What the problem is about; `id` is its id (a pack, blob, snapshot or index file id). */
  subject: 'pack' | 'blob' | 'snapshot' | 'index';
  id: string;
  /**
   * `missing`: not in the store; `size`: the pack's size is not what the index says; `header`: the
   * pack's header disagrees with the index (or cannot be opened); `damaged`: a MAC or hash does not
   * match; `not_in_index`: a snapshot needs a blob no index lists; `unreadable`: a file is not valid.
   */
  problem: 'missing' | 'size' | 'header' | 'damaged' | 'not_in_index' | 'unreadable';
  message: string;
}

export interface CheckResult {
  /** Empty when the repository is whole (as far as this check looked). */
  errors: CheckProblem[];
  /** Harmless findings (a pack no index names, as an interrupted run leaves), as restic reports them. */
  hints: string[];
  packs: number;
  blobs: number;
  snapshots: number;
  /** Packs read back in full, and their bytes. */
  packsRead: number;
  bytesRead: number;
}

/** What the index files say of one pack, duplicates included. */
interface IndexedPack {
  /** The pack's size its entries add up to. */
  size: number;
  entries: number;
  indexFiles: Set<string>;
}

/**
 * Checks as described above under a shared lock (restic's, so a prune cannot remove packs under
 * it) and returns the problems found. The repository's in-memory index is reloaded from the store.
 * @throws REPOSITORY_UNREACHABLE when the store fails (not the repository's content), or when
 *   the repository itself has vanished (its config is gone: an unplugged drive, not a damaged repository).
 */
export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  const percent = options.readDataPercent ?? 0;
  if (!(percent >= 0 && percent <= 100)) throw new RangeError('readDataPercent is a percentage, 0 to 100');
  // An unplugged drive leaves an empty mount point: every file "missing", or (nothing listed at
  // all) a check with nothing wrong. Neither is a verdict, so the config must be there before and after.
  const present = async () => {
    if (!(await repo.backend.stat('config'))) throw unreachable(repo.backend.where(), new Error('its config file is gone'));
  };
  try {
    await present();
    const result = await withLock(repo, false, () => new Checker(repo, options).run(percent));
    await present();
    return result;
  } catch (error) {
    // Ours (a fault of the repository, a lock, unreachable, a cancel) as it is; anything else is the store failing.
    const code = (error as { code?: unknown }).code;
    if (isRepositoryFault(error) || code === 'REPOSITORY_UNREACHABLE' || code === 'REPOSITORY_LOCKED' || (error as Error).name === 'AbortError') throw error;
    throw unreachable(repo.backend.where(), error);
  }
}

class Checker {
  private readonly errors: CheckProblem[] = [];
  private readonly reported = new Set<string>();
  private readonly hints: string[] = [];

  constructor(
    private readonly repo: Repository,
    private readonly options: CheckOptions,
  ) {}

  async run(percent: number): Promise<CheckResult> {
    const indexed = await this.loadIndex();
    const stored = new Map<string, number>();
    for await (const entry of this.repo.backend.list('data')) if (/^[0-9a-f]{64}$/.test(entry.name)) stored.set(entry.name, entry.size);
    const sound = await this.checkPacks(indexed, stored);
    const snapshots = await this.checkSnapshots();
    const toRead = pickShare(sound, percent);
    for (const [i, packId] of toRead.entries()) {
      this.options.onProgress?.({ step: 'read', done: i, total: toRead.length });
      this.options.signal?.throwIfAborted();
      await this.readPack(packId);
    }
    const bytesRead = toRead.reduce((sum, packId) => sum + (stored.get(packId) ?? 0), 0);
    return { errors: this.errors, hints: this.hints, packs: stored.size, blobs: this.repo.index.size, snapshots, packsRead: toRead.length, bytesRead };
  }

  private problem(subject: CheckProblem['subject'], id: string, problem: CheckProblem['problem'], message: string): void {
    const key = `${subject} ${id} ${problem}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.errors.push({ subject, id, problem, message });
  }

  /** Every index file into the repository's index; what each says of each pack. */
  private async loadIndex(): Promise<Map<string, IndexedPack>> {
    this.options.onProgress?.({ step: 'index', done: 0, total: 1 });
    const indexed = new Map<string, IndexedPack>();
    await this.repo.reloadIndex({
      pack: (pack, indexFile) => {
        const known = indexed.get(pack.id) ?? { size: 4 + 32, entries: 0, indexFiles: new Set<string>() };
        for (const blob of pack.blobs) known.size += blob.length + (blob.uncompressed_length === undefined ? 37 : 41);
        known.entries += pack.blobs.length;
        known.indexFiles.add(indexFile);
        indexed.set(pack.id, known);
      },
      badFile: (indexFile, error) => {
        if (!isDamage(error)) throw error;
        this.problem('index', indexFile, 'unreadable', `Index file ${this.repo.backend.where(filePath('index', indexFile))}: ${(error as Error).message}`);
      },
    });
    return indexed;
  }

  /** Each indexed pack is stored, of the right size, with a header that agrees; returns the packs that passed. */
  private async checkPacks(indexed: Map<string, IndexedPack>, stored: Map<string, number>): Promise<string[]> {
    const sound: string[] = [];
    let done = 0;
    for (const [packId, known] of indexed) {
      this.options.onProgress?.({ step: 'packs', done: done++, total: indexed.size });
      this.options.signal?.throwIfAborted();
      const where = this.repo.backend.where(filePath('data', packId));
      const size = stored.get(packId);
      if (size === undefined) {
        this.problem('pack', packId, 'missing', `Pack ${where} is missing; the index lists ${known.entries} blobs in it.`);
        continue;
      }
      if (size !== known.size) {
        this.problem('pack', packId, 'size', `Pack ${where} is ${size} bytes; its index entries add up to ${known.size}.`);
        continue;
      }
      if (known.indexFiles.size > 1) this.hints.push(`pack ${packId} is named by ${known.indexFiles.size} index files`);
      if (await this.checkHeader(packId, size, known)) sound.push(packId);
    }
    for (const packId of stored.keys()) {
      if (!indexed.has(packId)) this.hints.push(`pack ${packId} is in no index (left by an interrupted run; the next prune removes it)`);
    }
    return sound;
  }

  private async checkHeader(packId: string, size: number, known: IndexedPack): Promise<boolean> {
    const where = this.repo.backend.where(filePath('data', packId));
    let blobs;
    try {
      blobs = await this.repo.readPackHeader(packId, size);
    } catch (error) {
      if (!isDamage(error)) throw error;
      this.problem('pack', packId, 'header', `Pack ${where}: its header cannot be read (${(error as Error).message}).`);
      return false;
    }
    if (blobs.length !== known.entries) {
      this.problem('pack', packId, 'header', `Pack ${where}: its header lists ${blobs.length} blobs, the index ${known.entries}.`);
      return false;
    }
    for (const blob of blobs) {
      const location = this.repo.index.get(blob.id);
      const agrees = location && (location.packId !== packId || (location.offset === blob.offset && location.length === blob.length && location.type === blob.type && location.uncompressedLength === blob.uncompressedLength));
      if (!agrees) {
        this.problem('pack', packId, 'header', `Pack ${where}: its header's blob ${blob.id.toString('hex')} ${location ? `is at ${blob.offset}+${blob.length}, the index says ${location.offset}+${location.length}` : 'is in no index'}.`);
        return false;
      }
    }
    return true;
  }

  /** Every snapshot readable, and every tree and data blob it needs in the index (trees read once). */
  private async checkSnapshots(): Promise<number> {
    const index = this.repo.index;
    const seen = new Uint8Array(index.size);
    const ids = await this.repo.list('snapshots');
    for (const [i, snapshotId] of ids.entries()) {
      this.options.onProgress?.({ step: 'snapshots', done: i, total: ids.length });
      this.options.signal?.throwIfAborted();
      let snapshot: { tree?: unknown };
      try {
        snapshot = (await this.repo.readUnpacked('snapshots', snapshotId)) as { tree?: unknown };
      } catch (error) {
        if (!isDamage(error)) throw error;
        this.problem('snapshot', snapshotId, 'unreadable', `Snapshot ${this.repo.backend.where(filePath('snapshots', snapshotId))} cannot be read: ${faultOf(error)}.`);
        continue;
      }
      if (typeof snapshot?.tree !== 'string' || !/^[0-9a-f]{64}$/.test(snapshot.tree)) {
        this.problem('snapshot', snapshotId, 'unreadable', `Snapshot ${snapshotId} names no tree.`);
        continue;
      }
      const pending: Array<{ tree: string; path: string }> = [{ tree: snapshot.tree, path: '/' }];
      while (pending.length > 0) {
        const { tree, path } = pending.pop()!;
        const n = index.position(Buffer.from(tree, 'hex'));
        if (n < 0) {
          this.problem('blob', tree, 'not_in_index', `Snapshot ${snapshotId}: the tree of ${path} (blob ${tree}) is in no index.`);
          continue;
        }
        if (seen[n]) continue;
        seen[n] = 1;
        let nodes;
        try {
          nodes = decodeTree(await this.repo.loadBlob(Buffer.from(tree, 'hex'), `Snapshot ${snapshotId}: the tree of ${path}`));
        } catch (error) {
          if (!isDamage(error) && !(error instanceof SyntaxError)) throw error;
          const problem = error instanceof SyntaxError ? 'unreadable' : (error as { code?: unknown }).code === 'REPOSITORY_FILE_MISSING' ? 'missing' : 'damaged';
          this.problem('blob', tree, problem, `Snapshot ${snapshotId}: the tree of ${path} (blob ${tree}) cannot be read: ${error instanceof SyntaxError ? 'it is not a tree' : faultOf(error)}.`);
          continue;
        }
        for (const node of nodes) {
          const below = path === '/' ? `/${node.name}` : `${path}/${node.name}`;
          if (node.type === 'dir' && node.subtree) pending.push({ tree: node.subtree, path: below });
          for (const content of node.content ?? []) {
            if (!index.has(Buffer.from(content, 'hex'))) this.problem('blob', content, 'not_in_index', `Snapshot ${snapshotId}: file ${below} needs blob ${content}, which is in no index.`);
          }
        }
      }
    }
    return ids.length;
  }

  /** Reads a pack whole: its bytes must hash to its id, and every blob must open and hash to its id. */
  private async readPack(packId: string): Promise<void> {
    const path = filePath('data', packId);
    const where = this.repo.backend.where(path);
    const bytes = await this.repo.backend.read(path);
    if (createHash('sha256').update(bytes).digest('hex') !== packId) {
      this.problem('pack', packId, 'damaged', `Pack ${where}: its content does not hash to its name (bytes were changed).`);
    }
    let blobs;
    try {
      blobs = await this.repo.readPackHeader(packId, bytes.length);
    } catch (error) {
      if (!isDamage(error)) throw error;
      this.problem('pack', packId, 'header', `Pack ${where}: its header cannot be read (${(error as Error).message}).`);
      return;
    }
    for (const blob of blobs) {
      const hex = blob.id.toString('hex');
      try {
        this.repo.openBlob(bytes.subarray(blob.offset, blob.offset + blob.length), blob.id, `Blob ${hex} in pack ${where}`, blob.uncompressedLength);
      } catch (error) {
        if (!isDamage(error)) throw error;
        this.problem('blob', hex, 'damaged', `Blob ${hex} in pack ${where} is damaged: ${faultOf(error)}.`);
      }
    }
  }
}

/**
 * Whether `error` is damage to report (and go on), rather than something to throw: a compressed
 * file (REPOSITORY_UNSUPPORTED) is no damage, only beyond this Cairn, so the check cannot judge.
 */
function isDamage(error: unknown): boolean {
  return isRepositoryFault(error) && (error as { code?: unknown }).code !== 'REPOSITORY_UNSUPPORTED';
}

/** What a repository fault says, in a few words for a problem's message. */
function faultOf(error: unknown): string {
  switch ((error as { code?: unknown }).code) {
    case 'REPOSITORY_DAMAGED': return 'its authentication code or hash does not match';
    case 'REPOSITORY_FILE_MISSING': return 'its file is missing';
    default: return (error as Error).message;
  }
}

/** `percent` of `packs`, chosen at random (at least one when percent > 0 and there are packs). */
function pickShare(packs: string[], percent: number): string[] {
  const count = Math.min(packs.length, Math.ceil((packs.length * percent) / 100));
  const pool = [...packs];
  for (let i = 0; i < count; i++) {
    const j = i + randomInt(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}
