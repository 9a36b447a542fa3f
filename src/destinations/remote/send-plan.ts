/**
 * The remote engine's plan: before a sync sends anything, the same comparison it will make (the
 * source walk, the remote listing and the record of sent files, side by side in path order) is run
 * once to count what it will send, for every source, so progress has a total that never grows. It
 * reads and writes nothing else: the record is only read. Its cost is a second walk and a second
 * listing of the destination; every run's log says how long it took. It also tells when the sync
 * would change nothing at all (no upload, no delete, no partial upload to clear, no change to the
 * record, no source problem to report): the sync then skips its own pass, so a no-change rerun walks
 * and lists once, as rclone does (issue 17).
 */
import type { TransferPlan } from '../../domain/runs.ts';
import type { SyncContext } from '../types.ts';
import type { Excludes } from './excludes.ts';
import { emptyProblems, type LocalFile } from './local-tree.ts';
import { walkCountsOf, walkSource } from './local-walk.ts';
import { joinSorted } from './merge-join.ts';
import { isPartialName, type RemoteEntry, type RemoteStore } from './remote-store.ts';
import { SentFiles, type Sent } from './sent-files.ts';

/**
 * The record of what was sent knows mtimes to the millisecond, so it decides when it has the file:
 * an edit within the same second as the last backup is still seen. Without it (a first run against
 * an existing copy), a remote that keeps mtimes is compared like rsync does, to the second.
 */
export function isUnchanged(file: LocalFile, remote: RemoteEntry | undefined, sent: Sent | undefined): boolean {
  if (!remote || remote.size !== file.size) return false;
  if (sent) return sent[0] === file.size && sent[1] === file.mtimeMs;
  return remote.mtimeMs !== undefined && Math.floor(remote.mtimeMs / 1000) === Math.floor(file.mtimeMs / 1000);
}

export interface PlanSettings {
  store: RemoteStore;
  identity: string;
  excludes: Excludes;
  /** Each source's folder name at the destination, in the order of `context.realSources`. */
  names: string[];
}

/**
 * Counts the files and bytes the sync will send and tells them through `context.plan`; true when the
 * sync would change nothing (see above), false when it must run its own pass. Says nothing and
 * answers false when the context takes no plan or the job is a dry run (which only counts anyway).
 * A failure to list is the sync's to report: it is thrown, as the sync would throw it a moment later.
 */
export async function planSend(context: SyncContext<unknown>, { store, identity, excludes, names }: PlanSettings): Promise<boolean> {
  const { signal, options } = context;
  if (!context.plan || options.dry_run) return false;
  const started = Date.now();
  const plan: TransferPlan = { files: 0, bytes: 0 };
  const problems = emptyProblems();
  let idle = true;
  const sent = await SentFiles.open(context.stateFile, identity);
  try {
    for (const [index, source] of context.realSources.entries()) {
      const section = sent.section(names[index]);
      for await (const joined of joinSorted(walkSource(source, excludes, signal, problems, walkCountsOf(context)), store.walk(names[index], signal))) {
        for (const { path: relative, left: file, right } of joined) {
          const partial = right !== undefined && isPartialName(relative);
          const remote = partial ? undefined : right;
          const found = section.lookup(relative);
          const old = found instanceof Promise ? await found : found;
          if (file && !isUnchanged(file, remote, old)) {
            plan.files++;
            plan.bytes += file.size;
          } else if (partial || (!file && options.delete_extraneous && !excludes.covers(relative))) {
            // A partial upload to clear, or a file the sync may delete (it decides, after the whole walk).
            idle = false;
          }
          // The record as the sync would keep it for an unchanged path: a change (an entry for a path
          // gone from both sides) shows in `section.changed` and needs the sync's pass to be written.
          section.keep(relative, old, old);
          const flushing = section.flush(0);
          if (flushing) await flushing;
        }
      }
      await section.finish(true);
      if (section.changed) idle = false;
    }
  } finally {
    // Only read: closes the record before the sync opens it (the same temp names would be used).
    await sent.discard();
  }
  context.plan(plan);
  if (context.options.verbosity !== 'quiet') {
    context.log('info', `To send: ${plan.files} file(s), ${plan.bytes} bytes (compared in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return idle && plan.files === 0 && problems.skipped.count === 0 && problems.unreadable.count === 0;
}
