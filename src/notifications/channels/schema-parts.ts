/** joi pieces the channel kinds share. */
import Joi from 'joi';

/** An http(s) URL (a base URL or a webhook); a test points it at 127.0.0.1. */
export const httpUrl = Joi.string()
  .max(2048)
  .uri({ scheme: ['http', 'https'] })
  .messages({ 'string.uri': '{{#label}} must be an http:// or https:// URL', 'string.uriCustomScheme': '{{#label}} must be an http:// or https:// URL' });

/** A base URL with its default (the public service); a trailing slash is dropped. */
export function baseUrl(defaultUrl: string) {
  return httpUrl.default(defaultUrl).custom((value: string) => value.replace(/\/+$/, ''));
}

/** A token or password: one line of text. */
export const secretText = Joi.string()
  .min(1)
  .max(4096)
  .pattern(/^[^\u0000-\u001f\u007f]*$/)
  .messages({ 'string.pattern.base': '{{#label}} must be one line of text' });
