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

/** The QR code (drawn text) with the code, its expiry, the fingerprint to compare and the URLs. */
export function pairingText(started: StartedPairing, qr: string): string {
  const until = started.expires_at.slice(11, 19);
  return [
    `Scan this with the Cairn app (scope ${started.scope}):`,
    qr.replace(/\n+$/, ''),
    `Code ${started.code} · works once, until ${until} UTC`,
    `Fingerprint ${started.fingerprint_sha256 ?? '— (HTTPS is off)'}`,
    ...started.urls.map((url) => `  ${url}`),
    'Waiting for the app…   Esc: cancel the code',
  ].join('\n');
}

/** What the dashboard says once the pairing is over. */
export function pairingOutcome(pairing: Pairing): string {
  switch (pairing.state) {
    case 'claimed':
      return `paired: the app has the key "${pairing.key?.name ?? '?'}" (${pairing.scope})`;
    case 'expired':
      return 'the pairing code expired before an app claimed it';
    case 'cancelled':
      return 'pairing cancelled: the code no longer works';
    default:
      return 'pairing still waiting';
  }
}
