/**
 * Drives as the API offers them (contract: System → Drives, Mounts, Mount, Unmount): listings to
 * show, and mounting and unmounting with the rules that keep a client from hurting the box — a mount
 * point only inside the allowed paths and never over files it would hide, and only drives ever
 * unmounted, never the system's own filesystems.
 */
import { promises as fs } from 'node:fs';
import { conflict, notFound } from '../domain/errors.ts';
import type { AllowedPaths } from '../files/allowed-paths.ts';
import type { Drive, Mount } from './block-devices.ts';
import type { DriveListings } from './drive-listings.ts';
import type { DriveOperations } from './plug-in.ts';

/** A drive as the API shows it: the contract's fields and the size in bytes. */
export type DriveView = Pick<Drive, 'name' | 'label' | 'uuid' | 'fstype' | 'size' | 'size_bytes' | 'mountpoint' | 'device'>;

export interface DriveServiceDependencies {
  /** The allowed-paths rule every mount point must pass. */
  allowed: Pick<AllowedPaths, 'creatable' | 'existing'>;
  /** Mount, unmount and fresh drive reads, for what the service decides. */
  drives: DriveOperations;
  /** Shared drive and mount listings, for what the service only shows. */
  listings: Pick<DriveListings, 'listDrives' | 'listMounts'>;
}

export class DriveService {
  constructor(private readonly deps: DriveServiceDependencies) {}

  /** Attached drives with a writable filesystem (a shared listing, at most a moment old). */
  async listDrives(): Promise<DriveView[]> {
    return (await this.deps.listings.listDrives()).map(({ name, label, uuid, fstype, size, size_bytes, mountpoint, device }) => ({
      name,
      label,
      uuid,
      fstype,
      size,
      size_bytes,
      mountpoint,
      device,
    }));
  }

  /** Mounted block-device filesystems (a shared listing). */
  listMounts(): Promise<Mount[]> {
    return this.deps.listings.listMounts();
  }

  /**
   * Mounts the drive with this filesystem UUID at a folder inside the allowed paths (created when
   * missing); the real path it mounted at. 409 MOUNT_POINT_NOT_EMPTY when the folder holds files
   * the mount would hide, unless that drive is already mounted there.
   */
  async mount(uuid: string, mountPoint: string): Promise<string> {
    const target = await this.deps.allowed.creatable(mountPoint, 'mount_point');
    const entries = await fs.readdir(target).catch(() => [] as string[]);
    const drive = (await this.deps.drives.listDrives()).find((candidate) => candidate.uuid.toLowerCase() === uuid.toLowerCase());
    if (entries.length > 0 && drive?.mountpoint !== target) {
      throw conflict('MOUNT_POINT_NOT_EMPTY', `${target} is not empty; mounting over it would hide its files`);
    }
    await this.deps.drives.mount(uuid, target);
    return target;
  }

  /**
   * Unmounts the drive mounted at this folder inside the allowed paths; the real path. 404
   * NOT_MOUNTED when no drive is mounted there: the API must never unmount the system's own
   * filesystems.
   */
  async unmount(mountPoint: string): Promise<string> {
    const { real } = await this.deps.allowed.existing(mountPoint, 'mount_point');
    if (!(await this.deps.drives.listDrives()).some((drive) => drive.mountpoint === real)) {
      throw notFound('NOT_MOUNTED', `No drive is mounted at ${real}`);
    }
    await this.deps.drives.unmount(real);
    return real;
  }
}
