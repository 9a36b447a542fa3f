/** Drives with their free space: the shared drive listing (no lsblk per request) and a statfs per mounted drive. */
import { promises as fs } from 'node:fs';
import type { Drive } from '../devices/index.ts';

/** A drive as the dashboard shows it; free space only while it is mounted. */
export interface DriveSpace {
  uuid: string;
  label: string | null;
  name: string;
  device: string;
  fstype: string;
  size_bytes: number;
  mountpoint: string | null;
  /** Bytes a backup can still write (statfs' available blocks); null while not mounted. */
  free_bytes: number | null;
  /** The mounted filesystem's own size (a little under `size_bytes`); null while not mounted. */
  filesystem_bytes: number | null;
}

/** Each listed drive with the free bytes of its mounted filesystem (null when not mounted or unreadable). */
export async function drivesWithSpace(drives: readonly Drive[]): Promise<DriveSpace[]> {
  return Promise.all(
    drives.map(async (drive) => {
      const space = drive.mountpoint ? await fs.statfs(drive.mountpoint).catch(() => null) : null;
      return {
        uuid: drive.uuid,
        label: drive.label,
        name: drive.name,
        device: drive.device,
        fstype: drive.fstype,
        size_bytes: drive.size_bytes,
        mountpoint: drive.mountpoint,
        free_bytes: space ? space.bavail * space.bsize : null,
        filesystem_bytes: space ? space.blocks * space.bsize : null,
      };
    }),
  );
}

/** The share of a filesystem in use (0–1) from its free and total bytes; null when either is unknown. */
export function fullness(free: number | null, total: number | null): number | null {
  if (free === null || total === null || total <= 0) return null;
  return Math.min(1, Math.max(0, 1 - free / total));
}
