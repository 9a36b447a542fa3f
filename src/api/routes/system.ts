/** /system: health, drives, mounts, mount, unmount, browse, mkdir, allowed paths (contract: System). */
import type { ServerRoute } from '@hapi/hapi';
import type { DashboardService } from '../../dashboard/index.ts';
import Joi from 'joi';
import { UUID_PATTERN, type DriveService } from '../../devices/index.ts';
import type { FolderService } from '../../files/folder-service.ts';
import { answers, driveSchema, folderListingSchema, healthSchema, listOf, mountSchema, record, systemInfoSchema } from '../openapi/index.ts';
import { queryOf } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

/** `GET /system/info`: what a client needs to know about the box it talks to. */
export interface SystemInfo {
  version: string;
  hostname: string;
  /** Whether the port serves HTTPS. */
  https: boolean;
  /** SHA-256 of the certificate (colon hex) that an app pins; null when HTTPS is off. */
  fingerprint_sha256: string | null;
  /** `self-signed` (made by Cairn) or `owner` (CAIRN_TLS_CERT); null when HTTPS is off. */
  certificate: 'self-signed' | 'owner' | null;
  /** ISO-8601 end of the certificate's validity; null when HTTPS is off. */
  certificate_valid_to: string | null;
  /** Where the API answers on the LAN. */
  urls: string[];
  /** Who is served plain HTTP: `loopback` or `any`. */
  plain_http: 'loopback' | 'any';
}

const uuid = Joi.string().pattern(UUID_PATTERN).messages({ 'string.pattern.base': '"uuid" must be a filesystem UUID such as 1234-ABCD' });
const clientPath = Joi.string().min(1).max(4096);

/** What mount and unmount answer: what happened, and where. */
const mountPointSchema = record({ message: Joi.string(), mount_point: Joi.string() }).label('DriveMountPoint');
const createdFolderSchema = record({ message: Joi.string(), path: Joi.string() }).label('CreatedFolder');

export function systemRoutes(version: string, info: () => SystemInfo, drives: DriveService, folders: FolderService, dashboard: DashboardService): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/system/health',
      // Anyone on the LAN may ask whether the box is well, but only a logged-in client learns why
      // not: the reasons name jobs and drives.
      options: { auth: { mode: 'try' }, ...answers(200, healthSchema) },
      async handler(request) {
        const health = await dashboard.health();
        if (!request.auth.isAuthenticated) return { status: health.status, version };
        return { status: health.status, version, reasons: health.reasons };
      },
    },
    // Behind auth: a fingerprint learnt from an unauthenticated answer over the same connection would prove nothing.
    { method: 'GET', path: '/system/info', options: answers(200, systemInfoSchema), handler: () => info() },
    { method: 'GET', path: '/system/drives', options: answers(200, listOf(driveSchema)), handler: () => drives.listDrives() },
    { method: 'GET', path: '/system/mounts', options: answers(200, listOf(mountSchema)), handler: () => drives.listMounts() },
    {
      method: 'POST',
      path: '/system/mount',
      // Mounting and safely removing a drive are day-to-day operation, as running a job is.
      options: { ...policy({ scope: 'operate', audit: 'drive.mount' }), ...answers(200, mountPointSchema, [404, 409]), validate: { payload: body(Joi.object({ uuid: uuid.required(), mount_point: clientPath.required() })) } },
      async handler(request) {
        const { uuid: id, mount_point } = request.payload as { uuid: string; mount_point: string };
        return { message: 'Drive mounted', mount_point: await drives.mount(id, mount_point) };
      },
    },
    {
      method: 'POST',
      path: '/system/unmount',
      options: { ...policy({ scope: 'operate', audit: 'drive.unmount' }), ...answers(200, mountPointSchema, [404, 409]), validate: { payload: body(Joi.object({ mount_point: clientPath.required() })) } },
      handler: async (request) => ({ message: 'Drive unmounted', mount_point: await drives.unmount((request.payload as { mount_point: string }).mount_point) }),
    },
    {
      method: 'GET',
      path: '/system/browse',
      options: { ...answers(200, folderListingSchema), validate: { query: Joi.object({ path: clientPath }) } },
      handler: (request) => folders.browse(queryOf<{ path?: string }>(request).path),
    },
    {
      method: 'POST',
      path: '/system/mkdir',
      options: { ...policy({ audit: 'folder.create' }), ...answers(201, createdFolderSchema, [409]), validate: { payload: body(Joi.object({ path: clientPath.required() })) } },
      handler: async (request, h) => h.response({ message: 'Directory created', path: await folders.makeDirectory((request.payload as { path: string }).path) }).code(201),
    },
    { method: 'GET', path: '/system/allowed-paths', options: answers(200, Joi.object({ paths: listOf(Joi.string()).required() })), handler: () => ({ paths: folders.roots() }) },
  ];
}
