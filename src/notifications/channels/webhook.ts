/**
 * A generic webhook: the alert as a JSON body, POSTed to `url`. With `hmac_secret`, the header
 * `X-Cairn-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>` lets the receiver check the sender.
 */
import { createHmac } from 'node:crypto';
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { httpUrl, secretText } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface WebhookConfig {
  url: string;
  hmac_secret?: string;
}

export const SIGNATURE_HEADER = 'x-cairn-signature';

const configSchema = Joi.object({
  url: httpUrl.required(),
  hmac_secret: secretText,
});

/** The JSON body a webhook receives (docs/API.md: Notifications). */
export function webhookBody(message: AlertMessage): string {
  return JSON.stringify({
    event: message.event,
    title: message.title,
    message: message.text,
    job_id: message.job?.id ?? null,
    job_name: message.job?.name ?? null,
    error: message.error,
    time: message.time,
    local_time: message.local_time,
    timezone: message.timezone,
    box: message.box,
  });
}

async function send(config: WebhookConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  const body = webhookBody(message);
  const signature: Record<string, string> = config.hmac_secret ? { [SIGNATURE_HEADER]: `sha256=${createHmac('sha256', config.hmac_secret).update(body).digest('hex')}` } : {};
  return postToService(config.url, { headers: jsonHeaders({ 'x-cairn-event': message.event, ...signature }), body }, signal);
}

export const webhookChannel: ChannelKind<WebhookConfig> = {
  kind: 'webhook',
  name: 'Webhook',
  description: 'A JSON POST to any URL, optionally signed with HMAC-SHA256',
  configSchema,
  // The URL may carry a token in its path or query.
  secretFields: ['url', 'hmac_secret'],
  addressFields: ['url'],
  send,
};
