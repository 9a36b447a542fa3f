/**
 * What a box export holds once opened: Cairn's own state as plain JSON, with every secret in the
 * clear (the sealed file is what protects it). Each part keeps the API's own field names, so a
 * reader in ten years can match it against docs/API.md. Kept out on purpose: users, sessions and
 * API keys (a new box is claimed and paired again), run history and logs, and the vault key.
 */
import Joi from 'joi';
import type { JobInput } from '../domain/jobs.ts';
import type { ScheduleInput } from '../domain/schedules.ts';
import type { Settings } from '../domain/settings.ts';

export const BOX_STATE_FORMAT = 'cairn-box-state';
export const BOX_STATE_VERSION = 1;

export interface BoxState {
  format: typeof BOX_STATE_FORMAT;
  version: number;
  /** The effective settings of the box (as `GET /settings` shows them, without the passphrase flag). */
  settings: Settings;
  /** True when the box wrote exports after each backup: the importing box then keeps doing so, with the passphrase that opened this one. */
  automatic_export: boolean;
  /** Saved credentials with their data (`POST /credentials` bodies plus the id jobs refer to). */
  credentials: Array<{ id: number; name: string; provider_type: string; data: Record<string, string> }>;
  /** Alert channels with their whole config, secret fields included (`POST /notifications/channels` bodies plus id). */
  channels: Array<{ id: number; name: string; kind: string; enabled: boolean; config: Record<string, unknown> }>;
  /** Jobs (`POST /jobs` bodies plus id); `credential_id` and `notify.channel_ids` name ids of this file. */
  jobs: Array<JobInput & { id: number }>;
  /** Schedules (`POST /jobs/:id/schedules` bodies) with the id of their job in this file. */
  schedules: Array<ScheduleInput & { job_id: number }>;
}

const id = Joi.number().integer().min(1).required();

/**
 * The document's outline: ids present and unique, references resolvable. Each part's own rules are
 * those of its route (job, schedule, credential, channel, settings), applied by the importer.
 */
export const boxStateSchema = Joi.object({
  format: Joi.valid(BOX_STATE_FORMAT).required(),
  version: Joi.valid(BOX_STATE_VERSION).required(),
  settings: Joi.object().unknown(true).required(),
  automatic_export: Joi.boolean().required(),
  credentials: Joi.array().items(Joi.object({ id }).unknown(true)).unique('id').required(),
  channels: Joi.array().items(Joi.object({ id }).unknown(true)).unique('id').required(),
  jobs: Joi.array().items(Joi.object({ id }).unknown(true)).unique('id').required(),
  schedules: Joi.array().items(Joi.object({ job_id: id }).unknown(true)).required(),
}).unknown(true);
