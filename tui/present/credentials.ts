/** A field of the credential form; secret unless `shown` (a file's path is not a secret, the key in it is). */
export interface CredentialField {
  key: string;
  label: string;
  shown?: boolean;
}

/** What the credential form asks for each provider; secret fields are never echoed. */
export const CREDENTIAL_FIELDS: Record<string, CredentialField[]> = {
  s3: [
    { key: 'access_key_id', label: 'Access key' },
    { key: 'secret_access_key', label: 'Secret key' },
  ],
  // A password, or a private key (read from a file on this machine) with its passphrase if it has one.
  sftp: [
    { key: 'password', label: 'Password' },
    { key: 'private_key_file', label: 'Key file', shown: true },
    { key: 'passphrase', label: 'Passphrase' },
  ],
  webdav: [
    { key: 'username', label: 'Username' },
    { key: 'password', label: 'Password' },
  ],
  google_drive: [
    { key: 'access_token', label: 'Access token' },
    { key: 'refresh_token', label: 'Refresh token' },
  ],
  onedrive: [
    { key: 'access_token', label: 'Access token' },
    { key: 'refresh_token', label: 'Refresh token' },
  ],
};

/**
 * The credential's `data` for what was typed: empty fields left out, and a key file's path replaced by
 * the key it holds (`readKeyFile` reads it), since a multi-line key cannot be typed into one line.
 */
export function credentialDataOf(fields: CredentialField[], values: Record<string, string>, readKeyFile: (path: string) => string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.key] ?? '';
    if (value === '') continue;
    if (field.key === 'private_key_file') data.private_key = readKeyFile(value.trim());
    else data[field.key] = value;
  }
  return data;
}

/** One line per saved credential (the API never sends secrets, so there are none to hide). */
export function credentialLines(credentials: Array<{ id: number; name: string; provider_type: string; updated_at: string }>): string[] {
  return credentials.map((credential) => `${String(credential.id).padStart(3)}  ${credential.provider_type.padEnd(13)} ${credential.name}`);
}
