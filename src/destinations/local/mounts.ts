/** What is mounted where: the checks that keep a USB backup from landing on the root filesystem. */
import { execFile } from 'node:child_process';
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
