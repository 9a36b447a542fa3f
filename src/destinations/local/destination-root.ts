/**
 * Where a local backup may write: the mount point checked (the right drive, an existing folder) and
 * every folder below it resolved so that, symlinks followed, it stays inside the mount point.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CairnError } from '../../domain/errors.ts';
import { describeErrno } from '../../files/fs-errors.ts';
import { filesystemMountedAt } from './mounts.ts';

/** The part of `LocalConfig` that says which drive or folder must be there. */
export interface MountRequirement {
  mount_point: string;
  usb_uuid?: string | null;
}

/** A checked mount point: its real path and the device number of the filesystem it is on. */
export interface CheckedMount {
  path: string;
  device: number;
}

/**
 * Checks that the backup may write below `mount_point` and returns its real path. With `usb_uuid`,
 * a filesystem with that UUID must be mounted exactly there; without it, the folder must exist.
 * Creates nothing. Throws CairnError `DRIVE_NOT_MOUNTED`, `DESTINATION_MISSING` or `DESTINATION_NOT_FOLDER`.
 */
export async function checkMount(config: MountRequirement): Promise<CheckedMount> {
  const real = await fs.realpath(config.mount_point).catch(() => null);
  if (config.usb_uuid) await checkDriveAt(real, config.mount_point, config.usb_uuid);
  if (real === null) {
    throw new CairnError('unavailable', 'DESTINATION_MISSING', `The destination folder ${config.mount_point} does not exist`);
  }
  const stat = await fs.stat(real);
  if (!stat.isDirectory()) {
    throw new CairnError('invalid', 'DESTINATION_NOT_FOLDER', `The destination ${config.mount_point} is not a folder`);
  }
  return { path: real, device: stat.dev };
}

async function checkDriveAt(real: string | null, mountPoint: string, uuid: string): Promise<void> {
  const mounted = real === null ? null : await filesystemMountedAt(real);
  if (mounted && mounted.uuid.toLowerCase() === uuid.toLowerCase()) return;
  const found =
    mounted === null
      ? real === null
        ? `${mountPoint} does not exist`
        : `nothing is mounted at ${mountPoint}`
      : `${mountPoint} holds another filesystem (${mounted.source}, UUID ${mounted.uuid || 'unknown'})`;
  // Not retryable: a drive left in a drawer would keep the run (and its job) busy through every
  // pause for nothing, and plugging the drive in starts a run of its own.
  throw new CairnError('unavailable', 'DRIVE_NOT_MOUNTED', `The drive ${uuid} is not mounted at ${mountPoint} (${found}); nothing was written`);
}

/** A folder below the mount point: its path (real as far as it exists) and its deepest existing folder. */
export interface ResolvedFolder {
  path: string;
  exists: boolean;
  /** The deepest folder of `path` that exists (the mount point at least). */
  deepestExisting: string;
}

/**
 * Resolves `relative` (no `..`) below the checked mount point one component at a time, following
 * symlinks, and refuses (`DESTINATION_ESCAPES`) as soon as one leads outside it. With `create`,
 * missing folders are made inside the already-resolved parent, so nothing is ever created outside.
 */
export async function resolveInside(mount: string, relative: string, create: boolean): Promise<ResolvedFolder> {
  let current = mount;
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  for (const [index, part] of parts.entries()) {
    const next = path.join(current, part);
    const missing = (await fs.lstat(next).catch(() => null)) === null;
    if (missing && !create) {
      return { path: path.join(next, ...parts.slice(index + 1)), exists: false, deepestExisting: current };
    }
    if (missing) {
      await fs.mkdir(next).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw cannotCreate(next, error);
      });
    }
    current = await realInside(mount, next);
  }
  return { path: current, exists: true, deepestExisting: current };
}

async function realInside(mount: string, folder: string): Promise<string> {
  const real = await fs.realpath(folder).catch((error: NodeJS.ErrnoException) => {
    const reason = error.code === 'ENOENT' ? 'it is a broken symbolic link' : describeErrno(error);
    throw new CairnError('invalid', 'DESTINATION_NOT_FOLDER', `Cannot use ${folder}: ${reason}`, { cause: error });
  });
  const relative = path.relative(mount, real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new CairnError('invalid', 'DESTINATION_ESCAPES', `${folder} leads outside ${mount} (through a symbolic link); refusing to write there`);
  }
  if (!(await fs.stat(real)).isDirectory()) {
    throw new CairnError('invalid', 'DESTINATION_NOT_FOLDER', `${folder} exists and is not a folder`);
  }
  return real;
}

function cannotCreate(folder: string, error: NodeJS.ErrnoException): CairnError {
  return new CairnError('unavailable', 'DESTINATION_NOT_WRITABLE', `Cannot create ${folder}: ${describeErrno(error)}`, { cause: error });
}

/**
 * A drive unmounted between the check and the copy leaves its empty mount point on the root
 * filesystem: catch that before each write.
 */
export async function checkStillOnDrive(mount: CheckedMount, config: MountRequirement): Promise<void> {
  const stat = await fs.stat(mount.path).catch(() => null);
  if (stat?.dev === mount.device) return;
  // Not retryable: a drive does not come back by itself within minutes, and plugging it in starts a run.
  throw new CairnError('unavailable', 'DRIVE_NOT_MOUNTED', `The drive ${config.usb_uuid} is no longer mounted at ${config.mount_point}; stopped before copying`);
}
