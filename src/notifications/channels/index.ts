/**
 * The channel registry: the only place that knows which notification channel kinds exist. Adding a
 * kind means adding its file and one line to `kinds`.
 */
import { invalid } from '../../domain/errors.ts';
import { discordChannel } from './discord.ts';
import { emailChannel } from './email.ts';
import { gotifyChannel } from './gotify.ts';
import { ntfyChannel } from './ntfy.ts';
import { slackChannel } from './slack.ts';
import { telegramChannel } from './telegram.ts';
import type { ChannelKind } from './types.ts';
import { webhookChannel } from './webhook.ts';

export type { AlertMessage, ChannelKind, Delivery } from './types.ts';
export { SIGNATURE_HEADER } from './webhook.ts';

const kinds: readonly ChannelKind<any>[] = [ntfyChannel, webhookChannel, emailChannel, telegramChannel, discordChannel, slackChannel, gotifyChannel];

const byKind = new Map(kinds.map((kind) => [kind.kind, kind as ChannelKind]));

/** The channel kind; a 400 naming the accepted kinds when there is none. */
export function channelKindOf(kind: string): ChannelKind {
  const found = byKind.get(kind);
  if (!found) throw invalid('UNKNOWN_CHANNEL_KIND', `"kind" must be one of: ${[...byKind.keys()].join(', ')}`);
  return found;
}

/** A kind as `GET /notifications/kinds` lists it: its fields, and which of them are secret. */
export interface ChannelKindEntry {
  kind: string;
  name: string;
  description: string;
  fields: Array<{ name: string; required: boolean; secret: boolean; type: ChannelFieldType }>;
}

/**
 * What a field's value is, so a client's form can send typed text as the right JSON (the API does
 * not coerce): `text`, `number`, `boolean`, `list` (an array of text) or `number_or_text`.
 */
export type ChannelFieldType = 'text' | 'number' | 'boolean' | 'list' | 'number_or_text';

const FIELD_TYPES: Record<string, ChannelFieldType> = { number: 'number', boolean: 'boolean', array: 'list', alternatives: 'number_or_text' };

/** Every kind, in the registry's order. */
export function channelCatalogue(): ChannelKindEntry[] {
  return kinds.map((kind) => {
    const described = kind.configSchema.describe() as { keys?: Record<string, { type?: string; flags?: { presence?: string } }> };
    return {
      kind: kind.kind,
      name: kind.name,
      description: kind.description,
      fields: Object.entries(described.keys ?? {}).map(([name, key]) => ({ name, required: key.flags?.presence === 'required', secret: kind.secretFields.includes(name), type: FIELD_TYPES[key.type ?? ''] ?? 'text' })),
    };
  });
}

/**
 * Checks a whole config against its kind's schema; the config with defaults applied. The message
 * names the field, never its value (it may be a secret).
 */
export function validateChannelConfig(kind: string, config: unknown): Record<string, unknown> {
  const { error, value } = channelKindOf(kind).configSchema.validate(config, { convert: false, abortEarly: true });
  if (error) throw invalid('VALIDATION_FAILED', `config: ${error.details[0]?.message.replace(/ with value .*$/, '') ?? 'invalid'}`);
  return value as Record<string, unknown>;
}
