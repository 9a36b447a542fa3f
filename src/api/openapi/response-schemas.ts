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
import { retentionPolicySchema } from '../../domain/retention-schema.ts';
import { SCHEDULE_ACTIONS, SCHEDULE_TYPES } from '../../domain/schedules.ts';
import { THEMES } from '../../domain/settings.ts';
import { ALERT_EVENTS } from '../../domain/notifications.ts';
import { JOB_STATES } from '../../dashboard/index.ts';

/** An open object whose every listed field must be present. */
export function record(fields: Record<string, Joi.Schema>): Joi.ObjectSchema {
  const required = Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, schema.required()]));
  return Joi.object(required).unknown(true);
}

const id = Joi.number().integer().min(1);
const count = Joi.number().integer().min(0);
const timestamp = Joi.string().isoDate();
/** `schema`, or null. */
export const nullable = <T extends Joi.Schema>(schema: T): T => schema.allow(null) as T;

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

/**
 * What creating or changing a job answers: the job, plus `repository_password` when this very
 * request generated it (a repository job given none), the only answer that ever shows it.
 */
export const savedJobSchema = jobSchema
  .keys({
    repository_password: Joi.string()
      .optional()
      .description('Only when this request generated the repository password: shown this once, never returned again. Keep it (or print the recovery kit): without it nobody can read the backups'),
  })
  .label('SavedJob');

/** A verify run's figures (`verify` of a run and of its socket frames). */
export const verifyFiguresSchema = record({ snapshot_id: Joi.string(), files_checked: count, bytes_read: count, mismatched: count, missing: count, unreadable: count }).label('VerifyFigures');

/** A run's transfer progress (docs/API.md: Runs); nulls where a figure is not known yet. */
export const runProgressSchema = record({
  percent: nullable(Joi.number().min(0).max(100)),
  bytes_done: count,
  bytes_total: nullable(count),
  files_done: count,
  files_total: nullable(count),
  rate_bytes_per_s: nullable(Joi.number().min(0)),
  eta_seconds: nullable(Joi.number().min(0)),
}).label('RunProgress');

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
  verify: nullable(verifyFiguresSchema),
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

/** A snapshot's own fields, as the status socket's `snapshot_created` frame carries them. */
export const snapshotFieldsSchema = record({ id: Joi.string(), time: timestamp, run_id: nullable(id), files: count, total_size: count, bytes_added: count }).label('SnapshotFields');

export const snapshotSchema = snapshotFieldsSchema
  .keys({ kept_by: Joi.array().items(keepReason).required().description("Why the job's retention keeps it; empty when the next prune removes it") })
  .label('Snapshot');

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

/** `POST /keys`: a key as listed, plus the key itself, shown this once. */
export const newApiKeySchema = apiKeySchema.keys({ key: Joi.string().pattern(/^cairn_/).required() }).label('NewApiKey');

/** A user as login, setup and the second login step answer it. */
export const userSchema = record({ id, username: Joi.string() }).label('User');

export const sessionSchema = record({
  id: Joi.string(),
  created_at: timestamp,
  expires_at: timestamp,
  last_seen_at: timestamp,
  last_seen_from: nullable(Joi.string()),
  current: Joi.boolean().description("The caller's own session"),
}).label('Session');

export const totpSetupSchema = record({ secret: Joi.string(), qr_code: Joi.string().description('A PNG data URL'), otpauth_url: Joi.string() }).label('TotpSetup');

export const auditEntrySchema = record({
  id,
  at: timestamp,
  action: Joi.string(),
  outcome: Joi.string().valid('success', 'failure'),
  status: Joi.number().integer(),
  actor: nullable(Joi.string()),
  actor_type: Joi.string().valid('session', 'key', 'anonymous'),
  address: Joi.string().allow(''),
  method: Joi.string(),
  path: Joi.string(),
  target_id: nullable(Joi.alternatives(Joi.number().integer(), Joi.string())),
}).label('AuditEntry');

/** A page of a list: `items` under its own name, with how many match in all. */
function page(name: string, item: Joi.Schema): Joi.ObjectSchema {
  return record({ [name]: Joi.array().items(item), total: count, limit: count, offset: count });
}

export const auditPageSchema = page('entries', auditEntrySchema).label('AuditPage');

export const credentialUsageSchema = record({ credential_id: id, jobs: Joi.array().items(record({ id, name: Joi.string() })) }).label('CredentialUsage');

const capabilities = record(Object.fromEntries(
  ['supports_delete', 'supports_compression', 'supports_checksum', 'supports_bandwidth_limit', 'supports_exclude_patterns', 'supports_incremental', 'supports_dry_run', 'requires_credentials'].map((name) => [name, Joi.boolean()]),
));

export const providerCapabilitiesSchema = record({ provider_type: Joi.string(), capabilities }).label('ProviderCapabilities');

export const providerSchema = record({
  type: Joi.string(),
  name: Joi.string(),
  description: Joi.string(),
  requires_credentials: Joi.boolean(),
  available: Joi.boolean().description('False when this box cannot back up to it (`reason` says why)'),
  address: Joi.object().unknown(true).required().description('How a destination_config is written as one line (docs/API.md: Addresses)'),
  credential_fields: Joi.array().items(
    Joi.object({ key: Joi.string().required(), label: Joi.string().required(), secret: Joi.boolean().required(), required: Joi.boolean().required(), from_file: Joi.boolean(), help: Joi.string() }).unknown(true),
  ),
})
  .keys({ reason: Joi.string().description('Why it is unavailable'), note: Joi.string().description('What to know before relying on it') })
  .label('Provider');

/** `POST /providers/test`: a test that could not connect is still a 200, with `success: false`. */
export const connectionTestSchema = record({ success: Joi.boolean(), message: Joi.string().allow(''), details: Joi.any().description('What the destination reported (free space …); null on failure') }).label('ConnectionTest');

const finishedRunSummary = record({
  run_id: id,
  status: Joi.string().valid('completed', 'failed', 'cancelled'),
  trigger: Joi.string().valid(...RUN_TRIGGERS),
  started_at: nullable(timestamp),
  completed_at: timestamp,
  error_message: nullable(Joi.string()),
  files_transferred: count,
  bytes_transferred: count,
});

/** A drive as lsblk lists it (`GET /system/drives`). */
export const driveSchema = record({
  name: Joi.string(),
  device: Joi.string(),
  label: nullable(Joi.string()),
  uuid: Joi.string(),
  fstype: Joi.string(),
  size: Joi.string().description('As lsblk shows it, e.g. 64M'),
  size_bytes: count,
  mountpoint: nullable(Joi.string()),
}).label('Drive');

export const mountSchema = record({ device: Joi.string(), mountpoint: Joi.string(), fstype: Joi.string(), options: Joi.string() }).label('Mount');

export const dashboardSchema = record({
  generated_at: timestamp,
  jobs: Joi.array().items(
    record({
      job_id: id,
      name: Joi.string(),
      enabled: Joi.boolean(),
      destination_type: Joi.string(),
      state: Joi.string().valid(...JOB_STATES),
      overdue: Joi.boolean(),
      overdue_after_ms: nullable(count),
      consecutive_failures: count,
      last_success: nullable(finishedRunSummary),
      last_run: nullable(finishedRunSummary),
      active_run: nullable(record({ id, status: Joi.string().valid(...RUN_STATUSES), trigger: Joi.string().valid(...RUN_TRIGGERS), started_at: nullable(timestamp) })),
      next_run: nullable(timestamp),
      destination_space: record({ free_bytes: nullable(count), total_bytes: nullable(count), checked_at: nullable(timestamp) }),
      runs: record({ completed: count, failed: count, cancelled: count }),
    }).label('JobStatus'),
  ),
  drives: Joi.array().items(
    record({
      uuid: Joi.string(),
      label: nullable(Joi.string()),
      name: Joi.string(),
      device: Joi.string(),
      fstype: Joi.string(),
      size_bytes: count,
      mountpoint: nullable(Joi.string()),
      free_bytes: nullable(count),
      filesystem_bytes: nullable(count),
    }),
  ),
  totals: record({
    jobs: count,
    by_state: record(Object.fromEntries(JOB_STATES.map((state) => [state, count]))),
    runs_30d: count,
    failures_30d: count,
    bytes_30d: count,
  }),
  series: Joi.array().items(record({ date: Joi.string().pattern(/^\d{4}-\d{2}-\d{2}$/), runs: count, failures: count, bytes: count })),
}).label('Dashboard');

export const snapshotTreePageSchema = page(
  'entries',
  record({
    name: Joi.string(),
    type: Joi.string().valid('file', 'dir', 'symlink', 'other'),
    size: nullable(count).description('Bytes of a file (a symlink: its target\'s length); null for a folder'),
    mtime: timestamp,
  }),
)
  .keys({ path: Joi.string().allow('').required().description("The folder, relative to the snapshot's top ('' for the top)") })
  .label('SnapshotTreePage');

export const retentionPreviewSchema = record({
  keep: Joi.array().items(record({ id: Joi.string(), time: timestamp, reasons: Joi.array().items(keepReason) })),
  remove: Joi.array().items(record({ id: Joi.string(), time: timestamp })),
}).label('RetentionPreview');

export const folderListingSchema = record({
  path: Joi.string(),
  parent: nullable(Joi.string()).description('null at an allowed root'),
  entries: Joi.array().items(record({ name: Joi.string(), path: Joi.string(), is_dir: Joi.boolean(), size: nullable(count), modified: nullable(timestamp), is_link: Joi.boolean() })),
  truncated: Joi.boolean(),
}).label('FolderListing');

export const channelSchema = record({
  id,
  name: Joi.string(),
  kind: Joi.string(),
  enabled: Joi.boolean(),
  config: Joi.object().unknown(true).description('The non-secret fields, defaults filled in'),
  secrets_set: Joi.array().items(Joi.string()).description('The secret fields that are set (their values are never answered)'),
  created_at: timestamp,
  updated_at: timestamp,
}).label('Channel');

export const channelKindSchema = record({
  kind: Joi.string(),
  name: Joi.string(),
  description: Joi.string(),
  fields: Joi.array().items(record({ name: Joi.string(), required: Joi.boolean(), secret: Joi.boolean(), type: Joi.string().valid('text', 'number', 'boolean', 'list', 'number_or_text') })),
}).label('ChannelKind');

/** `POST /notifications/channels/:id/test`: a service that refuses is still a 200, with `ok: false`. */
export const channelTestSchema = record({ ok: Joi.boolean(), status: nullable(Joi.number().integer()), detail: Joi.string().allow('') }).label('ChannelTest');

export const alertRecordSchema = record({
  id,
  sent_at: timestamp,
  job_id: nullable(id),
  job_name: nullable(Joi.string()),
  event: Joi.string().valid(...ALERT_EVENTS),
  channel_id: id,
  channel_name: Joi.string(),
  channel_kind: Joi.string(),
  ok: Joi.boolean(),
  status: nullable(Joi.number().integer()),
  detail: Joi.string().allow(''),
  title: Joi.string(),
}).label('Alert');

export const alertPageSchema = page('items', alertRecordSchema).label('AlertPage');

export const pairingSchema = record({
  id,
  scope: Joi.string().valid(...API_KEY_SCOPES),
  name: nullable(Joi.string()),
  state: Joi.string().valid('pending', 'claimed', 'expired', 'cancelled'),
  created_at: timestamp,
  expires_at: timestamp,
  claimed_at: nullable(timestamp),
  key: nullable(record({ id, name: Joi.string() })).description('The key the claim made, once claimed'),
}).label('Pairing');

/** `POST /pairing`: the pairing, with its code and QR text given this once. */
export const startedPairingSchema = pairingSchema
  .keys({
    code: Joi.string().required(),
    qr_payload: Joi.string().required().description("The QR code's text (docs/API.md: Pairing)"),
    fingerprint_sha256: nullable(Joi.string()).required(),
    urls: Joi.array().items(Joi.string()).required(),
  })
  .label('StartedPairing');

/** `POST /pairing/claim`: the new key, and the certificate fingerprint to pin. */
export const pairedKeySchema = newApiKeySchema.keys({ fingerprint_sha256: nullable(Joi.string()).required() }).label('PairedApiKey');

export const importSummarySchema = record({
  message: Joi.string(),
  imported: record({ jobs: count, schedules: count, credentials: count, channels: count }),
  replaced_copy: nullable(Joi.string()).description('With `replace`: the sealed copy of the state replaced'),
  automatic_export: Joi.boolean(),
  disabled_jobs: Joi.array().items(Joi.string()).description('Jobs enabled on the exported box, imported disabled'),
}).label('ImportSummary');

/**
 * An answer that is not JSON: text of `mediaType` (the Prometheus exposition, an export file). The
 * document lists it under that media type; hapi checks that it is text.
 */
export function textBody(mediaType: string, description: string): Joi.StringSchema {
  return Joi.string().allow('').meta({ mediaType }).description(description);
}

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

/** Error statuses a route may declare beyond those the document gives every route (see `answers`). */
export const DECLARABLE_ERRORS = [401, 403, 404, 409, 429, 503] as const;
export type DeclaredError = (typeof DECLARABLE_ERRORS)[number];

/** Where `answers()` keeps a route's declared error statuses (`route.settings.app`). */
export interface AnswerDeclaration {
  errors?: readonly DeclaredError[];
}

/**
 * Route options declaring what a route answers with `status` (200 unless it creates or accepts):
 * hapi checks the answer, the OpenAPI document shows it. `errors` names the error statuses the
 * route gives beyond the ones every route's document derives (400 when it validates, 401 and 403
 * behind auth, 404 with an id in its path): a public login's 401 and 429, a conflict's 409 …
 * Spread into a route's `options`.
 */
export function answers(status: number, schema: Joi.Schema, errors: readonly DeclaredError[] = []): Pick<RouteOptions, 'response' | 'app'> {
  const declaration: AnswerDeclaration = { errors };
  return { response: { status: { [status]: schema } }, app: declaration };
}
