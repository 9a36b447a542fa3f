/**
 * Block devices and mounts as the system reports them: `lsblk` for drives (with filesystem UUIDs,
 * which udev also carries), /proc/self/mountinfo for what is mounted where.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { CairnError } from '../domain/errors.ts';

const run = promisify(execFile);

export interface Drive {
  /** Kernel name, e.g. sdb1. */
  name: string;
  /** Device node, e.g. /dev/sdb1. */
  device: string;
  label: string | null;
  uuid: string;
  fstype: string;
  /** Human size as the contract shows it, e.g. "500G". */
  size: string;
  size_bytes: number;
  mountpoint: string | null;
}

export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
  options: string;
}

interface LsblkDevice {
  name: string;
  path: string;
  label: string | null;
  uuid: string | null;
  fstype: string | null;
  size: number | string | null;
  mountpoint: string | null;
  rm: boolean | string;
  hotplug: boolean | string;
  tran: string | null;
  type: string;
  children?: LsblkDevice[];
}

/** Filesystems a backup can be written to; swap, RAID members and encrypted containers are not. */
const WRITABLE_FILESYSTEMS = new Set(['ext2', 'ext3', 'ext4', 'btrfs', 'xfs', 'f2fs', 'vfat', 'exfat', 'ntfs', 'ntfs3']);

const truthy = (value: boolean | string) => value === true || value === '1';

/** "500G"-style size, in powers of 1024 like lsblk. */
export function humanSize(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

/** How long one lsblk may take before the listing fails. */
const LSBLK_TIMEOUT_MS = 15_000;

/**
 * Drives a backup can go to: filesystems on removable, hot-plugged or USB devices, and on loop
 * devices (a disk image attached with losetup behaves like a plugged-in drive).
 */
export async function listDrives(): Promise<Drive[]> {
  // A dying disk can hang lsblk, and every caller sharing the listing would wait on it: give up instead.
  const { stdout } = await run('lsblk', ['-J', '-b', '-o', 'NAME,PATH,LABEL,UUID,FSTYPE,SIZE,MOUNTPOINT,RM,HOTPLUG,TRAN,TYPE'], { timeout: LSBLK_TIMEOUT_MS }).catch((error: Error) => {
    throw new CairnError('unavailable', 'DRIVES_UNAVAILABLE', `The drive list cannot be read now (lsblk: ${error.message.split('\n')[0]})`, { retryable: true, cause: error });
  });
  const drives: Drive[] = [];
  const visit = (device: LsblkDevice, parentIsRemovable: boolean) => {
    const removable = parentIsRemovable || truthy(device.rm) || truthy(device.hotplug) || device.tran === 'usb' || device.type === 'loop';
    if (removable && device.uuid && device.fstype && WRITABLE_FILESYSTEMS.has(device.fstype)) {
      const bytes = Number(device.size ?? 0);
      drives.push({
        name: device.name,
        device: device.path,
        label: device.label,
        uuid: device.uuid,
        fstype: device.fstype,
        size: humanSize(bytes),
        size_bytes: bytes,
        mountpoint: device.mountpoint,
      });
    }
    for (const child of device.children ?? []) visit(child, removable);
  };
  for (const device of (JSON.parse(stdout) as { blockdevices: LsblkDevice[] }).blockdevices) visit(device, false);
  return drives;
}

/** The drive with this filesystem UUID (compared case-insensitively), if attached. */
export async function driveByUuid(uuid: string): Promise<Drive | undefined> {
  return (await listDrives()).find((drive) => drive.uuid.toLowerCase() === uuid.toLowerCase());
}

/** Mountinfo escapes spaces and the like as \\040 octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Filesystems mounted from block devices (virtual filesystems like proc and tmpfs left out). */
export async function listMounts(): Promise<Mount[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const [fstype, source, superOptions] = right.split(' ');
    if (!source?.startsWith('/dev/')) continue;
    mounts.push({ device: unescapeMountField(source), mountpoint: unescapeMountField(fields[4]), fstype, options: `${fields[5]},${superOptions}` });
  }
  return mounts;
}

/** What is mounted exactly at `mountpoint`, if anything. */
export async function mountAt(mountpoint: string): Promise<Mount | undefined> {
  return (await listMounts()).find((mount) => mount.mountpoint === mountpoint);
}
