/** rsync's argv for one source: every value is its own argument, nothing passes through a shell. */
import path from 'node:path';
import type { SyncOptions } from '../types.ts';

/**
 * What rsync prints per item: change flags, file length, bytes sent, name (and a symlink's target).
 * `%b` makes rsync print the line when the file is complete rather than when it starts, so progress
 * and "cancelled after N files" count finished files.
 */
export const OUT_FORMAT = '%i|%l|%b|%n%L';

export interface RsyncCopy {
  /** Folder whose contents are copied (absolute). */
  source: string;
  /** Folder that becomes a copy of it (absolute). */
  target: string;
  options: SyncOptions;
  /** The target lacks owners/permissions and keeps times to 2 s (FAT, exFAT, NTFS). */
  fatLike: boolean;
  /** A previous copy (absolute): files unchanged since it are hard-linked from it instead of copied. */
  linkDest?: string;
  /**
   * List every entry, unchanged ones too (`-ii`), so that the listing is the whole new tree in
   * rsync's order (a snapshot's manifest is built from it while rsync runs, with no walk after).
   */
  listUnchanged?: boolean;
}

/**
 * The argv (without `rsync` itself) that makes `target` a copy of `source`'s contents.
 * No remote shell is involved in a local copy, so rsync never re-splits these arguments; `--`
 * and absolute paths keep a name with a leading dash from being read as an option, and each
 * exclude pattern is one `--exclude=` argument whatever it contains.
 */
export function rsyncArguments(copy: RsyncCopy): string[] {
  const { options } = copy;
  const args = copy.fatLike ? ['-rltD', '--modify-window=1'] : ['-a'];
  // --8-bit-output: names reach the log as UTF-8 whatever the daemon's locale; control characters stay escaped (\#012).
  args.push('--8-bit-output', `--out-format=${OUT_FORMAT}`, '--stats');
  if (copy.listUnchanged) args.push('-ii');
  if (options.delete_extraneous) args.push('--delete');
  for (const pattern of options.exclude_patterns) args.push(`--exclude=${pattern}`);
  if (options.bandwidth_limit_kbps && options.bandwidth_limit_kbps > 0) args.push(`--bwlimit=${options.bandwidth_limit_kbps}`);
  // rsync writes each file to a `.name.XXXXXX` temp file beside it and renames it when complete, so no
  // file is ever half-written under its final name. A --temp-dir does the same but measured 1.4× slower
  // (relative) to 2.8× (absolute) on 100,000 small files, so rsync's own way is used.
  // Whole-transfer progress for the run's share (list-share.ts); a dry run sends nothing, so has none. rsync keeps its
  // incremental recursion: `--no-inc-recursive` would hold the whole file list in each of its three processes
  // (~210 MB at 1,000,000 files against ~10 MB; docs/ARCHITECTURE.md).
  args.push(options.dry_run ? '--dry-run' : '--info=progress2');
  if (copy.linkDest) args.push(`--link-dest=${path.join(copy.linkDest, '/')}`);
  // A trailing slash on the source copies its contents, not the folder itself.
  args.push('--', path.join(copy.source, '/'), path.join(copy.target, '/'));
  return args;
}
