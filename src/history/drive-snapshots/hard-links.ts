/**
 * Whether a folder can hold snapshots: they are hard links into each other, which FAT, exFAT and
 * the kernel's NTFS drivers cannot make. Answered from the filesystem's statfs magic number when it
 * is one of those, and otherwise by making a link in a temporary name (a FUSE mount says only "fuse").
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CairnError } from '../../domain/errors.ts';

/** statfs `f_type` magic numbers (linux/magic.h) of filesystems a drive may carry; name and whether it links. */
const FILESYSTEMS: ReadonlyMap<number, { name: string; hardLinks: boolean }> = new Map([
  [0xef53, { name: 'ext2/ext3/ext4', hardLinks: true }],
  [0x9123683e, { name: 'btrfs', hardLinks: true }],
  [0x58465342, { name: 'xfs', hardLinks: true }],
  [0xf2f52010, { name: 'f2fs', hardLinks: true }],
  [0x01021994, { name: 'tmpfs', hardLinks: true }],
  [0x2fc12fc1, { name: 'zfs', hardLinks: true }],
  [0x4d44, { name: 'vfat (FAT)', hardLinks: false }],
  [0x2011bab0, { name: 'exfat', hardLinks: false }],
  [0x5346544e, { name: 'ntfs', hardLinks: false }],
  [0x7366746e, { name: 'ntfs3', hardLinks: false }],
  [0x65735546, { name: 'fuse', hardLinks: true }],
]);

/** What a statfs magic number says: the filesystem's name and whether it can make hard links (null: ask it). */
export function filesystemOfMagic(type: number): { name: string; hardLinks: boolean | null } {
  const known = FILESYSTEMS.get(type >>> 0);
  if (!known) return { name: `filesystem type 0x${(type >>> 0).toString(16)}`, hardLinks: null };
  // A FUSE filesystem may be ntfs-3g (links) or exfat-fuse (none): only trying tells.
  return { name: known.name, hardLinks: known.name === 'fuse' ? null : known.hardLinks };
}

/** The answer for one folder. */
export interface HardLinkSupport {
  supported: boolean;
  /** The filesystem's name as statfs tells it, e.g. `ext2/ext3/ext4`, `vfat (FAT)`, `exfat`. */
  filesystem: string;
}

/**
 * Whether `folder` (an existing, writable folder) is on a filesystem that makes hard links. A
 * known linkless type answers without writing; otherwise a file is made and linked under hidden
 * temporary names, both removed before returning.
 */
export async function hardLinkSupport(folder: string): Promise<HardLinkSupport> {
  const { name, hardLinks } = filesystemOfMagic((await fs.statfs(folder)).type);
  if (hardLinks === false) return { supported: false, filesystem: name };
  const probe = path.join(folder, `.cairn-link-test-${randomUUID()}`);
  try {
    await fs.writeFile(probe, 'cairn', { flag: 'wx' });
    await fs.link(probe, `${probe}.link`);
    const { nlink } = await fs.stat(probe);
    return { supported: nlink === 2, filesystem: name };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      return { supported: false, filesystem: name === 'fuse' ? await fuseFilesystemName(folder) : name };
    }
    throw error;
  } finally {
    await Promise.all([fs.rm(probe, { force: true }), fs.rm(`${probe}.link`, { force: true })]).catch(() => undefined);
  }
}

/**
 * Refuses a folder whose filesystem cannot hold snapshots, naming it; for saving a job in
 * `snapshots` mode and for the first sight of its drive.
 * @throws CairnError `FILESYSTEM_NO_HARD_LINKS` (invalid).
 */
export async function requireHardLinks(folder: string): Promise<void> {
  const { supported, filesystem } = await hardLinkSupport(folder);
  if (supported) return;
  throw new CairnError(
    'invalid',
    'FILESYSTEM_NO_HARD_LINKS',
    `${folder} is on ${filesystem}, a filesystem that cannot make hard links; snapshots need a Linux filesystem such as ext4, btrfs or xfs (or use backup mode "mirror")`,
    { details: { filesystem } },
  );
}

const run = promisify(execFile);

/**
 * What a FUSE mount really is, for the owner to recognise: statfs says only "fuse", so the device
 * under it is probed (`exfat (FUSE)` for exfat-fuse on a USB stick); `fuse` when it cannot tell.
 */
async function fuseFilesystemName(folder: string): Promise<string> {
  try {
    const { stdout: source } = await run('findmnt', ['-n', '-r', '-o', 'SOURCE', '--target', folder]);
    const device = source.trim().split('\n').at(-1) ?? '';
    if (!device.startsWith('/dev/')) return 'fuse';
    const { stdout: type } = await run('blkid', ['-p', '-s', 'TYPE', '-o', 'value', '--', device]);
    return type.trim() ? `${type.trim()} (FUSE)` : 'fuse';
  } catch {
    return 'fuse';
  }
}
