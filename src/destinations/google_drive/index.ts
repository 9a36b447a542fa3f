/**
 * `google_drive`: a folder in Google Drive (or a shared drive), run by rclone's `drive` backend.
 * The credential is the token `rclone authorize "drive"` prints; rclone refreshes it while it runs.
 */
import Joi from 'joi';
import { checkOauthSecret, oauthCredentialSchema, tokenJsonOf, UNTESTED_NOTE } from '../rclone/oauth-token.ts';
import { rcloneDestination } from '../rclone/rclone-destination.ts';

export interface GoogleDriveConfig {
  /** The folder's id (the last part of its web address); '' for My Drive's root. */
  folder_id: string;
  /** The shared drive's id, or null for My Drive. */
  shared_drive_id: string | null;
  /** A folder below it that holds the backup ('' for the folder itself). */
  path: string;
}

const driveId = Joi.string().pattern(/^[A-Za-z0-9_-]{1,200}$/).messages({ 'string.pattern.base': '{{#label}} must be a Google Drive id (letters, digits, - and _)' });

export const configSchema = Joi.object({
  folder_id: driveId.allow('').default(''),
  shared_drive_id: driveId.allow(null).default(null),
  path: Joi.string().allow('').max(4096).pattern(/^[^\0\r\n]*$/).default(''),
});

export const googleDriveDestination = rcloneDestination<GoogleDriveConfig>({
  type: 'google_drive',
  name: 'Google Drive',
  description: 'Google Drive folders and shared drives',
  note: UNTESTED_NOTE,
  configSchema,
  credentialSchema: oauthCredentialSchema('rclone authorize "drive"'),
  requiresCredentials: true,
  address: {
    example: 'gdrive://backups/pi?folder=1AbCdEfGhIjKlMnOp',
    scheme: 'gdrive',
    path: 'path',
    query: [
      { name: 'folder', field: 'folder_id', type: 'text' },
      { name: 'shared_drive', field: 'shared_drive_id', type: 'text' },
    ],
    defaults: { folder_id: '', shared_drive_id: null, path: '' },
    beside: [],
  },
  remoteOf: async (config, secret) => ({
    type: 'drive',
    options: { scope: 'drive', ...(config.folder_id ? { root_folder_id: config.folder_id } : {}), ...(config.shared_drive_id ? { team_drive: config.shared_drive_id } : {}) },
    secretOptions: { token: tokenJsonOf(secret) },
  }),
  rootOf: (config) => config.path,
  whereOf: (config) => `Google Drive ${config.folder_id || 'My Drive'}/${config.path}`,
  identity: (config) => `google_drive:${config.shared_drive_id ?? ''}:${config.folder_id}:${config.path}`,
  checkSecret: checkOauthSecret,
});
