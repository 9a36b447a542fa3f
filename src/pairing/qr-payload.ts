/**
 * What the pairing QR code holds: words separated by single spaces, all upper case,
 * `CAIRN1 <code> <fingerprint> <url> [<url> …]`:
 * - `CAIRN1`: the format and its version; an app refuses a first word it does not know;
 * - the one-time pairing code without dashes (`ABCDEFGHJKLM`);
 * - the certificate's SHA-256 as 64 hex digits without colons, or `-` when HTTPS is off;
 * - where the box answers, upper-cased (a URL's scheme and host are case-insensitive).
 * Upper case, digits, space, `:`, `/`, `.` and `-` are QR's alphanumeric set, which packs 5.5 bits a
 * character where bytes take 8: two URLs make a version 5 code, 21 terminal lines in half blocks,
 * which fits an 80×24 terminal; the same as JSON took version 7–8 (25–27 lines).
 */
import type { ServerIdentity } from '../tls/index.ts';

/** The payload's first word: format and version. */
export const PAIRING_PAYLOAD_MAGIC = 'CAIRN1';

/** What an app reads from the QR code. */
export interface PairingPayload {
  /** The code without dashes, as the claim accepts it. */
  code: string;
  /** Colon hex, as `GET /system/info` shows it, or null when HTTPS is off. */
  fingerprint_sha256: string | null;
  /** Lower case again, as `new URL()` writes them. */
  urls: string[];
}

/** The QR code's text for `code` on a box with `identity`. */
export function encodePairingPayload(code: string, identity: ServerIdentity): string {
  const fingerprint = identity.fingerprint_sha256?.replace(/:/g, '') ?? '-';
  return [PAIRING_PAYLOAD_MAGIC, code.replace(/-/g, ''), fingerprint, ...identity.urls].join(' ').toUpperCase();
}

/** Reads a QR code's text as an app would; throws when it is not a pairing payload of this version. */
export function decodePairingPayload(text: string): PairingPayload {
  const [magic, code, fingerprint, ...urls] = text.split(' ');
  if (magic !== PAIRING_PAYLOAD_MAGIC) throw new Error(`not a Cairn pairing code (${PAIRING_PAYLOAD_MAGIC})`);
  if (!code || urls.length === 0) throw new Error('a pairing code needs its code and at least one URL');
  if (fingerprint !== '-' && !/^[0-9A-F]{64}$/.test(fingerprint)) throw new Error('the fingerprint must be 64 hex digits or -');
  return {
    code,
    fingerprint_sha256: fingerprint === '-' ? null : fingerprint.match(/../g)!.join(':'),
    urls: urls.map((url) => new URL(url).origin),
  };
}
