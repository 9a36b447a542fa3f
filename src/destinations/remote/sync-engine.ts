/**
 * One engine for every remote destination: it makes `<store>/<source name>/` a copy of each source
 * the way rsync does locally, and copies a backup back for a restore.
 * - incremental: a file is sent when the remote lacks it, its size differs, or its mtime differs (kept
 *   by the remote, or else in the record of what this daemon sent);
 * - streamed: the source walk, the remote listing and the record of sent files are read side by side
 *   in path order (a merge join, as rsync and rclone compare), so memory does not grow with the tree;
 * - a bounded number of files sent at once, under a shared bandwidth limit;
 * - `delete_extraneous` removes remote files gone from the source, never excluded ones, and never
 *   when part of the source could not be read (it would look gone): deletes wait, spooled to disk,
 *   until the whole source has been walked;
 * - totals mean what they mean for the local destination: files and bytes of completed uploads.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CairnError } from '../../domain/errors.ts';
import type { TransferTotals } from '../../domain/runs.ts';
import { isInside } from '../../files/allowed-paths.ts';
import { folderNamesOf } from '../source-names.ts';
import type { RestoreContext, SyncContext } from '../types.ts';
import { BandwidthLimit } from './bandwidth.ts';
import { Excludes } from './excludes.ts';
import { PathSpool } from './line-files.ts';
import { emptyProblems, LocalSpellings, NameSample, type LocalFile, type LocalProblems } from './local-tree.ts';
import { walkCountsOf, walkSource } from './local-walk.ts';
import { joinSorted } from './merge-join.ts';
import { isPartialName, partialNameFor, type RemoteEntry, type RemoteStore } from './remote-store.ts';
import { isUnchanged, planSend } from './send-plan.ts';
import { eachEntry } from './sorted-paths.ts';
import { SentFiles, type Sent, type SentSection } from './sent-files.ts';

/**
 * Files sent at once: enough to hide per-file round trips (an SFTP upload waits on four, one after
 * the other; at 4 files the initial run spent most of its time waiting). A file of LARGE_FILE bytes
 * or more takes two of these slots, so that large files, whose data in flight is what costs memory
 * (S3: up to 16 MiB each), stay at four at once (~64 MiB), as on a Raspberry Pi they must.
 */
export const FILES_AT_ONCE = 8;
const LARGE_FILE = 1024 * 1024;

/** Paths decided but not yet written to the new record (held while an earlier upload finishes). */
const RECORD_WINDOW = 4096;

export interface StoreSyncSettings {
  store: RemoteStore;
  /** Identifies the destination (type, host, bucket, path …) so the record of sent files is not reused for another. */
  identity: string;
}

/** What one run shares across its sources. */
interface RunState {
  context: SyncContext<unknown>;
  store: RemoteStore;
  excludes: Excludes;
  limit: BandwidthLimit | null;
  totals: TransferTotals;
  /** Source files that could not be read (the source's fault, not the destination's). */
  problems: NameSample;
}

export async function syncToStore(context: SyncContext<unknown>, { store, identity }: StoreSyncSettings): Promise<TransferTotals> {
  const { options, signal } = context;
  const names = folderNamesOf(context.sources);
  const run: RunState = {
    context,
    store,
    excludes: new Excludes(options.exclude_patterns),
    limit: options.bandwidth_limit_kbps ? new BandwidthLimit(options.bandwidth_limit_kbps) : null,
    totals: { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 },
    problems: new NameSample(),
  };
  // Every source is compared before the first file goes, so the total never grows under a percent.
  if (await planSend(context, { store, identity, excludes: run.excludes, names })) {
    // Nothing to send, delete, clear or record: a second walk and listing would find the same.
    for (const [index, realSource] of context.realSources.entries()) logSummary(context, realSource, store.where(names[index]), run.totals, run.totals);
    return run.totals;
  }
  const sent = await SentFiles.open(context.stateFile, identity);
  try {
    for (const [index, realSource] of context.realSources.entries()) {
      signal.throwIfAborted();
      // The real path checked at run start: a link in the job's path may have been swapped since.
      await syncSource(run, realSource, names[index], sent, `${context.stateFile}.tmp-${process.pid}-deletes-${index}`);
    }
  } catch (error) {
    if (signal.aborted) context.log('warning', `Cancelled: stopped after ${run.totals.files_transferred} file(s) (${run.totals.bytes_transferred} bytes) in this run`);
    throw error;
  } finally {
    // What was sent before a failure or a cancel need not be sent again; a dry run changes nothing.
    const saving = options.dry_run ? sent.discard() : sent.save();
    await saving.catch((error: Error) => context.log('warning', `Could not save the record of sent files (${error.message}); the next run compares by listing`));
  }
  if (run.problems.count > 0) {
    throw new CairnError('unavailable', 'PARTIAL_TRANSFER', `Partial transfer: ${run.problems.count} file(s) or folder(s) could not be read: ${run.problems.describe()}`);
  }
  return run.totals;
}

/** One source: walked alongside the remote listing and the record, then its deletes. */
async function syncSource(run: RunState, source: string, name: string, sent: SentFiles, deletesFile: string): Promise<void> {
  const section = sent.section(name);
  const { context, store, excludes } = run;
  const before = { ...run.totals };
  const local = emptyProblems();
  const deletes = new PathSpool(deletesFile);
  try {
    await compareAndSend(run, source, name, section, local, deletes);
    if (local.skipped.count > 0) {
      context.log('warning', `${local.skipped.count} symlink(s) or special file(s) in ${source} skipped: this destination keeps regular files only (${local.skipped.describe()})`);
    }
    run.problems.addAll(local.unreadable, (what) => `${source}/${what}`);
    if (deletes.count > 0 && local.unreadable.count > 0) {
      context.log('warning', `Nothing deleted from ${store.where(name)}: part of ${source} could not be read, and its files must not look gone`);
    } else if (deletes.count > 0) {
      await deleteExtraneous(run, name, section, deletes.paths(), new LocalSpellings(source, excludes));
    }
  } finally {
    await deletes.discard();
  }
  logSummary(context, source, store.where(name), before, run.totals);
}

/**
 * The merge join: every path of the source or the destination once, in path order. Uploads start as
 * they are found (a few at once); remote-only paths are noted for `deleteExtraneous`.
 */
async function compareAndSend(run: RunState, source: string, name: string, section: SentSection, local: LocalProblems, deletes: PathSpool): Promise<void> {
  const { context, store, excludes, totals } = run;
  const { options, signal } = context;
  const uploads = new TaskSlots(FILES_AT_ONCE);
  let complete = false;
  try {
    for await (const batch of joinSorted(walkSource(source, excludes, signal, local, walkCountsOf(run.context)), store.walk(name, signal))) {
      for (const joined of batch) {
        const { path: relative, left: file } = joined;
        let remote = joined.right;
        if (remote && isPartialName(relative)) {
          // Uploads interrupted by a crash or a pulled cable leave hidden partial files: clear them.
          if (!options.dry_run) {
            await store.remove(`${name}/${relative}`);
            if (options.verbosity === 'verbose') context.log('info', `removed the partial upload ${name}/${relative} left by an interrupted run`);
          }
          remote = undefined;
          if (!file) continue;
        }
        const found = section.lookup(relative);
        const old = found instanceof Promise ? await found : found;
        if (!file) {
          section.keep(relative, old, old);
          if (options.delete_extraneous && !excludes.covers(relative)) await deletes.add(relative);
        } else if (isUnchanged(file, remote, old)) {
          section.keep(relative, old, old);
        } else if (options.dry_run) {
          if (options.verbosity !== 'quiet') context.log('info', `${name}/${relative}`);
          totals.files_transferred++;
          totals.bytes_transferred += file.size;
          section.keep(relative, old, old);
        } else {
          const { outcome } = await uploads.start(signal, () => sendOne(run, `${name}/${relative}`, file), file.size >= LARGE_FILE ? 2 : 1);
          section.keep(
            relative,
            outcome.then((stored) => (stored ? ([file.size, file.mtimeMs] as Sent) : undefined), () => old),
            old,
          );
        }
        const flushing = section.flush(RECORD_WINDOW);
        if (flushing) await flushing;
      }
    }
    await uploads.settle();
    complete = true;
  } finally {
    // Whatever ended the walk, the uploads under way finish (or fail) before the record is written.
    await uploads.settle().catch(() => undefined);
    await section.finish(complete);
  }
}

/** Sends one file; true when the destination now holds it whole. A source problem is counted, not thrown. */
async function sendOne(run: RunState, remotePath: string, file: LocalFile): Promise<boolean> {
  const outcome = await sendFile(run.context, run.store, run.limit, remotePath, file);
  if (outcome.problem) run.problems.add(outcome.problem);
  if (!outcome.stored) return false;
  run.totals.files_transferred++;
  run.totals.bytes_transferred += file.size;
  run.context.progress({ ...run.totals });
  return true;
}

/** Deletes the paths noted by the walk (in path order), unless the source holds them under another spelling. */
async function deleteExtraneous(run: RunState, name: string, section: SentSection, paths: AsyncIterable<string>, spellings: LocalSpellings): Promise<void> {
  const { context, store, totals } = run;
  const { options, signal } = context;
  for await (const relative of paths) {
    signal.throwIfAborted();
    // A server that folds case or normalises Unicode lists a file under another spelling than the
    // one sent: that spelling must not look extraneous, or the file just sent would be deleted.
    if (await spellings.has(relative)) continue;
    if (options.verbosity !== 'quiet') context.log('info', `deleted ${name}/${relative}`);
    if (!options.dry_run) {
      await store.remove(`${name}/${relative}`);
      await section.forget(relative);
    }
    totals.files_deleted++;
    context.progress({ ...totals });
  }
}

/**
 * At most `size` tasks at once, started in order (uploads, downloads). A task that throws (the destination failed, or
 * the run was cancelled) stops any further start: `start` and `settle` rethrow it.
 */
export class TaskSlots {
  private readonly running = new Set<Promise<unknown>>();
  /** Slots taken by the tasks running. */
  private used = 0;
  private failure: { error: unknown } | null = null;

  constructor(private readonly size: number) {}

  /**
   * Waits until `slots` are free (all of them, when the task asks for more than there are), starts
   * `task`, and gives its outcome (wrapped, so as not to wait for it).
   */
  async start<T>(signal: AbortSignal, task: () => Promise<T>, slots = 1): Promise<{ outcome: Promise<T> }> {
    const taking = Math.min(slots, this.size);
    while (this.used + taking > this.size) await Promise.race(this.running);
    this.throwIfFailed();
    signal.throwIfAborted();
    const outcome = task();
    const slot = outcome.then(
      () => undefined,
      (error) => {
        this.failure ??= { error };
      },
    );
    this.running.add(slot);
    this.used += taking;
    void slot.then(() => {
      this.running.delete(slot);
      this.used -= taking;
    });
    // The failure is also seen through the slot; a caller that drops `outcome` must not leave it unhandled.
    outcome.catch(() => undefined);
    return { outcome };
  }

  /** Waits for every task started; rethrows the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

interface SendOutcome {
  /** True when the destination now holds this file whole, as it was when read. */
  stored: boolean;
  /** Why the source file could not be sent (it is the source's fault, not the destination's). */
  problem?: string;
}

async function sendFile(context: SyncContext<unknown>, store: RemoteStore, limit: BandwidthLimit | null, remotePath: string, file: LocalFile): Promise<SendOutcome> {
  const { signal } = context;
  const source = readSource(file, limit, signal);
  try {
    await store.put({ path: remotePath, body: source.body, size: file.size, mtimeMs: file.mtimeMs, signal });
  } catch (error) {
    source.body.destroy();
    const failure = source.localError();
    if (signal.aborted || !failure) throw error;
    if (failure.code === 'ENOENT') {
      context.log('warning', `${remotePath} vanished while the backup ran and is not in it`);
      return { stored: false };
    }
    if (failure.code === 'ECHANGED') {
      context.log('warning', `${remotePath} changed while it was read; the copy already there (if any) was kept, and the next run sends it again`);
      return { stored: false };
    }
    context.log('error', `${remotePath}: ${failure.message}`);
    return { stored: false, problem: `${file.absolute} (${failure.code ?? failure.message})` };
  }
  if (context.options.verbosity !== 'quiet') context.log('info', remotePath);
  return { stored: true };
}

/**
 * The file's content as a stream of exactly `file.size` bytes, paced by the bandwidth limit. A file
 * that shrank while read fails with code ECHANGED rather than making a short upload; errors of the
 * source itself are kept apart so that they are not blamed on the destination.
 */
function readSource(file: LocalFile, limit: BandwidthLimit | null, signal: AbortSignal): { body: Readable; localError(): NodeJS.ErrnoException | null } {
  let localError: NodeJS.ErrnoException | null = null;
  async function* chunks() {
    let seen = 0;
    try {
      if (file.size > 0) {
        for await (const chunk of createReadStream(file.absolute, { start: 0, end: file.size - 1 }) as AsyncIterable<Buffer>) {
          if (limit) await limit.take(chunk.length, signal);
          seen += chunk.length;
          yield chunk;
        }
      }
    } catch (error) {
      if (!signal.aborted) localError = error as NodeJS.ErrnoException;
      throw error;
    }
    // Checked before the store puts the file in place: a file that grew or was rewritten while it was
    // read must not replace the good copy already there with a cut or mixed one.
    const now = await fs.stat(file.absolute).catch(() => null);
    if (seen !== file.size || !now || now.size !== file.size || Math.floor(now.mtimeMs) !== file.mtimeMs) {
      localError = Object.assign(new Error(`read ${seen} of ${file.size} bytes`), { code: 'ECHANGED' });
      throw localError;
    }
  }
  return { body: Readable.from(chunks(), { objectMode: false }), localError: () => localError };
}

function logSummary(context: SyncContext<unknown>, source: string, where: string, before: TransferTotals, totals: TransferTotals): void {
  const would = context.options.dry_run ? 'would be ' : '';
  const files = totals.files_transferred - before.files_transferred;
  const bytes = totals.bytes_transferred - before.bytes_transferred;
  const deleted = totals.files_deleted - before.files_deleted;
  context.log('info', `${source} → ${where}: ${files} file(s) (${bytes} bytes) ${would}copied, ${deleted} ${would}deleted`);
}

/** The part of a store a restore needs. */
export type ReadableStore = Pick<RemoteStore, 'walk' | 'get' | 'where'>;

/**
 * Copies the backup (or the chosen paths of it) from `store` into `context.target`. The listing is
 * read twice, as a stream: once to check that every wanted path is there before a single file is
 * written, once to copy, so a million files are never held in memory.
 */
export async function restoreFromStore(context: RestoreContext<unknown>, store: ReadableStore): Promise<TransferTotals> {
  const { signal } = context;
  const names = folderNamesOf(context.sources);
  const wanted = context.paths?.map((wantedPath) => wantedPath.replace(/^\/+|\/+$/g, '')) ?? null;
  const covers = (item: string, full: string) => full === item || full.startsWith(`${item}/`);
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const targetRoot = await fs.realpath(context.target);
  async function* chosen(): AsyncGenerator<{ name: string; relative: string; entry: RemoteEntry }> {
    for (const name of names) {
      signal.throwIfAborted();
      if (wanted && !wanted.some((item) => covers(item, name) || item.startsWith(`${name}/`))) continue;
      for await (const [relative, entry] of eachEntry(store.walk(name, signal))) {
        if (isPartialName(relative)) continue;
        if (!wanted || wanted.some((item) => covers(item, `${name}/${relative}`))) yield { name, relative, entry };
      }
    }
  }

  const found = new Set<string>();
  let any = false;
  for await (const { name, relative } of chosen()) {
    any = true;
    if (!wanted) break;
    for (const item of wanted) if (covers(item, `${name}/${relative}`)) found.add(item);
    if (found.size === wanted.length) break;
  }
  const missing = new NameSample();
  for (const item of wanted ?? []) if (!found.has(item)) missing.add(item);
  if (!any || missing.count > 0) {
    const what = missing.count > 0 ? `not in the backup: ${missing.describe()}` : 'it holds no files';
    throw new CairnError('not_found', 'NOTHING_TO_RESTORE', `Nothing restored from ${store.where('')}: ${what}`);
  }

  const downloads = new TaskSlots(FILES_AT_ONCE);
  try {
    for await (const { name, relative, entry } of chosen()) {
      await downloads.start(signal, async () => {
        await restoreOne(store, targetRoot, name, relative, entry, signal);
        if (context.verbosity !== 'quiet') context.log('info', `${name}/${relative}`);
        totals.files_transferred++;
        totals.bytes_transferred += entry.size;
        context.progress({ ...totals });
      });
    }
  } finally {
    await downloads.settle();
  }
  context.log('info', `${store.where('')} → ${targetRoot}: ${totals.files_transferred} file(s) (${totals.bytes_transferred} bytes) restored`);
  return totals;
}

/** One file of the backup, written beside its final name and renamed into place. */
async function restoreOne(store: ReadableStore, targetRoot: string, name: string, relative: string, entry: RemoteEntry, signal: AbortSignal): Promise<void> {
  const destination = await safeTargetFor(targetRoot, name, relative);
  const partial = partialNameFor(destination);
  try {
    await pipeline(await store.get(`${name}/${relative}`, signal), createWriteStream(partial, { flags: 'wx' }), { signal });
    if (entry.mtimeMs !== undefined) await fs.utimes(partial, new Date(entry.mtimeMs), new Date(entry.mtimeMs));
    await fs.rename(partial, destination);
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
}

/**
 * Where a restored file goes: below `<target>/<name>/`, never outside it, whatever names the remote
 * listing holds and whatever symlinks the target already contains. Folders are made one at a time,
 * each checked before the next is made inside it.
 */
async function safeTargetFor(targetRoot: string, name: string, relative: string): Promise<string> {
  const parts = [name, ...relative.split('/')];
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) {
    throw new CairnError('unavailable', 'UNSAFE_REMOTE_NAME', `The backup holds a file named "${name}/${relative}", which cannot be restored safely`);
  }
  let folder = targetRoot;
  for (const part of parts.slice(0, -1)) {
    const next = path.join(folder, part);
    await fs.mkdir(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const real = await fs.realpath(next);
    if (!isInside(targetRoot, real)) {
      throw new CairnError('forbidden', 'RESTORE_OUTSIDE_TARGET', `Restoring ${name}/${relative} would write outside ${targetRoot} (through the symlink ${next})`);
    }
    folder = real;
  }
  return path.join(folder, parts[parts.length - 1]);
}
