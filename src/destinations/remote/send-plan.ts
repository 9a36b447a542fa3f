/**
 * The remote engine's plan: before a sync sends anything, the same comparison it will make (the
 * source walk, the remote listing and the record of sent files, side by side in path order) is run
 * once to count what it will send, for every source, so progress has a total that never grows. It
 * reads and writes nothing else: the record is only read. Its cost is a second walk and a second
 * listing of the destination; every run's log says how long it took.
 */
import type { TransferPlan } from '../../domain/runs.ts';
import type { SyncContext } from '../types.ts';
import type { Excludes } from './excludes.ts';
import { emptyProblems, walkLocalTree, type LocalFile } from './local-tree.ts';
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
 * Counts the files and bytes the sync will send and tells them through `context.plan`. Says nothing
 * when the context takes no plan or the job is a dry run (which only counts anyway). A failure to
 * list is the sync's to report: it is thrown, as the sync would throw it a moment later.
 */
export async function planSend(context: SyncContext<unknown>, { store, identity, excludes, names }: PlanSettings): Promise<void> {
  if (!context.plan || context.options.dry_run) return;
  const { signal } = context;
  const started = Date.now();
  const plan: TransferPlan = { files: 0, bytes: 0 };
  const sent = await SentFiles.open(context.stateFile, identity);
  try {
    for (const [index, source] of context.realSources.entries()) {
      const section = sent.section(names[index]);
      for await (const { path: relative, left: file, right } of joinSorted(walkLocalTree(source, excludes, signal, emptyProblems()), store.walk(names[index], signal))) {
        const remote = right && isPartialName(relative) ? undefined : right;
        const old = await section.lookup(relative);
        if (file && !isUnchanged(file, remote, old)) {
          plan.files++;
          plan.bytes += file.size;
        }
      }
    }
  } finally {
    // Only read: closes the record before the sync opens it (the same temp names would be used).
    await sent.discard();
  }
  context.plan(plan);
  if (context.options.verbosity !== 'quiet') {
    context.log('info', `To send: ${plan.files} file(s), ${plan.bytes} bytes (compared in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}
