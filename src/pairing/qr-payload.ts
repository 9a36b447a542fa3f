/**
 * What the pairing QR code holds: one compact JSON object, so any phone platform reads it with its
 * own JSON parser. `{"cairn":1,"code":"ABCDEFGHJKLM","fp":"3FA2…9C","urls":["https://…"]}`:
 * `cairn` is the format's version, `code` the one-time pairing code (dashes left out), `fp` the
 * certificate's SHA-256 as 64 upper-case hex digits without colons (null when HTTPS is off), `urls`
 * where the box answers. Short names and no colons keep the code small enough (version 7–8 at error
 * correction L for two URLs) to scan from a terminal of 80×24.
 */
import type { ServerIdentity } from '../tls/index.ts';

/** The format's version, written as `cairn`; an app refuses a version it does not know. */
export const PAIRING_PAYLOAD_VERSION = 1;

/** What an app reads from the QR code. */
export interface PairingPayload {
  code: string;
  /** Colon hex, as `GET /system/info` shows it, or null when HTTPS is off. */
  fingerprint_sha256: string | null;
  urls: string[];
}

/** The QR code's text for `code` on a box with `identity`. */
export function encodePairingPayload(code: string, identity: ServerIdentity): string {
  return JSON.stringify({
    cairn: PAIRING_PAYLOAD_VERSION,
    code: code.replace(/-/g, ''),
    fp: identity.fingerprint_sha256?.replace(/:/g, '') ?? null,
    urls: identity.urls,
  });
}

/**
 * Reads a QR code's text as an app would; throws when it is not a pairing payload of this version.
 * The fingerprint comes back in colon hex.
 */
export function decodePairingPayload(text: string): PairingPayload {
  const data = JSON.parse(text) as Record<string, unknown>;
  if (data.cairn !== PAIRING_PAYLOAD_VERSION) throw new Error(`not a Cairn pairing code of version ${PAIRING_PAYLOAD_VERSION}`);
  const { code, fp, urls } = data;
  if (typeof code !== 'string' || !Array.isArray(urls) || !urls.every((url) => typeof url === 'string')) throw new Error('a pairing code needs code and urls');
  if (fp !== null && (typeof fp !== 'string' || !/^[0-9A-F]{64}$/.test(fp))) throw new Error('fp must be 64 upper-case hex digits or null');
  return { code, fingerprint_sha256: fp === null ? null : fp.match(/../g)!.join(':'), urls };
}
