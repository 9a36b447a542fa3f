/** /system: health, drives, mounts, mount, unmount, browse, mkdir, allowed paths (contract: System). */
import { promises as fs } from 'node:fs';
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { UUID_PATTERN, type DriveListings, type DriveOperations } from '../../devices/index.ts';
import { conflict, notFound } from '../../domain/errors.ts';
import { checkClientPath, type AllowedPaths } from '../../files/allowed-paths.ts';
import { browse, makeDirectory } from '../../files/browse.ts';
import { queryOf } from '../params.ts';
import { body } from '../validation.ts';

const uuid = Joi.string().pattern(UUID_PATTERN).messages({ 'string.pattern.base': '"uuid" must be a filesystem UUID such as 1234-ABCD' });
const clientPath = Joi.string().min(1).max(4096);

/**
 * The routes. Listings come from `listings` (shared, briefly cached); what mount and unmount decide
 * is read fresh through `drives`, whose changes clear the listings.
 */
export function systemRoutes(version: string, allowed: AllowedPaths, drives: DriveOperations, listings: DriveListings): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/system/health',
      options: { auth: false },
      handler: () => ({ status: 'ok', version }),
    },
    {
      method: 'GET',
      path: '/system/drives',
      handler: async () => (await listings.listDrives()).map(({ name, label, uuid, fstype, size, size_bytes, mountpoint, device }) => ({ name, label, uuid, fstype, size, size_bytes, mountpoint, device })),
    },
    { method: 'GET', path: '/system/mounts', handler: () => listings.listMounts() },
    {
      method: 'POST',
      path: '/system/mount',
      options: { validate: { payload: body(Joi.object({ uuid: uuid.required(), mount_point: clientPath.required() })) } },
      async handler(request) {
        const { uuid: id, mount_point } = request.payload as { uuid: string; mount_point: string };
        const target = await allowed.creatable(mount_point, 'mount_point');
        const entries = await fs.readdir(target).catch(() => [] as string[]);
        const drive = (await drives.listDrives()).find((candidate) => candidate.uuid.toLowerCase() === id.toLowerCase());
        if (entries.length > 0 && drive?.mountpoint !== target) {
          throw conflict('MOUNT_POINT_NOT_EMPTY', `${target} is not empty; mounting over it would hide its files`);
        }
        await drives.mount(id, target);
        return { message: 'Drive mounted', mount_point: target };
      },
    },
    {
      method: 'POST',
      path: '/system/unmount',
      options: { validate: { payload: body(Joi.object({ mount_point: clientPath.required() })) } },
      async handler(request) {
        const requested = checkClientPath((request.payload as { mount_point: string }).mount_point, 'mount_point');
        const { real } = await allowed.existing(requested, 'mount_point');
        // Only drives: the API must never unmount the system's own filesystems.
        if (!(await drives.listDrives()).some((drive) => drive.mountpoint === real)) {
          throw notFound('NOT_MOUNTED', `No drive is mounted at ${real}`);
        }
        await drives.unmount(real);
        return { message: 'Drive unmounted', mount_point: real };
      },
    },
    {
      method: 'GET',
      path: '/system/browse',
      options: { validate: { query: Joi.object({ path: clientPath }) } },
      handler: (request) => browse(allowed, queryOf<{ path?: string }>(request).path),
    },
    {
      method: 'POST',
      path: '/system/mkdir',
      options: { validate: { payload: body(Joi.object({ path: clientPath.required() })) } },
      handler: async (request, h) => {
        const created = await makeDirectory(allowed, (request.payload as { path: string }).path);
        return h.response({ message: 'Directory created', path: created }).code(201);
      },
    },
    { method: 'GET', path: '/system/allowed-paths', handler: () => ({ paths: allowed.list() }) },
  ];
}
