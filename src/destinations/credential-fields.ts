/**
 * A destination's credential schema is the one list of its credential fields: the secret ones (for
 * redaction) and the form's fields (for `GET /providers`) are read from it, never declared twice.
 */
import type Joi from 'joi';
import type { CredentialField } from './types.ts';

interface KeyDescription {
  flags?: { presence?: string };
  metas?: Array<Record<string, unknown>>;
}

function keysOf(schema: Joi.ObjectSchema | null): Array<[string, KeyDescription]> {
  if (!schema) return [];
  const keys = (schema.describe() as { keys?: Record<string, KeyDescription> }).keys ?? {};
  return Object.entries(keys);
}

function metaOf(description: KeyDescription): Record<string, unknown> {
  return Object.assign({}, ...(description.metas ?? []));
}

/** The credential form's fields, in the schema's order; a key is secret unless marked `secret: false`. */
export function credentialFieldsOf(schema: Joi.ObjectSchema | null): CredentialField[] {
  return keysOf(schema).map(([key, description]) => {
    const meta = metaOf(description);
    return {
      key,
      label: typeof meta.label === 'string' ? meta.label : key,
      secret: meta.secret !== false,
      required: description.flags?.presence === 'required',
      ...(meta.from_file === true ? { from_file: true } : {}),
      ...(typeof meta.help === 'string' ? { help: meta.help } : {}),
    };
  });
}

/** Stands for "every field" in a secret field list: a schema that takes any key (rclone's options) keeps all secret. */
export const EVERY_FIELD = '*';

/** Names of the secret credential fields: what logs and run logs must never show. */
export function secretFieldsOf(schema: Joi.ObjectSchema | null): string[] {
  const named = credentialFieldsOf(schema)
    .filter((field) => field.secret)
    .map((field) => field.key);
  const anyKey = schema !== null && ((schema.describe() as { patterns?: unknown[] }).patterns?.length ?? 0) > 0;
  return anyKey ? [...named, EVERY_FIELD] : named;
}
