/**
 * The counting pass before a local copy: rsync run with `--dry-run` on the same arguments says how
 * many files and bytes it will send (its `--stats`, the same figures the copy's totals are checked
 * against), so progress has a total before anything is copied. The pass reads both trees' metadata
 * once more and copies nothing; bench/copy-plan.ts measures what it costs.
 */
import type { TransferPlan } from '../../domain/runs.ts';
import type { SyncContext } from '../types.ts';
import { rsyncArguments } from './rsync-args.ts';
import { parseStatsLine, type RsyncStats } from './rsync-output.ts';
import { runRsync } from './rsync-process.ts';
import type { SourceCopy } from './copy-source.ts';

/**
 * Counts what `copies` will send and tells it through `context.plan`, before any copy starts. Says
 * nothing (progress then has no percent) when the job does not ask to count first
 * (`sync_options.count_first`), is itself a dry run, the context takes no plan, or a count fails: the copy that follows reports the failure properly. Rejects with
 * `signal.reason` when cancelled.
 */
export async function planCopies(context: SyncContext<unknown>, copies: ReadonlyArray<Pick<SourceCopy, 'source' | 'target' | 'fatLike' | 'linkDest'>>): Promise<void> {
  if (!context.plan || context.options.dry_run || !context.options.count_first) return;
  const started = Date.now();
  const plan: TransferPlan = { files: 0, bytes: 0 };
  for (const copy of copies) {
    const counted = await countCopy(context, copy);
    if (counted === null) return;
    plan.files += counted.files;
    plan.bytes += counted.bytes;
  }
  context.plan(plan);
  if (context.options.verbosity !== 'quiet') {
    context.log('info', `To send: ${plan.files} file(s), ${plan.bytes} bytes (counted in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

async function countCopy(context: SyncContext<unknown>, copy: Pick<SourceCopy, 'source' | 'target' | 'fatLike' | 'linkDest'>): Promise<TransferPlan | null> {
  const stats: RsyncStats = {};
  const args = rsyncArguments({ ...copy, options: { ...context.options, dry_run: true } });
  const exit = await runRsync(args, context.signal, { stdout: (line) => void parseStatsLine(line, stats), stderr: () => undefined });
  context.signal.throwIfAborted();
  // Vanished files (24) still give a count; anything else is the copy's to report.
  if ((exit.code !== 0 && exit.code !== 24) || stats.filesTransferred === undefined || stats.bytesTransferred === undefined) return null;
  return { files: stats.filesTransferred, bytes: stats.bytesTransferred };
}
