/**
 * Encrypts secrets at rest (credential data, TOTP secrets) with AES-256-GCM under a key file in the
 * data dir (created on first start, mode 0600). Ciphertext format: `v1:<iv>:<tag>:<data>`, base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadOrCreateKeyFile } from '../store/index.ts';

export const VAULT_KEY_FILE = 'vault.key';

export interface Vault {
  encrypt(plaintext: string): string;
  /** Throws when the ciphertext was altered or made with another key. */
  decrypt(ciphertext: string): string;
}

export async function openVault(dataDir: string): Promise<Vault> {
  return createVault(await loadOrCreateKeyFile(path.join(dataDir, VAULT_KEY_FILE), 32));
}

export function createVault(key: Buffer): Vault {
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), data].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join(':');
    },
    decrypt(ciphertext) {
      const [version, iv, tag, data] = ciphertext.split(':');
      if (version !== 'v1' || data === undefined) throw new Error('not a vault ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
