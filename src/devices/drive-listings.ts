/**
 * Drives and mounts for showing (GET /system/drives, /system/mounts), shared between callers so a
 * burst of requests starts one `lsblk`, not one each. Decisions never use these listings: mounting,
 * unmounting, the plug-in policy and the UUID check before writing to a drive read fresh, since a
 * stale answer there could send a backup to the wrong drive.
 */
import { listDrives, listMounts, type Drive, type Mount } from './block-devices.ts';
import { lazyUnmount, mountDrive, unmountDrive } from './mounting.ts';
import type { DriveOperations } from './plug-in.ts';
import { SharedRead } from './shared-read.ts';

/** How long a listing is reused; a display a second or two old is fine, and a change Cairn sees clears it. */
export const LISTING_MAX_AGE_MS = 2000;

/** Shared, briefly cached drive and mount listings; `invalidate()` when drives or mounts change. */
export class DriveListings {
  private readonly drives: SharedRead<Drive[]>;
  private readonly mounts: SharedRead<Mount[]>;

  constructor(maxAgeMs = LISTING_MAX_AGE_MS) {
    this.drives = new SharedRead(listDrives, maxAgeMs);
    this.mounts = new SharedRead(listMounts, maxAgeMs);
  }

  /** Attached drives, at most `maxAgeMs` old and never older than the last `invalidate()`. */
  listDrives(): Promise<Drive[]> {
    return this.drives.get();
  }

  /** Mounted block-device filesystems, at most `maxAgeMs` old and never older than the last `invalidate()`. */
  listMounts(): Promise<Mount[]> {
    return this.mounts.get();
  }

  /** A drive or mount changed (a udev event, a mount or unmount): the next listing reads again. */
  invalidate(): void {
    this.drives.invalidate();
    this.mounts.invalidate();
  }
}

/**
 * The real drive operations for the API and the plug-in policy: `listDrives` reads fresh, and every
 * mount or unmount clears `listings` once it settles (failed ones too, as they may have half happened).
 */
export function driveOperations(listings: DriveListings): DriveOperations {
  const changing =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      operation(...args).finally(() => listings.invalidate());
  return { listDrives, mount: changing(mountDrive), unmount: changing(unmountDrive), lazyUnmount: changing(lazyUnmount) };
}
