/**
 * What the API answers, as joi schemas: the main resources (job, run, schedule, snapshot,
 * credential, settings …) and the contract's error shape. Routes attach them with `answers()`;
 * hapi then checks each answer against its schema (server.ts says what a mismatch does) and the
 * OpenAPI document shows them.
 *
 * Every object is open (`unknown(true)`): a field added later is not a breaking change for a
 * client, so the schemas pin what a client may rely on (each field present, of its type) and
 * nothing more. Fields listed are required: the API always sends them, null when empty.
 */
import type { RouteOptions } from '@hapi/hapi';
import Joi from 'joi';
import { API_KEY_SCOPES } from '../../domain/api-keys.ts';
import { LOG_LEVELS, RUN_STATUSES, RUN_TRIGGERS } from '../../domain/runs.ts';
import { retentionPolicySchema } from '../../domain/retention.ts';
import { SCHEDULE_ACTIONS, SCHEDULE_TYPES } from '../../domain/schedules.ts';
import { THEMES } from '../../domain/settings.ts';

/** An open object whose every listed field must be present. */
function record(fields: Record<string, Joi.Schema>): Joi.ObjectSchema {
  const required = Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, schema.required()]));
  return Joi.object(required).unknown(true);
}

const id = Joi.number().integer().min(1);
const count = Joi.number().integer().min(0);
const timestamp = Joi.string().isoDate();
const nullable = <T extends Joi.Schema>(schema: T): T => schema.allow(null) as T;

/** The contract's error: `{ error, message, code }`, plus fields some codes add (`retry_after`, `run_id` …). */
export const errorSchema = record({
  error: Joi.string().description('The status in words, e.g. "Not found"'),
  message: Joi.string().description('What went wrong, for a person'),
  code: Joi.string().pattern(/^[A-Z][A-Z0-9_]*$/).description('Stable, machine-readable, e.g. JOB_NOT_FOUND'),
}).label('Error');

/** `{ message }`, what deletes and other acknowledgements answer. */
export const messageSchema = record({ message: Joi.string() }).label('Message');

/** `{ message, count }`: how many runs a delete removed. */
export const deletedCountSchema = record({ message: Joi.string(), count }).label('DeletedCount');

const runSummary = record({ id, status: Joi.string().valid(...RUN_STATUSES), started_at: nullable(timestamp), completed_at: nullable(timestamp) });

export const scheduleSchema = record({
  id,
  job_id: id,
  enabled: Joi.boolean(),
  schedule_type: Joi.string().valid(...SCHEDULE_TYPES),
  hour: nullable(Joi.number().integer().min(0).max(23)),
  minute: nullable(Joi.number().integer().min(0).max(59)),
  day_of_week: nullable(Joi.number().integer().min(0).max(6)),
  day_of_month: nullable(Joi.number().integer().min(1).max(31)),
  cron_expression: nullable(Joi.string()),
  action: Joi.string().valid(...SCHEDULE_ACTIONS),
  verify_percent: nullable(Joi.number().min(1).max(100)),
  next_run: nullable(timestamp).description('null when disabled or never due again'),
  created_at: timestamp,
}).label('Schedule');

export const jobSchema = record({
  id,
  name: Joi.string(),
  description: Joi.string().allow(''),
  enabled: Joi.boolean(),
  source_dirs: Joi.array().items(Joi.string()),
  destination_type: Joi.string(),
  destination_config: Joi.object().unknown(true).description("The destination type's own settings; never a secret"),
  sync_options: record({
    delete_extraneous: Joi.boolean(),
    exclude_patterns: Joi.array().items(Joi.string()),
    bandwidth_limit_kbps: nullable(count),
    dry_run: Joi.boolean(),
    verbosity: Joi.string().valid('quiet', 'normal', 'verbose'),
  }),
  credential_id: nullable(id),
  backup_mode: Joi.string().valid('mirror', 'snapshots', 'repository'),
  repository_password_set: Joi.boolean().description('A repository job has its password (write-only: never shown again after the answer that generated it)'),
  retention: retentionPolicySchema,
  notify: Joi.object().unknown(true).description("Alert rules over the settings' defaults"),
  created_at: timestamp,
  updated_at: timestamp,
  snapshot_count: nullable(count),
  latest_snapshot_at: nullable(timestamp),
  last_run: nullable(runSummary),
  schedules: Joi.array().items(scheduleSchema),
}).label('Job');

const verifyFigures = record({ snapshot_id: Joi.string(), files_checked: count, bytes_read: count, mismatched: count, missing: count, unreadable: count });

export const runSchema = record({
  id,
  job_id: id,
  job_name: Joi.string(),
  status: Joi.string().valid(...RUN_STATUSES),
  trigger: Joi.string().valid(...RUN_TRIGGERS),
  schedule_id: nullable(id),
  created_at: timestamp,
  started_at: nullable(timestamp),
  completed_at: nullable(timestamp),
  files_transferred: count,
  bytes_transferred: count,
  files_deleted: count,
  error_message: nullable(Joi.string()),
  verify: nullable(verifyFigures),
}).label('Run');

/** `GET /runs`: a page of every job's runs. */
export const runPageSchema = record({ runs: Joi.array().items(runSchema), total: count, limit: count, offset: count }).label('RunPage');

export const logEntrySchema = record({ id, run_id: id, timestamp, level: Joi.string().valid(...LOG_LEVELS), message: Joi.string().allow('') }).label('LogEntry');

/** What starting a run (backup, verify, prune) answers. */
export const runStartedSchema = record({ run_id: id, message: Joi.string() }).label('RunStarted');

/** `POST /jobs/:id/verify`: the run and the snapshot it checks. */
export const verifyStartedSchema = record({ run_id: id, snapshot_id: Joi.string(), message: Joi.string() }).label('VerifyStarted');

/** `POST /jobs/:id/restore`: the run, where it writes, and the snapshot it reads (null: the mirror). */
export const restoreStartedSchema = record({ run_id: id, target_dir: Joi.string(), snapshot_id: nullable(Joi.string()), message: Joi.string() }).label('RestoreStarted');

const keepReason = Joi.object({ rule: Joi.string().required(), oldest: Joi.boolean(), tags: Joi.string() }).unknown(true);

export const snapshotSchema = record({
  id: Joi.string(),
  time: timestamp,
  run_id: nullable(id),
  files: count,
  total_size: count,
  bytes_added: count,
  kept_by: Joi.array().items(keepReason).description("Why the job's retention keeps it; empty when the next prune removes it"),
}).label('Snapshot');

export const snapshotListSchema = record({ snapshots: Joi.array().items(snapshotSchema), total: count }).label('SnapshotList');

/** `GET /jobs/:id/recovery-kit`: how to reach a repository job's backup with restic alone. */
export const recoveryKitSchema = record({
  job_id: id,
  job_name: Joi.string(),
  repository: Joi.string().description('The repository as `restic -r` takes it'),
  password: Joi.string().description("The repository's password"),
  tag: Joi.string().description("The tag on this job's snapshots"),
  setup: Joi.array().items(Joi.string()).description('Commands to run first (destination credentials, an rclone remote)'),
  commands: record({ list: Joi.string(), restore_latest: Joi.string(), restore_snapshot: Joi.string(), check: Joi.string() }),
  qr_text: Joi.string().description('What the QR code holds: the location and the password'),
  generated_at: timestamp,
}).label('RecoveryKit');

export const credentialSchema = record({ id, name: Joi.string(), provider_type: Joi.string(), created_at: timestamp, updated_at: timestamp }).label('Credential');

export const settingsSchema = record({
  max_runs_per_job: Joi.number().integer().min(1),
  theme: Joi.string().valid(...THEMES),
  timezone: Joi.string(),
  max_concurrent_runs: Joi.number().integer().min(1),
  notify: Joi.object().unknown(true).description('The default alert rules'),
  cors_origins: Joi.array().items(Joi.string()),
  audit_max_entries: Joi.number().integer().min(1),
}).label('Settings');

export const apiKeySchema = record({
  id,
  name: Joi.string(),
  prefix: Joi.string(),
  scope: Joi.string().valid(...API_KEY_SCOPES),
  created_at: timestamp,
  expires_at: nullable(timestamp),
  expired: Joi.boolean(),
  last_used_at: nullable(timestamp),
  last_used_from: nullable(Joi.string()),
}).label('ApiKey');

/** A list of `schema`, as list routes answer. */
export function listOf(schema: Joi.Schema): Joi.ArraySchema {
  return Joi.array().items(schema);
}

/** `GET /system/health`: `reasons` only for a logged-in caller. */
export const healthSchema = Joi.object({
  status: Joi.string().valid('ok', 'degraded').required(),
  version: Joi.string().required(),
  reasons: Joi.array().items(Joi.object({ code: Joi.string().required(), message: Joi.string().required() }).unknown(true)),
})
  .unknown(true)
  .label('Health');

/** `GET /system/info`: what an app needs to know about the box, the certificate fingerprint to pin among it. */
export const systemInfoSchema = record({
  version: Joi.string(),
  hostname: Joi.string(),
  https: Joi.boolean(),
  fingerprint_sha256: nullable(Joi.string()),
  certificate: nullable(Joi.string().valid('self-signed', 'owner')),
  certificate_valid_to: nullable(timestamp),
  urls: Joi.array().items(Joi.string()),
  plain_http: Joi.string().valid('loopback', 'any'),
}).label('SystemInfo');

/**
 * Route options declaring what a route answers with `status` (200 unless it creates or accepts):
 * hapi checks the answer, the OpenAPI document shows it. Spread into a route's `options`.
 */
export function answers(status: number, schema: Joi.Schema): Pick<RouteOptions, 'response'> {
  return { response: { status: { [status]: schema } } };
}
