/**
 * The OAuth token of a Google Drive or OneDrive credential, as rclone's config wants it. The owner
 * runs `rclone authorize "drive"` (or `"onedrive"`) on any computer with a browser and pastes the
 * JSON it prints into `token`; the contract's separate `access_token` / `refresh_token` /
 * `expires_at` fields are accepted too.
 */
import Joi from 'joi';
import { invalid } from '../../domain/errors.ts';

/** The credential schema of an OAuth destination; `command` is what the form and docs tell the owner to run. */
export function oauthCredentialSchema(command: string): Joi.ObjectSchema {
  return Joi.object({
    token: Joi.string()
      .min(2)
      .max(16_384)
      .meta({ label: 'Token (JSON)', help: `run ${command} on a computer with a web browser and paste the JSON it prints` }),
    access_token: Joi.string().min(1).max(16_384).meta({ label: 'Access token' }),
    refresh_token: Joi.string().min(1).max(16_384).meta({ label: 'Refresh token' }),
    expires_at: Joi.number().integer().min(0).meta({ label: 'Expires at (Unix time)', secret: false }),
  })
    .xor('token', 'access_token')
    .messages({ 'object.missing': `"data" needs "token": run ${command} and paste the JSON it prints`, 'object.xor': '"data" takes "token" or "access_token", not both' });
}

/** rclone's token JSON for the credential; a 400 when the pasted text is not a token. */
export function tokenJsonOf(secret: Record<string, string | number> | null): string {
  if (!secret) throw invalid('CREDENTIAL_REQUIRED', 'This destination needs a credential with an OAuth token');
  if (typeof secret.token === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret.token);
    } catch {
      throw invalid('CREDENTIAL_INVALID', '"token" must be the JSON that rclone authorize prints ({"access_token": …})');
    }
    if (!parsed || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).access_token !== 'string') {
      throw invalid('CREDENTIAL_INVALID', '"token" must be the JSON that rclone authorize prints ({"access_token": …})');
    }
    return JSON.stringify(parsed);
  }
  const expiry = typeof secret.expires_at === 'number' ? new Date(secret.expires_at * 1000).toISOString() : new Date(0).toISOString();
  return JSON.stringify({ access_token: secret.access_token, token_type: 'Bearer', refresh_token: secret.refresh_token ?? '', expiry });
}

/** The credential check on save: the pasted token must be usable JSON (connects to nothing). */
export async function checkOauthSecret(secret: Record<string, string>): Promise<void> {
  tokenJsonOf(secret);
}

/** What `/providers` says of Drive and OneDrive: that Cairn could not try them against the real service. */
export const UNTESTED_NOTE =
  'Runs through rclone, whose own tests cover this service; Cairn\'s tests here cannot reach the real service, so this destination is tested only through rclone remotes that run locally (local, SFTP, WebDAV)';
