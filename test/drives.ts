/**
 * Real drives for tests: filesystem images with chosen UUIDs attached to loop devices, seen by a
 * real systemd-udevd (started by scripts/udevd.sh when none runs, stopped by PID).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, tempDir } from './helpers.ts';

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export interface TestDrive {
  uuid: string;
  image: string;
  device: string;
  /** Detaches the loop device (after unmounting anything on it). */
  detach(): void;
  /** Pulls the drive out from under a mounted filesystem: the device loses its medium and every I/O fails. */
  yank(): void;
}

/** Starts udevd for this test file if none runs; returns the function that lets it go (the last user stops it). */
export function startUdev(): () => void {
  const pidFile = path.join(tempDir(), 'udevd.pid');
  run(path.join(REPO_ROOT, 'scripts/udevd.sh'), ['start', pidFile]);
  return () => run(path.join(REPO_ROOT, 'scripts/udevd.sh'), ['stop', pidFile]);
}

/** Makes a filesystem image and attaches it to a loop device, as if a drive was plugged in. */
export function plugInDrive(options: { uuid: string; fstype?: 'ext4' | 'vfat'; label?: string; sizeMb?: number }): TestDrive {
  const image = path.join(tempDir('cairn-drive-'), 'disk.img');
  run('truncate', ['-s', `${options.sizeMb ?? 64}M`, image]);
  if ((options.fstype ?? 'ext4') === 'ext4') {
    run('mkfs.ext4', ['-q', '-F', '-U', options.uuid, '-L', options.label ?? 'CAIRNTEST', image]);
  } else {
    run('mkfs.vfat', ['-i', options.uuid.replace('-', ''), '-n', options.label ?? 'CAIRNTEST', image]);
  }
  const device = run('losetup', ['-f', '--show', image]);
  return {
    uuid: options.uuid,
    image,
    device,
    detach() {
      for (const target of mountTargetsOf(device)) execFileSync('umount', ['-l', target]);
      execFileSync('losetup', ['-d', device]);
      rmSync(path.dirname(image), { recursive: true, force: true });
    },
    yank() {
      truncateSync(image, 0);
      execFileSync('losetup', ['--set-capacity', device]);
    },
  };
}

/** Mounts a test drive's image read-only somewhere new, to look at what the backup wrote. */
export function mountImageReadOnly(image: string): { dir: string; unmount(): void } {
  const dir = tempDir('cairn-inspect-');
  run('mount', ['-o', 'loop,ro', image, dir]);
  return { dir, unmount: () => run('umount', [dir]) };
}

/** Where a device is mounted (none: an empty list). */
export function mountTargetsOf(device: string): string[] {
  try {
    return run('findmnt', ['-n', '-r', '-o', 'TARGET', '--source', device]).split('\n').filter(Boolean);
  } catch {
    return []; // findmnt exits 1 when it finds nothing
  }
}

/** True when something is mounted exactly at `dir`. */
export function isMountPoint(dir: string): boolean {
  try {
    run('findmnt', ['-M', dir]);
    return true;
  } catch {
    return false;
  }
}
