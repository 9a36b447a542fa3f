/** What the credential form asks for each provider; every data field is secret and never echoed. */
export const CREDENTIAL_FIELDS: Record<string, Array<{ key: string; label: string }>> = {
  s3: [
    { key: 'access_key_id', label: 'Access key' },
    { key: 'secret_access_key', label: 'Secret key' },
  ],
  sftp: [{ key: 'password', label: 'Password' }],
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

/** One line per saved credential (the API never sends secrets, so there are none to hide). */
export function credentialLines(credentials: Array<{ id: number; name: string; provider_type: string; updated_at: string }>): string[] {
  return credentials.map((credential) => `${String(credential.id).padStart(3)}  ${credential.provider_type.padEnd(13)} ${credential.name}`);
}
