/**
 * `local`: a folder on this machine or on a mounted USB drive, kept in step with rsync.
 * Each source lands in `mount_point/backup_subdir/<source name>/`. With `usb_uuid`, nothing is
 * written unless that filesystem is mounted at `mount_point`; without it, `mount_point` must exist.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import { CairnError } from '../../domain/errors.ts';
import type { TransferTotals } from '../../domain/runs.ts';
import { folderNamesOf } from '../source-names.ts';
import { describeErrno } from '../../files/fs-errors.ts';
import { restoreFromStore } from '../remote/sync-engine.ts';
import type { ConnectionTestResult, Destination, DestinationSpace, RestoreContext, SyncContext } from '../types.ts';
import { localBackupReader } from './backup-reader.ts';
import { copySource, type SourceCopy } from './copy-source.ts';
import { planCopies } from './copy-plan.ts';
import { checkMount, checkStillOnDrive, resolveInside } from './destination-root.ts';
import { filesystemTypeOf, isFatLike } from './mounts.ts';
// The listing alone, not history/index.ts: the snapshot engine there imports this destination back.
import { listSnapshots } from '../../history/drive-snapshots/snapshot-list.ts';

/** The job's `destination_config` for type `local`, after `configSchema` applied its defaults. */
export interface LocalConfig {
  /** Absolute folder: the mount point of the drive, or any existing folder. */
  mount_point: string;
  /** Folder below `mount_point` that holds the backup; '' for the mount point itself. */
  backup_subdir: string;
  /** UUID of the filesystem that must be mounted at `mount_point`; null for a plain folder. */
  usb_uuid?: string | null;
  /** Mount the drive when it is plugged in (read by the devices module). */
  auto_mount: boolean;
  /** Unmount the drive when its jobs are done (read by the devices module). */
  auto_unmount: boolean;
}

/** joi schema of the `local` destination_config; unknown keys are refused. */
export const configSchema = Joi.object({
  mount_point: Joi.string()
    .max(4096)
    .pattern(/^\/[^\0]*$/)
    .required()
    .messages({ 'string.pattern.base': '"mount_point" must be an absolute path such as /mnt/backup' }),
  backup_subdir: Joi.string()
    .allow('')
    .max(1024)
    .pattern(/^(?!\/)[^\0]*$/)
    .custom((value: string, helpers) => (value.split('/').includes('..') ? helpers.error('string.pattern.base') : value))
    .default('')
    .messages({ 'string.pattern.base': '"backup_subdir" must be a relative folder inside the mount point (no "..", no leading "/")' }),
  usb_uuid: Joi.string()
    .pattern(/^[A-Za-z0-9-]{4,64}$/)
    .allow(null)
    .default(null)
    .messages({ 'string.pattern.base': '"usb_uuid" must be a filesystem UUID such as 1234-ABCD or 0b6f…-…' }),
  // A drive registered by its UUID is one to back up when plugged in: mount, run, unmount unless told otherwise.
  auto_mount: Joi.boolean().when('usb_uuid', { is: Joi.string(), then: Joi.boolean().default(true), otherwise: Joi.boolean().default(false) }),
  auto_unmount: Joi.boolean().when('usb_uuid', { is: Joi.string(), then: Joi.boolean().default(true), otherwise: Joi.boolean().default(false) }),
});

async function sync(context: SyncContext<LocalConfig>): Promise<TransferTotals> {
  const { config, options, signal } = context;
  signal.throwIfAborted();
  const names = folderNamesOf(context.sources);
  const mount = await checkMount(config);
  const writing = !options.dry_run;
  const root = await resolveInside(mount.path, config.backup_subdir, writing);
  const fatLike = isFatLike(await filesystemTypeOf(root.deepestExisting));
  if (fatLike && options.verbosity !== 'quiet') {
    context.log('info', `${root.path} is on a FAT/exFAT/NTFS filesystem: owners and permissions are not kept, times are compared to within 1 s`);
  }
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const copies: SourceCopy[] = [];
  for (const index of context.sources.keys()) {
    signal.throwIfAborted();
    const name = names[index];
    if (writing && config.usb_uuid) await checkStillOnDrive(mount, config);
    const target = (await resolveInside(mount.path, path.join(config.backup_subdir, name), writing)).path;
    copies.push({ name, source: context.realSources[index], target, fatLike, position: { index, of: context.sources.length } });
  }
  // Every source is counted before the first is copied, so the total never grows under a percent.
  await planCopies(context, copies);
  for (const copy of copies) {
    signal.throwIfAborted();
    if (writing && config.usb_uuid) await checkStillOnDrive(mount, config);
    await copySource(context, copy, totals);
  }
  return totals;
}

async function restore(context: RestoreContext<LocalConfig>): Promise<TransferTotals> {
  const mount = await checkMount(context.config);
  const root = await resolveInside(mount.path, context.config.backup_subdir, false);
  return restoreFromStore(context, localBackupReader(context.snapshot === undefined ? root.path : await snapshotPath(root.path, context.snapshot)));
}

/** The folder of the complete snapshot `id`, found in the listing (an id is never used as a path unchecked). */
async function snapshotPath(root: string, id: string): Promise<string> {
  const snapshot = (await listSnapshots(root)).find((info) => info.id === id);
  if (!snapshot) throw new CairnError('not_found', 'SNAPSHOT_NOT_FOUND', `There is no snapshot ${id} in ${root} (deleted or pruned since the restore was asked for?)`);
  return snapshot.path;
}

async function snapshotFolder(config: LocalConfig, create: boolean): Promise<string> {
  const mount = await checkMount(config);
  return (await resolveInside(mount.path, config.backup_subdir, create)).path;
}

async function test(config: LocalConfig): Promise<ConnectionTestResult> {
  const mount = await checkMount(config);
  const root = await resolveInside(mount.path, config.backup_subdir, false);
  const probeDir = root.deepestExisting;
  const probe = path.join(probeDir, `.cairn-write-test-${randomUUID()}`);
  try {
    await fs.writeFile(probe, 'cairn', { flag: 'wx' });
    await fs.rm(probe);
  } catch (error) {
    await fs.rm(probe, { force: true }).catch(() => undefined);
    throw new CairnError('unavailable', 'DESTINATION_NOT_WRITABLE', `Cannot write to ${probeDir}: ${describeErrno(error as NodeJS.ErrnoException)}`);
  }
  const space = await fs.statfs(probeDir);
  return { message: 'Destination is writable', details: { path: root.path, free_bytes: space.bavail * space.bsize } };
}

/**
 * statfs of the backup folder (or its deepest existing folder) as `df` shows it: only while the
 * drive is mounted or the folder exists now, else null. A drive that is not plugged in has no free
 * space to speak of, and the empty mount point on the root filesystem must not be taken for it.
 */
async function freeSpace(config: LocalConfig): Promise<DestinationSpace | null> {
  const mount = await checkMount(config).catch(() => null);
  if (!mount) return null;
  const root = await resolveInside(mount.path, config.backup_subdir, false);
  const space = await fs.statfs(root.deepestExisting);
  // Unmounted meanwhile (a plug-in session ends right after its run): that was the bare mount point.
  if ((await fs.stat(mount.path).catch(() => null))?.dev !== mount.device) return null;
  return { free_bytes: space.bavail * space.bsize, total_bytes: space.blocks * space.bsize };
}

export { copySource, type SourceCopy } from './copy-source.ts';
export { planCopies } from './copy-plan.ts';
export { SomeNames } from './rsync-errors.ts';
export type { ParsedItem } from './rsync-output.ts';
export { checkMount, resolveInside } from './destination-root.ts';

/** The local folder / USB drive destination, implemented on rsync. */
export const localDestination: Destination<LocalConfig> = {
  type: 'local',
  describe: () => ({ type: 'local', name: 'Local / USB', description: 'Rsync to local or mounted drives', requires_credentials: false }),
  capabilities: {
    supports_delete: true,
    // rsync's -z only helps across a network; a local copy gains nothing from it.
    supports_compression: false,
    supports_checksum: true,
    supports_bandwidth_limit: true,
    supports_exclude_patterns: true,
    supports_incremental: true,
    supports_dry_run: true,
    requires_credentials: false,
  },
  guarantees: {
    sees_same_size_edits: true,
    sees_same_second_edits: 'rsync compares size and modification time, so an edit of the same size within the same second as the last run looks unchanged',
    keeps_old_copy_when_source_changes: 'rsync copies the file as it reads it and keeps what it read; the next run sends it again',
    has_server: 'a folder on this machine has no server to lose',
  },
  unavailableReason: () => null,
  note: null,
  configSchema,
  credentialSchema: null,
  secretFields: [],
  address: {
    example: '/mnt/backup',
    scheme: null,
    path: 'mount_point',
    defaults: { backup_subdir: '', usb_uuid: null },
    beside: [
      { field: 'backup_subdir', label: 'in' },
      { field: 'usb_uuid', label: 'USB' },
    ],
  },
  removableDrive: (config) =>
    config.usb_uuid ? { uuid: config.usb_uuid, mount_point: config.mount_point, auto_mount: config.auto_mount, auto_unmount: config.auto_unmount } : null,
  localFolders: (config) => [config.mount_point, path.join(config.mount_point, config.backup_subdir)],
  identity: (config) => `local:${path.resolve(config.mount_point, config.backup_subdir)}`,
  snapshotFolder,
  freeSpace,
  test,
  sync,
  restore,
};
