/** Mounting and unmounting drives by filesystem UUID; every program gets an argv array, never a shell. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { CairnError, conflict, notFound } from '../domain/errors.ts';
import { driveByUuid, mountAt } from './block-devices.ts';

const run = promisify(execFile);

/** A filesystem UUID as blkid prints them: ext4's 36-character form or FAT's XXXX-XXXX. */
export const UUID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{3,63}$/;

/** Options per filesystem: nothing on a backup drive may run or act as a device; FAT-likes get an owner. */
export function mountOptionsFor(fstype: string, uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0): string {
  const safe = 'nosuid,nodev,noexec';
  switch (fstype) {
    case 'vfat':
      return `${safe},uid=${uid},gid=${gid},umask=077,utf8,flush`;
    case 'exfat':
      return `${safe},uid=${uid},gid=${gid},umask=077`;
    case 'ntfs':
    case 'ntfs3':
      return `${safe},uid=${uid},gid=${gid}`;
    default:
      return safe;
  }
}

/** Mounts the filesystem with `uuid` at `mountPoint` (already checked against the allowed roots). */
export async function mountDrive(uuid: string, mountPoint: string): Promise<{ device: string; fstype: string; alreadyMounted: boolean }> {
  const drive = await driveByUuid(uuid);
  if (!drive) throw notFound('DRIVE_NOT_FOUND', `No attached drive has the filesystem UUID ${uuid}`);
  // lsblk answers from udev's database, which can be stale after a device is reused: ask the device itself.
  const probed = await run('blkid', ['-p', '-s', 'UUID', '-o', 'value', '--', drive.device]).then(
    ({ stdout }) => stdout.trim(),
    () => null,
  );
  if (probed !== null && probed.toLowerCase() !== uuid.toLowerCase()) {
    throw notFound('DRIVE_NOT_FOUND', `No attached drive has the filesystem UUID ${uuid} (${drive.device} now holds ${probed || 'no filesystem'})`);
  }
  if (drive.mountpoint === mountPoint) return { device: drive.device, fstype: drive.fstype, alreadyMounted: true };
  if (drive.mountpoint) throw conflict('DRIVE_ALREADY_MOUNTED', `Drive ${uuid} is already mounted at ${drive.mountpoint}`);
  const occupant = await mountAt(mountPoint);
  if (occupant) throw conflict('MOUNT_POINT_BUSY', `${occupant.device} is already mounted at ${mountPoint}`);
  await fs.mkdir(mountPoint, { recursive: true, mode: 0o755 });
  try {
    await run('mount', ['-t', drive.fstype === 'ntfs' ? 'ntfs3' : drive.fstype, '-o', mountOptionsFor(drive.fstype), drive.device, mountPoint]);
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new CairnError('unavailable', 'MOUNT_FAILED', `Could not mount drive ${uuid} at ${mountPoint}: ${detail}`);
  }
  return { device: drive.device, fstype: drive.fstype, alreadyMounted: false };
}

/** The processes holding files open under a mount point, as "name (pid)". */
async function holdersOf(mountPoint: string): Promise<string[]> {
  // fuser exits 1 when nothing holds the mount; the pids come on stdout either way.
  const { stdout } = await run('fuser', ['-m', mountPoint]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const holders: string[] = [];
  for (const pid of stdout.trim().split(/\s+/).map((token) => token.replace(/\D/g, '')).filter(Boolean)) {
    const name = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
    holders.push(`${name} (${pid})`);
  }
  return holders;
}

/** Flushes and unmounts; a 409 naming the processes that keep the drive busy. */
export async function unmountDrive(mountPoint: string): Promise<void> {
  const mount = await mountAt(mountPoint);
  if (!mount) throw notFound('NOT_MOUNTED', `Nothing is mounted at ${mountPoint}`);
  await run('sync', ['-f', mountPoint]).catch(() => run('sync', []));
  try {
    await run('umount', [mountPoint]);
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? '');
    if (/busy/i.test(detail)) {
      const holders = await holdersOf(mountPoint);
      throw conflict('DRIVE_BUSY', `${mountPoint} is in use${holders.length > 0 ? ` by ${holders.join(', ')}` : ''}; close what uses it and try again`, { details: { holders } });
    }
    throw new CairnError('unavailable', 'UNMOUNT_FAILED', `Could not unmount ${mountPoint}: ${detail.trim()}`);
  }
}

/** Detaches a mount whose drive is gone, so the mount point stops pointing at a dead filesystem. */
export async function lazyUnmount(mountPoint: string): Promise<void> {
  if (await mountAt(mountPoint)) await run('umount', ['-l', mountPoint]).catch(() => undefined);
}
