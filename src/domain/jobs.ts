/** Backup jobs: what a job is, and the rules for the parts that do not depend on the destination type. */
import path from 'node:path';
import Joi from 'joi';
import { notifyOverridesSchema, type NotifyOverrides } from './notifications.ts';
import { emptyRetentionPolicy, type RetentionPolicy } from './retention.ts';
import { retentionPolicySchema } from './retention-schema.ts';

export type Verbosity = 'quiet' | 'normal' | 'verbose';
export const VERBOSITIES: readonly Verbosity[] = ['quiet', 'normal', 'verbose'];

/**
 * What a run leaves on the destination. `mirror`: one copy kept in step with the sources (a deletion
 * reaches it at the next run). `snapshots`: a new dated, complete folder per run on a local/USB
 * drive, unchanged files hard-linked to the previous one, old ones removed by the job's retention.
 * `repository`: an encrypted, deduplicated restic-format repository, which the stock `restic` reads.
 */
export type BackupMode = 'mirror' | 'snapshots' | 'repository';
export const BACKUP_MODES: readonly BackupMode[] = ['mirror', 'snapshots', 'repository'];

/** The job's `sync_options`, validated. */
export interface SyncOptions {
  /** Remove destination files that are no longer in the source. */
  delete_extraneous: boolean;
  /** rsync-style patterns (`*.tmp`, `.cache`, `/top-only`, `dir/`), matched under each source. */
  exclude_patterns: string[];
  /** Upload limit in KiB/s; null or 0 means unlimited. */
  bandwidth_limit_kbps: number | null;
  /** Report what would change; write and delete nothing. */
  dry_run: boolean;
  /** quiet: summary and problems only; normal: one line per changed file; verbose: also the tool's detail. */
  verbosity: Verbosity;
  /**
   * Times a backup or restore that failed with a transient error (a network or server failure) is
   * tried again, 0–10. A drive that is not plugged in is not transient: its run fails at once.
   * Absent on jobs stored before retries existed (and in code that builds options by hand): the default.
   */
  retry_attempts?: number;
  /** Seconds before the first retry, 1–3600; each next pause is four times longer (at most an hour). Absent: the default. */
  retry_delay_seconds?: number;
  /**
   * Local/USB jobs: count what will be sent (an rsync dry pass) before copying, so progress has a
   * percent and time left. Off by default: the pass reads both trees' metadata again, which nearly
   * doubles a nightly run that changes little (bench/copy-plan.ts, bench/snapshot-runs.ts). Remote
   * jobs always count: their plan costs a listing they mostly have already. Absent: false.
   */
  count_first?: boolean;
}

/** Retries when a job does not say (also for jobs stored before the options existed). */
export const DEFAULT_RETRY_ATTEMPTS = 2;
/** The first pause when a job does not say: 30 s, then 2 min. */
export const DEFAULT_RETRY_DELAY_SECONDS = 30;

/** The job's options with the fields a job stored before them lacks (retries, count_first) filled with the defaults. */
export function withOptionDefaults(options: SyncOptions): SyncOptions & Required<Pick<SyncOptions, 'retry_attempts' | 'retry_delay_seconds' | 'count_first'>> {
  return {
    ...options,
    retry_attempts: options.retry_attempts ?? DEFAULT_RETRY_ATTEMPTS,
    retry_delay_seconds: options.retry_delay_seconds ?? DEFAULT_RETRY_DELAY_SECONDS,
    count_first: options.count_first ?? false,
  };
}

export interface JobRecord {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  /** Absolute folders; each lands in `<destination>/<basename>`. */
  source_dirs: string[];
  destination_type: string;
  destination_config: Record<string, unknown>;
  sync_options: SyncOptions;
  credential_id: number | null;
  backup_mode: BackupMode;
  /** Which snapshots a `snapshots` job keeps; the empty policy keeps them all. */
  retention: RetentionPolicy;
  /** Alert rules of this job over the settings' defaults (`{}` or absent: the defaults). */
  notify?: NotifyOverrides;
  /** A `repository` job's password, vault-encrypted (jobs/repository-password.ts); never in clear, never shown. */
  repository_password_sealed?: string;
  created_at: string;
  updated_at: string;
}

/** The fields a client may send when creating or updating a job. */
export type JobInput = Pick<
  JobRecord,
    | 'name'
  | 'description'
  | 'enabled'
  | 'source_dirs'
  | 'destination_type'
  | 'destination_config'
  | 'sync_options'
  | 'credential_id'
  | 'backup_mode'
  | 'retention'
  | 'notify'
  | 'repository_password_sealed'
> & {
  /** Write-only: the repository's password as the client gave it; never stored as such (sealed by the job service). */
  repository_password?: string;
};

export const JOB_NAME_MAX = 100;

// Control characters would corrupt rsync's filter rules and the logs; a pattern is one line of text.
const noControlCharacters = /^[^\u0000-\u001f\u007f]*$/;

const sourceDir = Joi.string()
  .max(4096)
  .custom((value: string, helpers) => {
    if (!path.isAbsolute(value) || value.includes('\0')) return helpers.error('source.absolute');
    const normalized = path.resolve(value);
    if (path.basename(normalized) === '') return helpers.error('source.root');
    return normalized;
  })
  .messages({
    'source.absolute': '{{#label}} must be an absolute path such as /home/user/documents',
    'source.root': '{{#label}} cannot be the root folder itself; name the folders to back up',
  });

export const syncOptionsSchema = Joi.object({
  delete_extraneous: Joi.boolean().default(false),
  exclude_patterns: Joi.array()
    .items(
      Joi.string()
        .min(1)
        .max(1000)
        .pattern(noControlCharacters)
        .messages({ 'string.pattern.base': '{{#label}} must not contain control characters such as newlines' }),
    )
    .max(500)
    .default([]),
  bandwidth_limit_kbps: Joi.number().integer().min(0).max(10_000_000).allow(null).default(null),
  dry_run: Joi.boolean().default(false),
  verbosity: Joi.string()
    .valid(...VERBOSITIES)
    .default('normal'),
  retry_attempts: Joi.number().integer().min(0).max(10).default(DEFAULT_RETRY_ATTEMPTS),
  retry_delay_seconds: Joi.number().integer().min(1).max(3600).default(DEFAULT_RETRY_DELAY_SECONDS),
  count_first: Joi.boolean().default(false),
}).default();

/** Fields of a job read from a stored record that a client may send back but cannot change. */
export const READ_ONLY_JOB_FIELDS = ['id', 'created_at', 'updated_at', 'last_run', 'schedules', 'snapshot_count', 'latest_snapshot_at', 'repository_password_set'] as const;

/** A repository password a client may give: long enough to resist guessing, one line of printable text. */
export const REPOSITORY_PASSWORD_MIN = 8;

/**
 * A job body. `destination_config` is only checked to be an object here; the destination
 * registry checks it against the type's own schema.
 */
export const jobInputSchema = Joi.object({
  name: Joi.string().trim().min(1).max(JOB_NAME_MAX).pattern(noControlCharacters).required(),
  description: Joi.string().allow('').max(2000).default(''),
  enabled: Joi.boolean().default(true),
  source_dirs: Joi.array().items(sourceDir).min(1).max(100).required(),
  destination_type: Joi.string().max(50).required(),
  destination_config: Joi.object().unknown(true).required(),
  sync_options: syncOptionsSchema,
  credential_id: Joi.number().integer().min(1).allow(null).default(null),
  backup_mode: Joi.string()
    .valid(...BACKUP_MODES)
    .default('mirror'),
  retention: retentionPolicySchema.default(() => emptyRetentionPolicy()),
  notify: notifyOverridesSchema.default(() => ({})),
  repository_password: Joi.string()
    .min(REPOSITORY_PASSWORD_MIN)
    .max(1024)
    .pattern(noControlCharacters)
    .messages({ 'string.pattern.base': '"repository_password" must be one line without control characters' }),
  ...Object.fromEntries(READ_ONLY_JOB_FIELDS.map((field) => [field, Joi.any().strip()])),
});

/** Each source lands in `<destination>/<basename>`, so two sources with one basename would overwrite each other. */
export function duplicateBasenames(sourceDirs: string[]): string[] {
  const seen = new Map<string, number>();
  for (const dir of sourceDirs) seen.set(path.basename(dir), (seen.get(path.basename(dir)) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([name]) => name);
}
