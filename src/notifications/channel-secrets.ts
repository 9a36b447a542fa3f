/**
 * A channel's config split for storage: the kind's secret fields go into the vault, the rest stays
 * in the clear. The one place that joins them again is `fullConfigOf`, for a send.
 */
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
