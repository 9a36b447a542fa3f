/** Telegram: the Bot API's `POST <base_url>/bot<token>/sendMessage` with `{ chat_id, text }`. */
import Joi from 'joi';
import { jsonHeaders, postToService } from './http-post.ts';
import { baseUrl, secretText } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export interface TelegramConfig {
  base_url: string;
  bot_token: string;
  /** A chat's numeric id, or `@channelname`. */
  chat_id: string | number;
}

/** Telegram refuses longer texts. */
const MAX_TEXT = 4096;

const configSchema = Joi.object({
  base_url: baseUrl('https://api.telegram.org'),
  bot_token: secretText
    .pattern(/^[0-9]+:[A-Za-z0-9_-]+$/, 'token')
    .required()
    .messages({ 'string.pattern.name': '"bot_token" must look like 123456:ABC-DEF… (from @BotFather)' }),
  chat_id: Joi.alternatives(Joi.number().integer(), Joi.string().pattern(/^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,64})$/))
    .required()
    .messages({ 'alternatives.match': '"chat_id" must be a chat id such as -1001234567890 or a channel such as @my_channel' }),
});

async function send(config: TelegramConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  const text = `${message.title}\n\n${message.text}`.slice(0, MAX_TEXT);
  return postToService(`${config.base_url}/bot${config.bot_token}/sendMessage`, { headers: jsonHeaders(), body: JSON.stringify({ chat_id: config.chat_id, text }) }, signal);
}

export const telegramChannel: ChannelKind<TelegramConfig> = {
  kind: 'telegram',
  name: 'Telegram',
  description: 'Messages from your Telegram bot to a chat, group or channel',
  configSchema,
  secretFields: ['bot_token'],
  addressFields: ['base_url'],
  send,
};
