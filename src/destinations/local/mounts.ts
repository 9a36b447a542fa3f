/** What is mounted where: the checks that keep a USB backup from landing on the root filesystem. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Filesystems without owners and permissions, with 2-second timestamps: rsync needs gentler flags there. */
const FAT_LIKE = new Set(['vfat', 'msdos', 'exfat', 'ntfs', 'ntfs3', 'fuseblk']);

/** The filesystem mounted exactly at a folder, as findmnt reports it. */
export interface MountedFilesystem {
  /** Filesystem UUID, '' when it has none (or none can be read). */
  uuid: string;
  /** The device, e.g. /dev/sdb1. */
  source: string;
  fstype: string;
}

/**
 * The filesystem mounted exactly at `mountPoint` (an already resolved path), or null when nothing is
 * mounted there. When several are stacked on it, the last one mounted is the one rsync would see.
 */
export async function filesystemMountedAt(mountPoint: string): Promise<MountedFilesystem | null> {
  let stdout: string;
  try {
    ({ stdout } = await run('findmnt', ['-n', '-r', '-o', 'UUID,SOURCE,FSTYPE', '--mountpoint', mountPoint]));
  } catch {
    return null; // findmnt exits 1 when nothing is mounted there
  }
  const line = stdout.split('\n').filter((entry) => entry.trim() !== '').at(-1);
  if (line === undefined) return null;
  // Raw output: one space between columns, an empty column stays empty, spaces inside values are \x20.
  const [listed = '', source = '', fstype = ''] = line.split(' ');
  const uuid = (await probeUuid(source)) || listed || (await udevUuid(source));
  return { uuid, source, fstype };
}

/**
 * The UUID read from the device's own superblock. findmnt and lsblk answer from udev's database,
 * which goes stale when udevd misses an event (a reused loop device kept its old drive's UUID
 * here): trusting it could send a backup to the wrong drive. Needs read access to the device
 * (root); '' when the probe cannot tell.
 */
async function probeUuid(device: string): Promise<string> {
  if (!device.startsWith('/dev/')) return '';
  return run('blkid', ['-p', '-s', 'UUID', '-o', 'value', '--', device]).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
}

/** What udev knows about the device's UUID, for when the device cannot be probed directly (not root). */
async function udevUuid(device: string): Promise<string> {
  if (!device.startsWith('/dev/')) return '';
  return run('lsblk', ['-n', '-d', '-r', '-o', 'UUID', '--', device]).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
}

/** The UUID of the filesystem mounted exactly at `mountPoint`, '' when it has none, null when nothing is mounted there. */
export async function uuidMountedAt(mountPoint: string): Promise<string | null> {
  return (await filesystemMountedAt(mountPoint))?.uuid ?? null;
}

/** The type of the filesystem holding `existingPath` (e.g. ext4, vfat, exfat), or '' when unknown. */
export async function filesystemTypeOf(existingPath: string): Promise<string> {
  try {
    const { stdout } = await run('findmnt', ['-n', '-o', 'FSTYPE', '--target', existingPath]);
    return stdout.trim();
  } catch {
    return '';
  }
}

/** Whether a filesystem type lacks owners and permissions and keeps times to 2 s (FAT, exFAT, NTFS). */
export function isFatLike(fstype: string): boolean {
  return FAT_LIKE.has(fstype);
}

/**
 * Whether the drive is still there after a failure: its filesystem is still mounted with that UUID,
 * still listed by lsblk (when lsblk knows UUIDs at all, i.e. udev runs), and the mount point still
 * answers. A pulled drive fails one or the other within a moment.
 */
export async function driveStillThere(uuid: string, mountPoint: string, settleMs = 1500): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const wanted = uuid.toLowerCase();
  const mounted = await uuidMountedAt(mountPoint);
  if (mounted?.toLowerCase() !== wanted) return false;
  const known = await run('lsblk', ['-n', '-r', '-o', 'UUID']).then(
    ({ stdout }) => new Set(stdout.split('\n').map((line) => line.trim().toLowerCase()).filter(Boolean)),
    () => new Set<string>(),
  );
  if (known.size > 0 && !known.has(wanted)) return false;
  return fs.readdir(mountPoint).then(
    () => true,
    () => false,
  );
}
