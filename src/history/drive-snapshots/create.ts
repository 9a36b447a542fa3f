/**
 * Making a snapshot: each source is rsynced into a work folder with `--link-dest` on the previous
 * snapshot (unchanged files become hard links), the manifest and summary are written inside it,
 * and only then is it renamed to its dated name. A run killed on the way leaves the work folder;
 * the next run resumes in it (what rsync already copied is not copied again).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { invalid } from '../../domain/errors.ts';
import type { TransferTotals } from '../../domain/runs.ts';
import { copySource, planCopies, type ParsedItem } from '../../destinations/local/index.ts';
import { folderNamesOf } from '../../destinations/source-names.ts';
import type { SyncContext } from '../../destinations/types.ts';
import { syncDirectory, writeFileDurably } from '../../store/index.ts';
import { requireHardLinks } from './hard-links.ts';
import { buildManifest } from './manifest-build.ts';
import { comparePaths } from './manifest-file.ts';
import { ListedManifest } from './manifest-list.ts';
import { INCOMPLETE_PREFIX, snapshotBaseName, uniqueName } from './names.ts';
import { finishLeftovers } from './removal.ts';
import { listSnapshots, SUMMARY_NAME, type SnapshotInfo, type SnapshotSummary } from './snapshot-list.ts';

/** Where and when the snapshot is made. */
export interface SnapshotPlace {
  /** The job's backup folder: real path, already checked to be on the right drive (checkMount + resolveInside). */
  root: string;
  /** IANA zone the snapshot's name is written in (the settings' zone). */
  timezone: string;
  /** The run's start time: the snapshot's time. */
  time: Date;
  runId: number | null;
}

/** A new snapshot and what rsync moved to make it. */
export interface SnapshotResult {
  snapshot: SnapshotInfo;
  totals: TransferTotals;
  /** The work folder of an interrupted run was resumed. */
  resumed: boolean;
}

/**
 * Makes a new complete snapshot of the context's sources under `place.root`. The context is the
 * local destination's (log, progress, cancel by `signal`, the drive check on a failure); its
 * `delete_extraneous` and `fatLike` do not apply (a snapshot is always an exact copy, and a
 * filesystem without hard links is refused). Rejects like the local destination's sync (rsync
 * failures as CairnErrors, `signal.reason` when cancelled), leaving the work folder to resume.
 * @throws CairnError `FILESYSTEM_NO_HARD_LINKS`, `SNAPSHOT_DRY_RUN` (a dry run makes no snapshot).
 */
export async function createSnapshot(context: SyncContext<{ mount_point: string; usb_uuid?: string | null }>, place: SnapshotPlace): Promise<SnapshotResult> {
  const { signal } = context;
  if (context.options.dry_run) throw invalid('SNAPSHOT_DRY_RUN', 'A dry run makes no snapshot; run it in mirror mode to see what would change');
  signal.throwIfAborted();
  const names = folderNamesOf(context.sources);
  await requireHardLinks(place.root);

  const existing = await fs.readdir(place.root);
  const resumable = existing.filter((name) => name.startsWith(INCOMPLETE_PREFIX)).sort().at(-1) ?? null;
  await finishLeftovers(place.root, true, resumable);
  const previous = (await listSnapshots(place.root))[0] ?? null;
  const id = uniqueName(snapshotBaseName(place.time, place.timezone), new Set(existing));
  const work = path.join(place.root, `${INCOMPLETE_PREFIX}${id}`);
  if (resumable) {
    await fs.rename(path.join(place.root, resumable), work);
    context.log('info', `Resuming the snapshot an interrupted run left (${resumable})`);
    await removeStrays(work, new Set(names));
  } else {
    await fs.mkdir(work);
  }

  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const options = { ...context.options, delete_extraneous: true };
  // In a fresh work folder, rsync's list of the new tree gives the manifest while rsync runs.
  const listed = resumable || !previous ? null : await ListedManifest.open(work, previous.path);
  const copies = [];
  for (const [index, name] of names.entries()) {
    const linkDest = previous ? await existingFolder(path.join(previous.path, name)) : undefined;
    copies.push({ name, source: context.realSources[index], target: path.join(work, name), fatLike: false, linkDest, position: { index, of: names.length } });
  }
  // The sources are the snapshot's top folders: copied in the manifest's order, rsync lists the whole snapshot in it.
  copies.sort((a, b) => comparePaths(`${a.name}/`, `${b.name}/`));
  try {
    await planCopies({ ...context, options }, copies);
    for (const copy of copies) {
      signal.throwIfAborted();
      const onItem = listed ? (item: ParsedItem) => listed.add(copy.name, item) : undefined;
      await copySource({ ...context, options }, { ...copy, listUnchanged: listed !== null, onItem }, totals);
    }
  } catch (error) {
    await listed?.abandon();
    throw error;
  }

  let manifest = listed ? await listed.finish(signal) : null;
  if (listed && !manifest) context.log('info', `Reading the snapshot's tree for its manifest: ${listed.unusableBecause}`);
  manifest ??= await buildManifest(work, previous?.path ?? null, signal);
  const summary: SnapshotSummary = {
    id,
    time: place.time.toISOString(),
    run_id: place.runId,
    files: manifest.files,
    total_size: manifest.total_size,
    bytes_added: manifest.bytes_added,
    previous: previous?.id ?? null,
  };
  await writeFileDurably(path.join(work, SUMMARY_NAME), `${JSON.stringify(summary, null, 2)}\n`, 0o644);
  signal.throwIfAborted();
  await fs.rename(work, path.join(place.root, id));
  await syncDirectory(place.root);
  context.log('info', `Snapshot ${id}: ${manifest.files} file(s), ${manifest.bytes_added} new bytes, ${manifest.files_hashed} file(s) hashed`);
  return { snapshot: { ...summary, path: path.join(place.root, id) }, totals, resumed: resumable !== null };
}

/** Removes top-level entries of a resumed work folder that are no source's (a source removed from the job, an old manifest). */
async function removeStrays(work: string, names: ReadonlySet<string>): Promise<void> {
  for (const entry of await fs.readdir(work)) {
    if (!names.has(entry)) await fs.rm(path.join(work, entry), { recursive: true, force: true });
  }
}

async function existingFolder(folder: string): Promise<string | undefined> {
  const stat = await fs.lstat(folder).catch(() => null);
  return stat?.isDirectory() ? folder : undefined;
}
