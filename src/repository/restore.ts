/**
 * Restoring a snapshot (or some of its paths) into a folder: folders, files byte for byte,
 * symlinks, modes, owners (when running as root) and times. The trees are walked (folders and
 * symlinks made, files planned) until a batch of files is planned; then that batch's content is
 * written pack by pack (restore-content.ts: each pack read once a batch, every blob's MAC and
 * SHA-256 checked before its bytes are written; a bad one stops the restore with an error naming a
 * file that needed it), then the folders walked whole so far get their modes and times (after
 * their content, which changes a folder's mtime), and the walk goes on. A file's later hard-linked
 * names are linked to its first once that is written (restore-links.ts). Memory stays that of one
 * batch, of the folders on the way down and of the hard-linked files whose other names are still
 * to come, whatever the snapshot holds.
 * Filesystem calls are synchronous, for the reason given in backup.ts: run it off the event loop.
 */
import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { conflict, invalid, notFound } from '../domain/errors.ts';
import type { Repository } from './repository.ts';
import { withLock } from './locks.ts';
import { ContentWriter, type MadeAs } from './restore-content.ts';
import { HardLinkIndex, LaterNames, linkLater, type FirstName } from './restore-links.ts';
import { findSnapshot } from './snapshots.ts';
import { decodeTree, parseTime, unixPermissions, type TreeNode } from './tree.ts';

export interface RestoreOptions {
  /** Snapshot id, unique prefix, or `latest`. */
  snapshot: string;
  /** The folder to restore into; the snapshot's absolute paths are recreated below it. */
  target: string;
  /** Only these absolute paths (and what is below them); default everything. */
  include?: string[];
  /**
   * Restore only the snapshot's entry at this absolute path (e.g. one of its `paths`) into `target`
   * itself, instead of the whole snapshot below `target` at full paths.
   */
  root?: string;
  /** Shared by the restores of one run so that names in two of them are linked too; default one of its own. */
  hardLinks?: HardLinkIndex;
  signal?: AbortSignal;
}

export interface RestoreResult {
  snapshotId: string;
  files: number;
  dirs: number;
  bytes: number;
}

/**
 * Restores as described above under a shared lock; the repository's index must be loaded. A file
 * appears under its name only whole and checked; a failure removes the unfinished files' temp files
 * (files finished before it stay, and folders made stay: those completed by an earlier batch with
 * their modes and times, the others without).
 */
export async function restore(repo: Repository, options: RestoreOptions): Promise<RestoreResult> {
  if (options.include?.some((p) => !path.isAbsolute(p))) throw invalid('REPOSITORY_RESTORE_PATHS', 'Paths to restore must be absolute, as the snapshot lists them.');
  // A shared lock, as restic's restore takes: a prune (exclusive) cannot remove packs underneath us.
  return withLock(repo, false, async () => {
    const snapshot = await findSnapshot(repo, options.snapshot);
    const run = new RestoreRun(repo, options);
    if (options.root !== undefined) {
      const node = await findNode(repo, snapshot.tree, options.root);
      mkdirSync(path.dirname(options.target), { recursive: true });
      await run.planNode(node, path.posix.resolve(options.root), options.target);
    } else {
      mkdirSync(options.target, { recursive: true });
      await run.planTree(snapshot.tree, '/', options.target);
    }
    await run.finish();
    return { snapshotId: snapshot.id, ...run.counts };
  });
}

class RestoreRun {
  readonly counts = { files: 0, dirs: 0, bytes: 0 };
  private readonly asRoot = process.getuid?.() === 0;
  private readonly include: string[] | null;
  private readonly content: ContentWriter;
  /** Files with other names (links > 1) met so far, to link those names to the first restored. */
  private readonly hardLinks: HardLinkIndex;
  private readonly later = new LaterNames<{ snapshotPath: string; metadata: Metadata }>();
  /** The group of a file made in the folder last asked about (see `newFileGroup`). */
  private lastFolder: { folder: string; gid: number } | null = null;
  /**
   * Folders walked whole (all below them planned), deepest first, whose modes and times go on
   * after the content of the batch being planned is written.
   */
  private folders: Array<{ target: string; metadata: Metadata }> = [];

  constructor(
    private readonly repo: Repository,
    private readonly options: RestoreOptions,
  ) {
    this.include = options.include?.map((p) => path.resolve(p)) ?? null;
    this.content = new ContentWriter(repo);
    this.hardLinks = options.hardLinks ?? new HardLinkIndex();
  }

  /** Whether `snapshotPath` is wanted itself (`whole`) or only as a way to something wanted. */
  private wanted(snapshotPath: string): 'whole' | 'way' | null {
    if (!this.include) return 'whole';
    if (this.include.some((p) => snapshotPath === p || snapshotPath.startsWith(`${p}/`) || p === '/')) return 'whole';
    return this.include.some((p) => p.startsWith(`${snapshotPath}/`)) ? 'way' : null;
  }

  async planTree(treeId: string, snapshotDir: string, targetDir: string): Promise<void> {
    const nodes = decodeTree(await this.repo.loadBlob(Buffer.from(treeId, 'hex'), `folder ${snapshotDir}`));
    const seen = new Set<string>();
    for (const node of nodes) {
      this.options.signal?.throwIfAborted();
      // A damaged or hostile tree must not make us write outside the target: no path separators,
      // no dot names, and no name twice (a symlink then a folder of the same name would be followed).
      if (node.name === '' || node.name === '.' || node.name === '..' || node.name.includes('/') || node.name.includes('\0') || seen.has(node.name)) {
        throw invalid('REPOSITORY_BAD_NAME', `The snapshot's folder ${snapshotDir} holds an entry named ${JSON.stringify(node.name)}, which would leave the restore target.`);
      }
      const snapshotPath = path.posix.join(snapshotDir, node.name);
      const want = this.wanted(snapshotPath);
      seen.add(node.name);
      if (!want || (want === 'way' && node.type !== 'dir')) continue;
      await this.planNode(node, snapshotPath, path.join(targetDir, node.name));
    }
  }

  /** Makes one entry (a folder with what is wanted below it, a symlink) or plans its content (a file) at `target`. */
  async planNode(node: TreeNode, snapshotPath: string, target: string): Promise<void> {
    if (node.type === 'dir') {
      const existing = lstatOrNull(target);
      if (existing && !existing.isDirectory()) rmSync(target, { force: true });
      mkdirSync(target, { recursive: true });
      if (node.subtree) await this.planTree(node.subtree, snapshotPath, target);
      this.folders.push({ target, metadata: metadataOf(node) });
    } else if (node.type === 'file') {
      // Only the metadata waits for the content (kept small: a batch holds thousands of files).
      const metadata = metadataOf(node);
      const content = node.content ?? [];
      const claim = this.hardLinks.claim(node, target);
      if (claim?.earlier) this.later.defer({ first: claim.first, target, content, extra: { snapshotPath, metadata } });
      else this.addFile(snapshotPath, target, content, metadata, claim?.first);
      if (this.content.full || this.later.full) await this.writeBatch();
    } else if (node.type === 'symlink') {
      rmSync(target, { force: true });
      symlinkSync(node.linktarget ?? '', target);
      this.applyMetadata(target, metadataOf(node));
    }
    // Devices, fifos and sockets are not recreated: a backup daemon restoring them helps nobody.
  }

  /** Writes the last batch's content and the remaining folders' modes and times. */
  async finish(): Promise<void> {
    await this.writeBatch();
  }

  /** Plans a file's content; when whole, it gets its metadata (and, if `first` of its inode's names, is noted as written). */
  private addFile(snapshotPath: string, target: string, content: string[], metadata: Metadata, first?: FirstName): void {
    this.content.addFile(snapshotPath, target, content, this.tempMode(path.dirname(target), metadata), (fd, madeAs) => {
      this.applyMetadata(fd, metadata, madeAs);
      if (first) this.hardLinks.written(first, fd);
      this.counts.files++;
    });
  }

  /**
   * The permission bits a file's temp in `folder` is made with: the file's own, so that most files
   * need no chmod afterwards, less others' write bit and special bits, plus what lets the restore
   * open it again (0600). Its group bits only when the group it is made with is the file's own or
   * root's (whose members are admins): in a setgid folder a root:root 0640 file's temp would be
   * readable by the folder's group while written.
   */
  private tempMode(folder: string, metadata: Metadata): number {
    const group = this.newFileGroup(folder);
    const groupBits = group === metadata.gid || group === 0 ? 0o070 : 0;
    return (metadata.mode & (0o705 | groupBits)) | 0o600;
  }

  /**
   * The group a file made in `folder` gets: the folder's when it is setgid, else the restorer's;
   * -1 when the folder cannot be read. For the folder last asked about (files come folder by folder).
   */
  private newFileGroup(folder: string): number {
    if (this.lastFolder?.folder !== folder) {
      const stat = lstatOrNull(folder);
      const gid = stat === null ? -1 : stat.mode & 0o2000 ? stat.gid : (process.getegid?.() ?? -1);
      this.lastFolder = { folder, gid };
    }
    return this.lastFolder.gid;
  }

  /**
   * Writes the planned files' content, then links the later names of files now written (those
   * that cannot be linked are written: one more round), then the modes and times of the folders
   * walked whole (links change a folder's times too).
   */
  private async writeBatch(): Promise<void> {
    for (let again = true; again; ) {
      try {
        await this.content.write(this.options.signal);
      } finally {
        this.counts.bytes = this.content.bytes;
      }
      again = false;
      for (const later of this.later.take()) {
        // A link is a restored file; its bytes are not counted again, as none are written.
        if (linkLater(later, this.content.tempFor(later.target))) this.counts.files++;
        else {
          this.addFile(later.extra.snapshotPath, later.target, later.content, later.extra.metadata);
          again = true;
        }
      }
    }
    const folders = this.folders;
    this.folders = [];
    for (const { target, metadata } of folders) {
      // Through a descriptor of the folder itself: by its path, a folder swapped for a symlink
      // meanwhile (a restore runs as root in folders others may write to) would give its owner
      // and permissions to whatever the symlink names.
      let fd: number;
      try {
        fd = openSync(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Not root, a folder without read permission cannot be opened: set by its path, as its owner may.
        if (code === 'EACCES' && !this.asRoot) {
          this.applyMetadata(target, metadata);
          this.counts.dirs++;
          continue;
        }
        if (code === 'ELOOP' || code === 'ENOTDIR') throw conflict('REPOSITORY_RESTORE_TEMP_CHANGED', `The restored folder ${target} was replaced by something else during the restore; its owner and permissions were not set. Restore into a folder only you can write to.`);
        throw error;
      }
      try {
        this.applyMetadata(fd, metadata);
      } finally {
        closeSync(fd);
      }
      this.counts.dirs++;
    }
  }

  /**
   * Sets owner, permissions and times on `target`: a path, or a file's open descriptor (no path
   * lookups). Owner and permissions a file already has (`madeAs`, its temp's) are not set again.
   */
  private applyMetadata(target: string | number, metadata: Metadata, madeAs?: MadeAs): void {
    const { link } = metadata;
    const ownerIsSet = madeAs !== undefined && madeAs.uid === metadata.uid && madeAs.gid === metadata.gid;
    if (this.asRoot && !ownerIsSet) {
      try {
        if (typeof target === 'number') fchownSync(target, metadata.uid, metadata.gid);
        else (link ? lchownSync : chownSync)(target, metadata.uid, metadata.gid);
      } catch {
        // An owner the target filesystem cannot hold (e.g. FAT on a USB stick) is not a failed restore.
      }
    }
    if (!link && madeAs?.mode !== metadata.mode) {
      if (typeof target === 'number') fchmodSync(target, metadata.mode);
      else chmodSync(target, metadata.mode);
    }
    if (typeof target === 'number') futimesSync(target, metadata.atime, metadata.mtime);
    else (link ? lutimesSync : utimesSync)(target, metadata.atime, metadata.mtime);
  }
}

/** What a restored entry gets after its content: owner, permissions and times (seconds). */
interface Metadata {
  link: boolean;
  uid: number;
  gid: number;
  mode: number;
  atime: number;
  mtime: number;
}

function metadataOf(node: TreeNode): Metadata {
  const mtime = node.mtime ? toSeconds(node.mtime) : Date.now() / 1000;
  return {
    link: node.type === 'symlink',
    uid: node.uid,
    gid: node.gid,
    // restic leaves a zero mode out of the tree (Go's omitempty): a file without one has mode 0, as restic restores it.
    mode: unixPermissions(node.mode ?? 0),
    atime: node.atime ? toSeconds(node.atime) : mtime,
    mtime,
  };
}

/**
 * The node at the absolute `snapshotPath` below the tree `treeId` (the path's folders read one by one).
 * @throws CairnError 404 REPOSITORY_PATH_NOT_FOUND when an entry on the way is missing or not a folder.
 */
export async function findNode(repo: Repository, treeId: string, snapshotPath: string): Promise<TreeNode> {
  const parts = snapshotPath.split('/').filter((part) => part !== '');
  // A snapshot file is data anyone with the password could have written: `..` must never lead a restore up.
  if (parts.some((part) => part === '.' || part === '..')) throw invalid('REPOSITORY_BAD_NAME', `The snapshot path ${JSON.stringify(snapshotPath)} names "." or "..": refused.`);
  let tree = treeId;
  let node: TreeNode | undefined;
  for (const [i, part] of parts.entries()) {
    const where = `/${parts.slice(0, i).join('/')}`;
    node = decodeTree(await repo.loadBlob(Buffer.from(tree, 'hex'), `folder ${where}`)).find((entry) => entry.name === part);
    if (!node || (i < parts.length - 1 && (node.type !== 'dir' || !node.subtree))) {
      throw notFound('REPOSITORY_PATH_NOT_FOUND', `The snapshot holds no ${snapshotPath}.`);
    }
    if (node.subtree) tree = node.subtree;
  }
  if (!node) throw invalid('REPOSITORY_RESTORE_PATHS', 'Name a path inside the snapshot, not its top.');
  return node;
}

function lstatOrNull(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

function toSeconds(time: string): number {
  const ns = parseTime(time);
  // Node's utimes takes a float of seconds, which near 1.7e9 holds ~0.24 µs; the nearest float to
  // x.123000 is x.12299990…, which the kernel call truncates to x.122999. A quarter microsecond
  // more lands on the intended microsecond whether the float is truncated or rounded.
  return (Number(ns / 1000n) + 0.25) / 1e6;
}
