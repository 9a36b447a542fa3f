/** A pairing → the text the pairing screen shows, and the sentence the dashboard says when it ends. */
import type { KeyScope, Pairing, StartedPairing } from '../wire.ts';

/** What each scope lets a paired app do, in the owner's words. */
export const SCOPE_CHOICES: ReadonlyArray<{ key: string; scope: KeyScope; says: string }> = [
  { key: 'r', scope: 'read', says: 'see jobs, runs and logs' },
  { key: 'o', scope: 'operate', says: 'also run, cancel, restore, mount drives' },
  { key: 'a', scope: 'admin', says: 'everything but keys, sessions and the account' },
];

/** The question before a pairing starts. */
export function scopeQuestion(): string {
  return [
    'Pair a phone app: it scans a QR code and gets its own API key.',
    '',
    'What may the app do?',
    ...SCOPE_CHOICES.map((choice) => `  ${choice.key}  ${choice.scope.padEnd(8)} ${choice.says}`),
    '',
    'Esc: back',
  ].join('\n');
}

/**
 * What stands beside the QR code: the scope, the code and until when it works, the fingerprint the
 * app should show and the URLs. Beside, not under: the QR code alone takes 21–23 of a 24-line terminal.
 */
export function pairingDetails(started: StartedPairing): string {
  return [
    'Scan this with the Cairn app.',
    '',
    `Scope: ${started.scope}`,
    `Code: ${started.code}`,
    `Works once, until ${started.expires_at.slice(11, 19)} UTC.`,
    '',
    'The app should show the fingerprint',
    started.fingerprint_sha256 ?? '— (HTTPS is off)',
    '',
    'It connects to',
    ...started.urls.map((url) => `  ${url}`),
    '',
    'Waiting for the app…',
    'Esc: cancel the code',
  ].join('\n');
}

/** How many columns a drawn QR code takes (its widest line, colour codes aside). */
export function qrWidth(qr: string): number {
  // eslint-disable-next-line no-control-regex
  return Math.max(...qr.split('\n').map((line) => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length));
}

/** What the dashboard says once the pairing is over. */
export function pairingOutcome(pairing: Pairing): string {
  switch (pairing.state) {
    case 'claimed':
      return `paired: key "${pairing.key?.name ?? '?'}" (${pairing.scope})`;
    case 'expired':
      return 'the pairing code expired before an app claimed it';
    case 'cancelled':
      return 'pairing cancelled: the code no longer works';
    default:
      return 'pairing still waiting';
  }
}
