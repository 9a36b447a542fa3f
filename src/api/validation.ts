/** Request validation shared by every route: joi schemas, one failAction, strict bodies. */
import type { Lifecycle } from '@hapi/hapi';
import type Joi from 'joi';
import { invalid } from '../domain/errors.ts';

/** Turns a joi failure into the contract's 400 with the first problem named. */
export const failAction: Lifecycle.Method = (_request, _h, error) => {
  const details = (error as Joi.ValidationError | undefined)?.details;
  throw invalid('VALIDATION_FAILED', details?.[0]?.message ?? error?.message ?? 'Invalid request');
};

/**
 * A JSON body schema: no type coercion (`"5"` is not a number), unknown keys refused, and a body
 * that is missing or not an object is a 400.
 */
export function body(schema: Joi.ObjectSchema): Joi.ObjectSchema {
  return schema.prefs({ convert: false, abortEarly: true }).required();
}
