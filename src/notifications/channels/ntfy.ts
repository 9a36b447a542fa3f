/**
 * ntfy (ntfy.sh or a self-hosted server): JSON publishing, `POST <base_url>/` with
 * `{ topic, title, message, priority, tags }`, and an access token as `Authorization: Bearer`.
 */
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { baseUrl, secretText } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface NtfyConfig {
  base_url: string;
  topic: string;
  /** 1 (min) … 5 (max); failures go out at `priority`, other alerts at the default 3. */
  priority: number;
  token?: string;
}

const configSchema = Joi.object({
  base_url: baseUrl('https://ntfy.sh'),
  topic: Joi.string()
    .pattern(/^[-_A-Za-z0-9]{1,64}$/)
    .required()
    .messages({ 'string.pattern.base': '"topic" must be 1–64 letters, digits, "-" or "_"' }),
  priority: Joi.number().integer().min(1).max(5).default(4),
  token: secretText,
});

const PROBLEMS = new Set(['failure', 'overdue', 'space_low', 'verify_damage']);

async function send(config: NtfyConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  const body = {
    topic: config.topic,
    title: message.title,
    message: message.text,
    priority: PROBLEMS.has(message.event) ? config.priority : 3,
    tags: [message.event],
  };
  const headers = jsonHeaders(config.token ? { authorization: `Bearer ${config.token}` } : {});
  return postToService(`${config.base_url}/`, { headers, body: JSON.stringify(body) }, signal);
}

export const ntfyChannel: ChannelKind<NtfyConfig> = {
  kind: 'ntfy',
  name: 'ntfy',
  description: 'Push notifications through ntfy.sh or your own ntfy server',
  configSchema,
  secretFields: ['token'],
  addressFields: ['base_url'],
  send,
};
