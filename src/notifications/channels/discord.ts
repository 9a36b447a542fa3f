/** Discord: an incoming webhook, `POST <webhook_url>` with `{ content }` (answered 204). */
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { httpUrl } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface DiscordConfig {
  /** https://discord.com/api/webhooks/<id>/<token>: the token makes it a secret. */
  webhook_url: string;
  username: string;
}

/** Discord refuses longer contents. */
const MAX_CONTENT = 2000;

const configSchema = Joi.object({
  webhook_url: httpUrl.required(),
  username: Joi.string().min(1).max(80).default('Cairn'),
});

async function send(config: DiscordConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  const content = `**${message.title}**\n${message.text}`.slice(0, MAX_CONTENT);
  return postToService(config.webhook_url, { headers: jsonHeaders(), body: JSON.stringify({ content, username: config.username }) }, signal);
}

export const discordChannel: ChannelKind<DiscordConfig> = {
  kind: 'discord',
  name: 'Discord',
  description: "Messages to a Discord channel through its webhook URL",
  configSchema,
  secretFields: ['webhook_url'],
  addressFields: ['webhook_url'],
  send,
};
