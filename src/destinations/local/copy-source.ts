/**
 * One source copied by one rsync process: its output turned into log lines and running totals as it
 * arrives, its exit code turned into success, a warning (vanished files) or a CairnError.
 */
import { CairnError } from '../../domain/errors.ts';
import { DRIVE_REMOVED_MESSAGE, type TransferTotals } from '../../domain/runs.ts';
import type { SyncContext } from '../types.ts';
import type { MountRequirement } from './destination-root.ts';
import { driveStillThere } from './mounts.ts';
import { rsyncArguments } from './rsync-args.ts';
import { exitCodeMeaning, RsyncProblems, type CopyPlaces } from './rsync-errors.ts';
import { runRsync, type RsyncExit } from './rsync-process.ts';
import { countItem, describeItem, parseItemLine, parseProgressLine, parseStatsLine, printable, type ParsedItem, type RsyncStats } from './rsync-output.ts';
import { ListShare, type CopyPosition } from './list-share.ts';
import { previousEntryCount, rememberEntryCount } from '../entry-counts.ts';

/** How often a copy reports its totals and share: rsync prints a line per file, a phone needs a few a second at most. */
export const REPORT_INTERVAL_MS = 200;

export interface SourceCopy extends CopyPlaces {
  /** The target lacks owners/permissions and keeps times to 2 s (FAT, exFAT, NTFS). */
  fatLike: boolean;
  /** A previous copy to hard-link unchanged files from (snapshots); see RsyncCopy.linkDest. */
  linkDest?: string;
  /**
   * Called with each item rsync itemizes (what it copied or changed), in its order; with
   * `listUnchanged`, also with every unchanged entry (never logged or counted).
   */
  onItem?(item: ParsedItem): void;
  /** Which of the run's copies this is, for the run's share of work done (default: the only one). */
  position?: CopyPosition;
  /** See RsyncCopy.listUnchanged. */
  listUnchanged?: boolean;
}

/**
 * Makes `copy.target` a copy of `copy.source` and adds what moved to `totals` (reporting progress as
 * files complete). Resolves when rsync succeeded or only reported vanished files; rejects with
 * `signal.reason` when cancelled, or with a CairnError naming what failed.
 */
export function copySource(context: SyncContext<MountRequirement>, copy: SourceCopy, totals: TransferTotals): Promise<void> {
  return runCopy(context, copy, totals);
}

async function runCopy(context: SyncContext<MountRequirement>, copy: SourceCopy, totals: TransferTotals): Promise<void> {
  const { options, signal } = context;
  const before = { ...totals };
  const stats: RsyncStats = {};
  const problems = new RsyncProblems(copy);
  // A dry run has no progress lines (rsync-args.ts), so it needs no count either.
  const share = new ListShare(copy.position, options.dry_run ? null : await previousEntryCount(context.stateFile, copy.source));
  let reportedAt = 0;
  const report = (now = Date.now()) => {
    reportedAt = now;
    // The share first: a frame sent on the totals then already carries the percent.
    const ofRun = share.ofRun;
    if (ofRun !== null) context.advanced?.(ofRun);
    context.progress({ ...totals });
  };
  const reportSometimes = () => {
    const now = Date.now();
    if (now - reportedAt >= REPORT_INTERVAL_MS) report(now);
  };
  const args = rsyncArguments({
    source: copy.source,
    target: copy.target,
    options,
    fatLike: copy.fatLike,
    linkDest: copy.linkDest,
    listUnchanged: copy.listUnchanged,
  });
  if (options.verbosity === 'verbose') context.log('info', printable(`Running: rsync ${args.map(quoteForLog).join(' ')}`));

  signal.throwIfAborted();
  const exit = await runRsync(args, signal, {
    stdout(line) {
      const whole = parseProgressLine(line);
      if (whole !== null) {
        if (share.note(whole)) reportSometimes();
        return;
      }
      const item = parseItemLine(line);
      if (item === null) {
        parseStatsLine(line, stats);
        if (options.verbosity === 'verbose' && line.trim() !== '') context.log('info', printable(line));
        return;
      }
      copy.onItem?.(item);
      // Listed only because every entry was asked for: rsync would not have printed it otherwise.
      if (copy.listUnchanged && item.unchanged) return;
      if (countItem(totals, item)) reportSometimes();
      const message = describeItem(item, copy.name, options.verbosity);
      if (message !== null) context.log('info', printable(message));
    },
    stderr(line) {
      context.log(problems.add(line), printable(line));
    },
  });

  if (exit.abandoned) context.log('error', 'rsync did not exit even when killed (is the drive failing?); it was left behind');
  if (signal.aborted) {
    context.log('warning', `Cancelled: rsync stopped after ${totals.files_transferred} file(s) (${totals.bytes_transferred} bytes) in this run`);
    throw signal.reason;
  }
  await failIfDriveWentAway(context.config, exit);
  // After a failure or vanished files rsync's summary counts files it asked for but never got; only a clean run compares.
  if (exit.code === 0) checkAgainstStats(context, stats, before, totals);
  if (exit.code === 0 || exit.code === 24) share.finished();
  report();
  if (!options.dry_run && stats.entries !== undefined) await rememberEntries(context, copy.source, stats.entries);
  reportOutcome(context, copy, exit, problems);
  logSummary(context, copy, before, totals);
}

/** Keeps the list's size for the next run's share; a state file that cannot be written costs that share, not the backup. */
async function rememberEntries(context: SyncContext<MountRequirement>, source: string, entries: number): Promise<void> {
  try {
    await rememberEntryCount(context.stateFile, source, entries, context.realSources);
  } catch (error) {
    context.log('warning', printable(`Could not remember the size of ${source}'s file list for the next run's progress: ${(error as Error).message}`));
  }
}

/** A non-zero exit on a USB job whose drive is gone is the drive's fault, and the run says so. */
async function failIfDriveWentAway(config: MountRequirement, exit: RsyncExit): Promise<void> {
  if (exit.code === 0 || !config.usb_uuid) return;
  if (await driveStillThere(config.usb_uuid, config.mount_point)) return;
  // Not retryable: the drive was pulled out; plugging it in again starts a run of its own.
  throw new CairnError('unavailable', 'DRIVE_REMOVED', DRIVE_REMOVED_MESSAGE);
}

/** rsync's --stats are the reference; if the itemized lines told another story, trust rsync and say so. */
function checkAgainstStats(context: SyncContext<MountRequirement>, stats: RsyncStats, before: TransferTotals, totals: TransferTotals): void {
  const counted = {
    files_transferred: totals.files_transferred - before.files_transferred,
    bytes_transferred: totals.bytes_transferred - before.bytes_transferred,
    files_deleted: totals.files_deleted - before.files_deleted,
  };
  const reported = { files_transferred: stats.filesTransferred, bytes_transferred: stats.bytesTransferred, files_deleted: stats.filesDeleted };
  for (const key of Object.keys(counted) as Array<keyof TransferTotals>) {
    const fromStats = reported[key];
    if (fromStats === undefined || fromStats === counted[key]) continue;
    context.log('warning', `rsync's summary gives ${key} = ${fromStats} where its file list gave ${counted[key]}; using the summary`);
    totals[key] = before[key] + fromStats;
  }
}

function reportOutcome(context: SyncContext<MountRequirement>, copy: SourceCopy, exit: RsyncExit, problems: RsyncProblems): void {
  if (problems.vanished.count > 0) {
    context.log('warning', `${problems.vanished.count} file(s) vanished while the backup ran and are not in it: ${problems.vanished.describe()}`);
  }
  if (exit.code === 0 || exit.code === 24) return;
  if (exit.code === 23) {
    const what =
      problems.failed.count > 0
        ? `${problems.failed.count} file(s) could not be copied: ${problems.failed.describe()}`
        : `some files or their attributes could not be copied${problems.lastError ? ` (${problems.lastError})` : ''}`;
    throw new CairnError('unavailable', 'PARTIAL_TRANSFER', printable(`Partial transfer of ${copy.source}: ${what}`));
  }
  const meaning = exitCodeMeaning(exit.code ?? 20, problems.lastError);
  const endedBy = exit.code === null ? ` (${exit.signal})` : '';
  const detail = problems.lastError ? `: ${problems.lastError}` : '';
  throw new CairnError(meaning.kind, 'RSYNC_FAILED', printable(`Copying ${copy.source} failed: ${meaning.message}${endedBy}${detail}`), {
    retryable: meaning.retryable,
  });
}

function logSummary(context: SyncContext<MountRequirement>, copy: SourceCopy, before: TransferTotals, totals: TransferTotals): void {
  const would = context.options.dry_run ? 'would be ' : '';
  const files = totals.files_transferred - before.files_transferred;
  const bytes = totals.bytes_transferred - before.bytes_transferred;
  const deleted = totals.files_deleted - before.files_deleted;
  context.log('info', printable(`${copy.source} → ${copy.target}: ${files} file(s) (${bytes} bytes) ${would}copied, ${deleted} ${would}deleted`));
}

/** An argument as a shell user would type it, for the verbose log only; rsync itself gets the argv. */
function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
