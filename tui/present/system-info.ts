/** What the daemon says about itself → the line the settings view shows (the fingerprint to pin). */
import type { SystemInfo } from '../wire.ts';

/** "HTTPS certificate (SHA-256, pin it in a phone app): AB:…", or why there is none. */
export function certificateLine(info: Pick<SystemInfo, 'https' | 'fingerprint_sha256'>): string {
  return info.https && info.fingerprint_sha256
    ? `HTTPS certificate (SHA-256, pin it in a phone app): ${info.fingerprint_sha256}`
    : 'HTTPS is off on this box (CAIRN_TLS=false): nothing to pin.';
}
