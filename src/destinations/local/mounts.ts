/** What is mounted where: the checks that keep a USB backup from landing on the root filesystem. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The UUID of the filesystem mounted exactly at `mountPoint`, '' when it has none, null when nothing is mounted there. */
export async function uuidMountedAt(mountPoint: string): Promise<string | null> {
  try {
    const { stdout } = await run('findmnt', ['-n', '-r', '-o', 'UUID', '--mountpoint', mountPoint]);
    return stdout.trim().split('\n')[0] ?? '';
  } catch {
    return null;
  }
}

/** The type of the filesystem holding `target` (e.g. ext4, vfat, exfat), or '' when unknown. */
export async function filesystemTypeOf(target: string): Promise<string> {
  try {
    const { stdout } = await run('findmnt', ['-n', '-o', 'FSTYPE', '--target', target]);
    return stdout.trim();
  } catch {
    return '';
  }
}

/** Filesystems without owners and permissions, with 2-second timestamps: rsync needs gentler flags there. */
export function isFatLike(fstype: string): boolean {
  return ['vfat', 'msdos', 'exfat', 'ntfs', 'ntfs3', 'fuseblk'].includes(fstype);
}

/**
 * Whether the drive is still there after a failure: its filesystem is still listed with that UUID
 * and the mount point still answers. A pulled drive fails one or the other within a moment.
 */
export async function driveStillThere(uuid: string, mountPoint: string, settleMs = 1500): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const mounted = await uuidMountedAt(mountPoint);
  if (mounted?.toLowerCase() !== uuid.toLowerCase()) return false;
  const listed = await run('lsblk', ['-n', '-r', '-o', 'UUID']).then(
    ({ stdout }) => stdout.split('\n').some((line) => line.trim().toLowerCase() === uuid.toLowerCase()),
    () => true,
  );
  if (!listed) return false;
  return fs.readdir(mountPoint).then(
    () => true,
    () => false,
  );
}
