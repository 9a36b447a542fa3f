/**
 * One engine for every remote destination: it makes `<store>/<source name>/` a copy of each source
 * the way rsync does locally, and copies a backup back for a restore.
 * - incremental: a file is sent when the remote lacks it, its size differs, or its mtime differs (kept
 *   by the remote, or else in the record of what this daemon sent);
 * - streamed, a bounded number of files at once, under a shared bandwidth limit;
 * - `delete_extraneous` removes remote files gone from the source, never excluded ones, and never
 *   when part of the source could not be read (it would look gone);
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
import { readLocalTree, type LocalFile } from './local-tree.ts';
import { isPartialName, partialNameFor, type RemoteEntry, type RemoteStore } from './remote-store.ts';
import { SentFiles } from './sent-files.ts';
import { forEachLimited } from './worker-pool.ts';

/** Files sent at once: enough to hide per-file round trips, few enough for a Raspberry Pi's memory. */
export const FILES_AT_ONCE = 4;

/** How many names a warning lists before "and N more". */
const NAMES_SHOWN = 5;

export interface StoreSyncSettings {
  store: RemoteStore;
  /** Identifies the destination (type, host, bucket, path …) so the record of sent files is not reused for another. */
  identity: string;
}

export async function syncToStore(context: SyncContext<unknown>, { store, identity }: StoreSyncSettings): Promise<TransferTotals> {
  const { options, signal } = context;
  const names = folderNamesOf(context.sources);
  const excludes = new Excludes(options.exclude_patterns);
  const limit = options.bandwidth_limit_kbps ? new BandwidthLimit(options.bandwidth_limit_kbps) : null;
  const sent = await SentFiles.load(context.stateFile, identity);
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const problems: string[] = [];
  try {
    for (const [index, source] of context.sources.entries()) {
      signal.throwIfAborted();
      const name = names[index];
      const before = { ...totals };
      // The real path checked at run start: a link in the job's path may have been swapped since.
      const tree = await readLocalTree(context.realSources[index], excludes, signal);
      const remote = await store.list(name, signal);
      const uploads = [...tree.files].filter(([relative, file]) => !isUnchanged(`${name}/${relative}`, file, remote.get(relative), sent));
      // A server that folds case or normalises Unicode lists a file under another spelling than the
      // one sent: that spelling must not look extraneous, or the file just sent would be deleted.
      const localSpellings = new Set([...tree.files.keys()].map(spelling));
      const deletes = options.delete_extraneous
        ? [...remote.keys()].filter(
            (relative) => !isPartialName(relative) && !tree.files.has(relative) && !localSpellings.has(spelling(relative)) && !excludes.covers(relative),
          )
        : [];
      if (tree.skipped.length > 0) {
        context.log('warning', `${tree.skipped.length} symlink(s) or special file(s) in ${source} skipped: this destination keeps regular files only (${listNames(tree.skipped)})`);
      }
      problems.push(...tree.unreadable.map((what) => `${source}/${what}`));

      if (options.dry_run) {
        for (const [relative, file] of uploads) {
          if (options.verbosity !== 'quiet') context.log('info', `${name}/${relative}`);
          totals.files_transferred++;
          totals.bytes_transferred += file.size;
        }
      } else {
        await removeLeftovers(context, store, name, remote);
        await forEachLimited(uploads, FILES_AT_ONCE, signal, async ([relative, file]) => {
          const outcome = await sendFile(context, store, limit, `${name}/${relative}`, file);
          if (outcome.problem) problems.push(outcome.problem);
          if (!outcome.stored) return void sent.forget(`${name}/${relative}`);
          totals.files_transferred++;
          totals.bytes_transferred += file.size;
          sent.record(`${name}/${relative}`, file.size, file.mtimeMs);
          context.progress({ ...totals });
        });
      }

      if (deletes.length > 0 && tree.unreadable.length > 0) {
        context.log('warning', `Nothing deleted from ${store.where(name)}: part of ${source} could not be read, and its files must not look gone`);
      } else {
        for (const relative of deletes) {
          signal.throwIfAborted();
          if (options.verbosity !== 'quiet') context.log('info', `deleted ${name}/${relative}`);
          if (!options.dry_run) {
            await store.remove(`${name}/${relative}`);
            sent.forget(`${name}/${relative}`);
          }
          totals.files_deleted++;
          context.progress({ ...totals });
        }
      }
      logSummary(context, source, store.where(name), before, totals);
    }
  } catch (error) {
    if (signal.aborted) context.log('warning', `Cancelled: stopped after ${totals.files_transferred} file(s) (${totals.bytes_transferred} bytes) in this run`);
    throw error;
  } finally {
    // What was sent before a failure or a cancel need not be sent again.
    await sent.save().catch((error: Error) => context.log('warning', `Could not save the record of sent files (${error.message}); the next run compares by listing`));
  }
  if (problems.length > 0) {
    throw new CairnError('unavailable', 'PARTIAL_TRANSFER', `Partial transfer: ${problems.length} file(s) or folder(s) could not be read: ${listNames(problems)}`);
  }
  return totals;
}

/**
 * The record of what was sent knows mtimes to the millisecond, so it decides when it has the file:
 * an edit within the same second as the last backup is still seen. Without it (a first run against
 * an existing copy), a remote that keeps mtimes is compared like rsync does, to the second.
 */
function isUnchanged(remotePath: string, file: LocalFile, remote: RemoteEntry | undefined, sent: SentFiles): boolean {
  if (!remote || remote.size !== file.size) return false;
  if (sent.has(remotePath)) return sent.sentAs(remotePath, file.size, file.mtimeMs);
  return remote.mtimeMs !== undefined && Math.floor(remote.mtimeMs / 1000) === Math.floor(file.mtimeMs / 1000);
}

/** Uploads interrupted by a crash or a pulled cable leave hidden partial files: clear them. */
async function removeLeftovers(context: SyncContext<unknown>, store: RemoteStore, name: string, remote: Map<string, RemoteEntry>): Promise<void> {
  for (const relative of remote.keys()) {
    if (!isPartialName(relative)) continue;
    await store.remove(`${name}/${relative}`);
    if (context.options.verbosity === 'verbose') context.log('info', `removed the partial upload ${name}/${relative} left by an interrupted run`);
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

/** How a case-folding, Unicode-normalising server may spell a path. */
function spelling(relative: string): string {
  return relative.normalize('NFC').toLowerCase();
}

function listNames(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/** The part of a store a restore needs. */
export type ReadableStore = Pick<RemoteStore, 'list' | 'get' | 'where'>;

/** Copies the backup (or the chosen paths of it) from `store` into `context.target`. */
export async function restoreFromStore(context: RestoreContext<unknown>, store: ReadableStore): Promise<TransferTotals> {
  const { signal } = context;
  const names = folderNamesOf(context.sources);
  const wanted = context.paths?.map((wantedPath) => wantedPath.replace(/^\/+|\/+$/g, '')) ?? null;
  const covers = (item: string, full: string) => full === item || full.startsWith(`${item}/`);
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const targetRoot = await fs.realpath(context.target);

  // Everything is listed and every wanted path found before a single file is written.
  const chosen: Array<{ name: string; relative: string; entry: RemoteEntry }> = [];
  for (const name of names) {
    signal.throwIfAborted();
    if (wanted && !wanted.some((item) => covers(item, name) || item.startsWith(`${name}/`))) continue;
    for (const [relative, entry] of await store.list(name, signal)) {
      if (isPartialName(relative)) continue;
      if (!wanted || wanted.some((item) => covers(item, `${name}/${relative}`))) chosen.push({ name, relative, entry });
    }
  }
  const missing = wanted?.filter((item) => !chosen.some(({ name, relative }) => covers(item, `${name}/${relative}`))) ?? [];
  if (chosen.length === 0 || missing.length > 0) {
    const what = missing.length > 0 ? `not in the backup: ${listNames(missing)}` : 'it holds no files';
    throw new CairnError('not_found', 'NOTHING_TO_RESTORE', `Nothing restored from ${store.where('')}: ${what}`);
  }

  await forEachLimited(chosen, FILES_AT_ONCE, signal, async ({ name, relative, entry }) => {
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
    if (context.verbosity !== 'quiet') context.log('info', `${name}/${relative}`);
    totals.files_transferred++;
    totals.bytes_transferred += entry.size;
    context.progress({ ...totals });
  });
  context.log('info', `${store.where('')} → ${targetRoot}: ${totals.files_transferred} file(s) (${totals.bytes_transferred} bytes) restored`);
  return totals;
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
