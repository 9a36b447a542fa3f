/**
 * `onedrive`: a folder in OneDrive (personal or business), run by rclone's `onedrive` backend.
 * The credential is the token `rclone authorize "onedrive"` prints. rclone needs the drive's id and
 * kind; when the config has no `drive_id`, they are asked of Microsoft Graph with the token.
 */
import Joi from 'joi';
import { CairnError } from '../../domain/errors.ts';
import { checkOauthSecret, oauthCredentialSchema, tokenJsonOf, UNTESTED_NOTE } from '../rclone/oauth-token.ts';
import { rcloneDestination } from '../rclone/rclone-destination.ts';

export interface OneDriveConfig {
  /** The folder that holds the backup, from the drive's root. */
  folder_path: string;
  /** The drive's id; null: the signed-in user's own drive. */
  drive_id: string | null;
  /** personal, business or documentLibrary; asked of Microsoft with the drive id when null. */
  drive_type: string | null;
}

export const configSchema = Joi.object({
  folder_path: Joi.string().allow('').max(4096).pattern(/^[^\0\r\n]*$/).required(),
  drive_id: Joi.string().pattern(/^[A-Za-z0-9!._-]{1,200}$/).allow(null).default(null),
  drive_type: Joi.string().valid('personal', 'business', 'documentLibrary').allow(null).default(null),
});

/** The signed-in user's drive, as Microsoft Graph names it. */
async function ownDrive(token: string): Promise<{ id: string; driveType: string }> {
  const accessToken = (JSON.parse(token) as { access_token: string }).access_token;
  let response: Response;
  try {
    response = await fetch('https://graph.microsoft.com/v1.0/me/drive', { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `Microsoft Graph could not be reached to find the OneDrive (${(error as Error).message}); set "drive_id" and "drive_type" to skip this`, { retryable: true });
  }
  if (!response.ok) {
    throw new CairnError('unavailable', 'DESTINATION_AUTH_FAILED', `Microsoft Graph refused the token when asked for the OneDrive (HTTP ${response.status}); paste a fresh token, or set "drive_id" and "drive_type"`);
  }
  return (await response.json()) as { id: string; driveType: string };
}

export const onedriveDestination = rcloneDestination<OneDriveConfig>({
  type: 'onedrive',
  name: 'OneDrive',
  description: 'Microsoft OneDrive',
  note: UNTESTED_NOTE,
  configSchema,
  credentialSchema: oauthCredentialSchema('rclone authorize "onedrive"'),
  requiresCredentials: true,
  address: {
    example: 'onedrive://Backups/pi',
    scheme: 'onedrive',
    path: 'folder_path',
    query: [
      { name: 'drive', field: 'drive_id', type: 'text' },
      { name: 'type', field: 'drive_type', type: 'text' },
    ],
    defaults: { drive_id: null, drive_type: null },
    beside: [],
  },
  remoteOf: async (config, secret) => {
    const token = tokenJsonOf(secret);
    const drive = config.drive_id && config.drive_type ? { id: config.drive_id, driveType: config.drive_type } : await ownDrive(token);
    return { type: 'onedrive', options: { drive_id: config.drive_id ?? drive.id, drive_type: config.drive_type ?? drive.driveType }, secretOptions: { token } };
  },
  rootOf: (config) => config.folder_path,
  whereOf: (config) => `OneDrive ${config.drive_id ?? 'own drive'}/${config.folder_path}`,
  identity: (config) => `onedrive:${config.drive_id ?? ''}:${config.folder_path}`,
  checkSecret: checkOauthSecret,
});
