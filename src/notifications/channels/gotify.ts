/** Gotify (self-hosted): `POST <base_url>/message` with `{ title, message, priority }`, the app token in `X-Gotify-Key`. */
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { httpUrl, secretText } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface GotifyConfig {
  /** The server; Gotify has no public instance. */
  base_url: string;
  app_token: string;
  priority: number;
}

const configSchema = Joi.object({
  base_url: httpUrl.required().custom((value: string) => value.replace(/\/+$/, '')),
  app_token: secretText.required(),
  priority: Joi.number().integer().min(0).max(10).default(8),
});

async function send(config: GotifyConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  // The header, not `?token=`, keeps the token out of proxies' and servers' access logs.
  const headers = jsonHeaders({ 'x-gotify-key': config.app_token });
  return postToService(`${config.base_url}/message`, { headers, body: JSON.stringify({ title: message.title, message: message.text, priority: config.priority }) }, signal);
}

export const gotifyChannel: ChannelKind<GotifyConfig> = {
  kind: 'gotify',
  name: 'Gotify',
  description: 'Push notifications through your Gotify server',
  configSchema,
  secretFields: ['app_token'],
  addressFields: ['base_url'],
  send,
};
