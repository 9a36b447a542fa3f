/** One-time recovery codes for a lost authenticator: shown once, stored only as hashes. */
import { createHash, randomInt } from 'node:crypto';

// No 0/O or 1/I, so a code copied from paper is read back right.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const RECOVERY_CODE_COUNT = 10;

/** A random code shaped like `ABCD-EFGH-JKLM` from an alphabet without look-alikes (60 random bits). */
export function generateTypableCode(): string {
  return Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')).join('-');
}

/** A typed-back code as compared: case, spaces and dashes do not matter. */
export function normalizeTypedCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** Ten codes shaped like `ABCD-EFGH-JKLM`. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, generateTypableCode);
}

/** The stored form of a recovery code; case, spaces and dashes do not matter when it is typed back. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeTypedCode(code)).digest('hex');
}
