/**
 * The joi schema of a retention policy body (API, job documents), apart from the policy's rules
 * (retention.ts) so that the repository engine, which applies policies, never loads joi.
 */
import Joi from 'joi';
import { COUNT_MAX, DURATION_TEXT_MAX, parseRetentionDuration, UNLIMITED, type RetentionPolicy } from './retention.ts';

const count = Joi.number()
  .integer()
  .min(UNLIMITED)
  .max(COUNT_MAX)
  .default(0)
  .messages({ 'number.min': '{{#label}} must be 0 (off), a positive count, or -1 (unlimited)' });

const duration = Joi.string()
  .allow(null)
  .max(DURATION_TEXT_MAX)
  .default(null)
  .custom((value: string, helpers) => {
    try {
      parseRetentionDuration(value);
      return value.trim();
    } catch (error) {
      return helpers.error('duration.invalid', { why: (error as Error).message });
    }
  })
  .messages({ 'duration.invalid': '{{#label}}: {{#why}}' });

// Control characters have no place in a tag, and would corrupt logs and the screen.
const tagList = Joi.string().allow('').max(256).pattern(/^[^\u0000-\u001f\u007f]*$/);

/**
 * A policy body: every field optional (count 0, duration null, no tags), unknown fields refused.
 * Validating gives a complete RetentionPolicy.
 */
export const retentionPolicySchema = Joi.object<RetentionPolicy>({
  keep_last: count,
  keep_hourly: count,
  keep_daily: count,
  keep_weekly: count,
  keep_monthly: count,
  keep_yearly: count,
  keep_within: duration,
  keep_within_hourly: duration,
  keep_within_daily: duration,
  keep_within_weekly: duration,
  keep_within_monthly: duration,
  keep_within_yearly: duration,
  keep_tags: Joi.array().items(tagList).max(32).unique().default([]),
});
