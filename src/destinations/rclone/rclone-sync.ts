/**
 * A sync through rclone: each source with `rclone sync` (or `copy` when nothing is to be deleted) to
 * `<root>/<source name>`, files and totals read from rclone's JSON log and stats. rclone (1.60)
 * writes a file under its final name while it uploads, so after a cancel or a failure every file
 * there that was written during this run and that rclone did not report as copied whole is removed:
 * nothing half-sent stays under a final name. A finished file carries its source's modification
 * time, and an older copy rclone had not begun to replace keeps its own, so neither is touched.
 */
import type { TransferTotals } from '../../domain/runs.ts';
import { folderNamesOf } from '../source-names.ts';
import type { SyncContext } from '../types.ts';
import { isSourceChange, rcloneFailure } from './rclone-errors.ts';
import type { RcloneSetup } from './rclone-config.ts';
import { excludeArgs } from './rclone-filters.ts';
import { runRclone, type RcloneLogLine } from './rclone-process.ts';

/** `cairn:<root>/<path>`, the way rclone names a place on the remote. */
export function remotePath(root: string, ...parts: string[]): string {
  return `cairn:${[root, ...parts].filter((part) => part !== '').join('/').replace(/\/{2,}/g, '/')}`;
}

/** Flags every transfer uses: one attempt per command (the retry wrapper decides about more), no waiting forever. */
export const COMMON_FLAGS = ['--retries', '1', '--low-level-retries', '2', '--contimeout', '15s', '--timeout', '30s'];

export async function syncWithRclone(context: SyncContext<unknown>, setup: RcloneSetup, root: string, where: string): Promise<TransferTotals> {
  const { options, signal } = context;
  const names = folderNamesOf(context.sources);
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  for (const [index, name] of names.entries()) {
    signal.throwIfAborted();
    const target = remotePath(root, name);
    const args = [
      options.delete_extraneous ? 'sync' : 'copy',
      context.realSources[index],
      target,
      '--stats', '1s', '--stats-log-level', 'NOTICE', '-vv',
      ...COMMON_FLAGS,
      ...excludeArgs(options.exclude_patterns),
      ...(options.bandwidth_limit_kbps ? ['--bwlimit', `${options.bandwidth_limit_kbps}k`] : []),
      ...(options.dry_run ? ['--dry-run'] : []),
    ];
    const copied = new Set<string>();
    const before = { ...totals };
    const startedAt = Date.now();
    const onLine = (line: RcloneLogLine) => {
      const object = line.object ?? '';
      if (/^Copied \(/.test(line.msg)) {
        copied.add(object);
        if (options.verbosity !== 'quiet') context.log('info', `${name}/${object}`);
      } else if (line.msg === 'Deleted' && options.verbosity !== 'quiet') {
        context.log('info', `deleted ${name}/${object}`);
      } else if (line.skipped && options.verbosity !== 'quiet') {
        context.log('info', `${line.skipped === 'delete' ? 'would delete' : 'would copy'} ${name}/${object}`);
      } else if (line.level === 'error' && isSourceChange(line.msg)) {
        context.log('warning', `${name}/${object} changed or vanished while it was read; the next run sends it again`);
      } else if (line.level === 'notice' && /symlink/i.test(line.msg)) {
        context.log('warning', `${name}/${object}: symlink skipped (this destination keeps regular files only)`);
      }
      if (line.stats) {
        context.progress({ files_transferred: before.files_transferred + line.stats.transfers, bytes_transferred: before.bytes_transferred + line.stats.bytes, files_deleted: before.files_deleted + line.stats.deletes });
      }
    };
    const outcome = await runRclone(setup, args, signal, onLine);
    if ((signal.aborted || outcome.code !== 0) && !options.dry_run) await removeUnfinished(setup, root, name, { copied, startedAt }, context);
    signal.throwIfAborted();
    const realErrors = outcome.errors.filter((line) => !isSourceChange(line.msg));
    if (outcome.code !== 0 && (realErrors.length > 0 || outcome.errors.length === 0)) throw rcloneFailure(outcome, `${where}/${name}`);
    totals.files_transferred += outcome.stats?.transfers ?? 0;
    totals.bytes_transferred += outcome.stats?.bytes ?? 0;
    totals.files_deleted += outcome.stats?.deletes ?? 0;
    context.progress({ ...totals });
  }
  return totals;
}

/** Removes the files this run wrote at the destination without finishing them (see the top of this file). */
async function removeUnfinished(setup: RcloneSetup, root: string, name: string, run: { copied: Set<string>; startedAt: number }, context: SyncContext<unknown>): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  const listing = await runRclone(setup, ['lsjson', '-R', '--files-only', remotePath(root, name), ...COMMON_FLAGS], signal);
  if (listing.code !== 0) return;
  const entries = JSON.parse(listing.stdout || '[]') as Array<{ Path: string; ModTime: string }>;
  // Remotes keep times to a second at worst: a file begun in the run's first second must still count.
  const unfinished = entries.filter((entry) => Date.parse(entry.ModTime) >= run.startedAt - 1000 && !run.copied.has(entry.Path));
  for (const entry of unfinished) {
    const outcome = await runRclone(setup, ['deletefile', remotePath(root, name, entry.Path), ...COMMON_FLAGS], signal);
    if (outcome.code === 0) context.log('info', `removed ${name}/${entry.Path}: its upload did not finish`);
    else context.log('warning', `${name}/${entry.Path} may be incomplete at the destination (it could not be removed); the next run sends it again`);
  }
}
