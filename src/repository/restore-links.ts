/**
 * Hard links in a restore, as restic's restorer recreates them: of the file nodes sharing a
 * (device_id, inode) with `links` > 1, the first the restore meets is written; each later one
 * becomes a hard link to it. Contents are written a batch at a time and a file appears under its
 * name only whole, so a later name is linked after the batch holding its first has been written
 * (`take` after each batch). The link is made under a temp name and kept only if it is the very
 * file the restore wrote (see `identity`): a first removed or replaced meanwhile (a symlink, another
 * file: the restore runs as root in folders others may write to), or a filesystem without hard
 * links (FAT on a USB stick), and the caller writes the content instead.
 */
import { createHash } from 'node:crypto';
import { fstatSync, linkSync, lstatSync, renameSync, rmSync, type BigIntStats } from 'node:fs';
import { BATCH_FILES, BATCH_PLACEMENTS } from './restore-content.ts';
import type { TreeNode } from './tree.ts';

/** The first restored name of an inode, and the written file's `identity` once it is complete. */
export interface FirstName {
  target: string;
  identity?: string;
  /** Its other names not met yet (of `links`, some perhaps outside the snapshot or the restore). */
  unmet: number;
}

/**
 * What tells the file the restore wrote from one put in its place: a freed inode number is soon
 * given to the next file made (tmpfs, ext4), so device and inode alone match a replacement; its
 * owner, which only root can give away, and its mode, size and mtime (set by the restore) must too.
 * A type bit makes a symlink or folder differ.
 */
function identity(stat: BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.uid}:${stat.gid}:${stat.mode}:${stat.size}:${stat.mtimeNs}`;
}

/**
 * The map's key for a node: a digest (128 bits) of its device and inode and of what every name of
 * one inode shares (mode, owner, mtime, size, content). The tree's inode is read as a JS number,
 * exact only to 2^53: overlayfs puts its layer in the high bits, where numbers 2,048 apart read
 * the same; two such files must not become one, and with their content in the key they cannot.
 */
function linkKey(node: TreeNode): string {
  const hash = createHash('sha256').update(`${node.device_id ?? 0}:${node.inode}:${node.mode ?? 0}:${node.uid}:${node.gid}:${node.mtime ?? ''}:${node.size ?? 0}:`);
  for (const id of node.content ?? []) hash.update(id);
  return hash.digest().toString('base64url', 0, 16);
}

/**
 * A copy of `text` in one piece. A string built by `path.join` or a template is a chain of pieces
 * (and slices keeping their whole source) in V8: ~500 bytes for a 56-byte path or an identity
 * where the copy takes ~80. The map keeps them for the whole restore.
 */
function flat(text: string): string {
  return Buffer.from(text).toString();
}

/** A later name waiting for its first's batch: what it needs to be linked, or written if it cannot be. */
export interface LaterName<T> {
  first: FirstName;
  target: string;
  /** The node's content, to write it when the link cannot be made. */
  content: string[];
  /** The caller's own data (what it needs to write it). */
  extra: T;
}

/**
 * The first restored names of files with other names (see the module comment): one per restore, or
 * shared by the restores of one run (an API restore restores each top path on its own), so that
 * names in two of them are linked too.
 */
export class HardLinkIndex {
  /** `linkKey` → first name, only for nodes with other names (links > 1) not all met yet. */
  private readonly firsts = new Map<string, FirstName>();

  /**
   * For a file node about to be restored at `target`: `null` when it has no other names; else its
   * inode's first name and whether an earlier node claimed it (then link it, do not write it;
   * else it is the first: write it and mark it `written` when complete).
   */
  claim(node: TreeNode, target: string): { first: FirstName; earlier: boolean } | null {
    // restic leaves a zero out of the tree: no inode, no way to know the names are one file.
    if ((node.links ?? 0) < 2 || !node.inode) return null;
    const key = linkKey(node);
    const first = this.firsts.get(key);
    if (first) {
      // Its last name met: no entry kept for nothing (a tree's links are mostly all inside it).
      if (--first.unmet === 0) this.firsts.delete(key);
      return { first, earlier: true };
    }
    const made: FirstName = { target: flat(target), unmet: node.links! - 1 };
    this.firsts.set(key, made);
    return { first: made, earlier: false };
  }

  /**
   * Records that the first name's file is complete: `fd` is its temp, open, its metadata set (a
   * rename into place and links change none of what `identity` holds).
   */
  written(first: FirstName, fd: number): void {
    first.identity = flat(identity(fstatSync(fd, { bigint: true })));
  }
}

/** One restore's later names waiting for the batch that writes their first (`take` after each batch). */
export class LaterNames<T> {
  private later: Array<LaterName<T>> = [];
  private placements = 0;

  /** Keeps a later name to link once the batch being planned is written. */
  defer(later: LaterName<T>): void {
    this.later.push(later);
    this.placements += later.content.length;
  }

  /** Whether as many wait as a batch holds files or placements (their content is kept, to write them if need be): write the batch. */
  get full(): boolean {
    return this.later.length >= BATCH_FILES || this.placements >= BATCH_PLACEMENTS;
  }

  /** The later names waiting, which the caller now links (`linkLater`) or writes; none wait after. */
  take(): Array<LaterName<T>> {
    const later = this.later;
    this.later = [];
    this.placements = 0;
    return later;
  }
}

/**
 * Makes `later.target` a hard link to its first name, through `temp` (a free name beside the target)
 * renamed over what is at the target, as a restored file is. Returns false, having made nothing,
 * when the first name is no longer the file the restore wrote or no link can be made there; the
 * rename's own failure (a folder in the way) is thrown, as for any restored file.
 */
export function linkLater(later: LaterName<unknown>, temp: string): boolean {
  const { first } = later;
  if (first.identity === undefined) return false;
  try {
    // link(2) does not follow a symlink at the first name on Linux: it would link the symlink, seen below.
    linkSync(first.target, temp);
  } catch {
    return false;
  }
  let renamed = false;
  try {
    if (identity(lstatSync(temp, { bigint: true })) !== first.identity) return false;
    renameSync(temp, later.target);
    renamed = true;
    return true;
  } finally {
    if (!renamed) rmSync(temp, { force: true });
  }
}
