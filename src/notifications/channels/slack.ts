/** Slack: an incoming webhook, `POST <webhook_url>` with `{ text }` (answered 200 `ok`). */
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { httpUrl } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface SlackConfig {
  /** https://hooks.slack.com/services/T…/B…/…: the path is the secret. */
  webhook_url: string;
}

const configSchema = Joi.object({
  webhook_url: httpUrl.required(),
});

async function send(config: SlackConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  return postToService(config.webhook_url, { headers: jsonHeaders(), body: JSON.stringify({ text: `*${message.title}*\n${message.text}` }) }, signal);
}

export const slackChannel: ChannelKind<SlackConfig> = {
  kind: 'slack',
  name: 'Slack',
  description: 'Messages to a Slack channel through an incoming webhook',
  configSchema,
  secretFields: ['webhook_url'],
  addressFields: ['webhook_url'],
  send,
};
