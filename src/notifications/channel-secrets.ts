/**
 * A channel's config split for storage: the kind's secret fields go into the vault, the rest stays
 * in the clear. The one place that joins them again is `fullConfigOf`, for a send.
 */
import { invalid } from '../domain/errors.ts';
import type { ChannelRecord } from '../domain/notifications.ts';
import type { Vault } from '../vault/index.ts';
import { channelKindOf } from './channels/index.ts';

/** The config as stored: plain fields, and the secret ones as vault ciphertext. */
export function splitConfig(kind: string, config: Record<string, unknown>, vault: Vault): { config: Record<string, unknown>; secret: string } {
  const secretFields = channelKindOf(kind).secretFields;
  const plain: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) (secretFields.includes(key) ? secret : plain)[key] = value;
  return { config: plain, secret: vault.encrypt(JSON.stringify(secret)) };
}

/** The secret fields of a stored channel, decrypted: for a send, or to merge a change. Never for a response. */
export function secretsOf(channel: ChannelRecord, vault: Vault): Record<string, string> {
  return JSON.parse(vault.decrypt(channel.secret)) as Record<string, string>;
}

/** The whole config of a stored channel, secrets included. */
export function fullConfigOf(channel: ChannelRecord, vault: Vault): Record<string, unknown> {
  return { ...channel.config, ...secretsOf(channel, vault) };
}

/**
 * Refuses (400 CHANNEL_SECRET_REQUIRED) a change that moves a channel's address (`addressFields`:
 * server, port, TLS) without giving each secret it holds again: anyone allowed to edit channels
 * could otherwise point the stored token or password at a server of theirs. `before` and `after`
 * are whole validated configs; `given` is the change as sent (a secret given as null is removed,
 * which is fine too). A secret that is itself the address (a webhook URL) is given by changing it.
 */
export function checkSecretsGivenOnMove(kind: string, before: Record<string, unknown>, after: Record<string, unknown>, given: Record<string, unknown>): void {
  const { secretFields, addressFields } = channelKindOf(kind);
  const moved = addressFields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
  if (moved.length === 0) return;
  const missing = secretFields.filter((field) => before[field] !== undefined && !addressFields.includes(field) && !(field in given));
  if (missing.length === 0) return;
  throw invalid(
    'CHANNEL_SECRET_REQUIRED',
    `Changing ${moved.join(', ')} sends the channel's ${missing.join(', ')} to a new place: give ${missing.length > 1 ? 'them' : 'it'} again in the same change (or null to remove ${missing.length > 1 ? 'them' : 'it'})`,
    { details: { changed: moved, required: missing } },
  );
}
