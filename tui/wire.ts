/**
 * What the daemon's API answers, as the terminal UI reads it: records of the public contract
 * (docs/API.md), written here as types only. The TUI is a client like the phone app, so it declares
 * the wire format itself instead of importing the daemon's types: nothing here comes from src/.
 * Fields the TUI does not read may be left out; a field listed is one the API always sends.
 */

/** ISO-8601 UTC time, e.g. "2026-01-05T02:00:00.000Z". */
export type Timestamp = string;

export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type RunTrigger = 'manual' | 'scheduled' | 'device' | 'restore' | 'verify' | 'prune';
export type LogLevel = 'info' | 'warning' | 'error';
export type Verbosity = 'quiet' | 'normal' | 'verbose';
export type ScheduleType = 'daily' | 'weekly' | 'monthly' | 'custom';
/** What a job's runs leave: one mirror, or dated hard-link snapshots (local/USB destinations). */
export type BackupMode = 'mirror' | 'snapshots' | 'repository';
/** What a schedule starts: a backup, or a verify of the job's newest snapshot. */
export type ScheduleAction = 'backup' | 'verify';

/** A job's sync options (GET /jobs/:id → sync_options). */
export interface SyncOptions {
  delete_extraneous: boolean;
  exclude_patterns: string[];
  bandwidth_limit_kbps: number | null;
  dry_run: boolean;
  verbosity: Verbosity;
}

/** A schedule (GET /jobs/:id/schedules, and in a job's `schedules`). */
export interface Schedule {
  id: number;
  job_id: number;
  enabled: boolean;
  schedule_type: ScheduleType;
  hour: number | null;
  minute: number | null;
  day_of_week: number | null;
  day_of_month: number | null;
  cron_expression: string | null;
  /** Null when disabled or never again. */
  next_run: Timestamp | null;
  created_at: Timestamp;
  action: ScheduleAction;
  /** 1–100 for a verify schedule; null for a backup. */
  verify_percent: number | null;
}

/** What a schedule create or update sends; the type is any word the owner typed, for the API to judge. */
export interface ScheduleBody {
  schedule_type: ScheduleType | (string & {});
  hour?: number | null;
  minute?: number | null;
  day_of_week?: number | null;
  day_of_month?: number | null;
  cron_expression?: string | null;
  enabled?: boolean;
  action?: ScheduleAction;
  verify_percent?: number | null;
}

/** A job's latest run, in the job's `last_run`. */
export interface RunSummary {
  id: number;
  status: RunStatus;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
}

/** A job (GET /jobs, GET /jobs/:id, and the answer to create, update and clone). */
export interface Job {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  source_dirs: string[];
  destination_type: string;
  /** Its shape depends on `destination_type`; its provider's `address` says how it reads as text. */
  destination_config: Record<string, unknown>;
  sync_options: SyncOptions;
  credential_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_run: RunSummary | null;
  schedules: Schedule[];
  backup_mode: BackupMode;
  retention: RetentionPolicy;
  /** Null for a mirror job, and until the job's folder has been read once. */
  snapshot_count: number | null;
  /** Null for a mirror job or one with no snapshot yet. */
  latest_snapshot_at: Timestamp | null;
}

/** What a job create or update sends (an update may send any subset). */
export interface JobBody {
  name?: string;
  description?: string;
  enabled?: boolean;
  source_dirs?: string[];
  destination_type?: string;
  destination_config?: Record<string, unknown>;
  sync_options?: Partial<SyncOptions>;
  credential_id?: number | null;
  backup_mode?: BackupMode;
  retention?: RetentionPolicy;
}

/** A run (GET /jobs/:id/runs, GET /runs/:id). */
export interface Run {
  id: number;
  job_id: number;
  job_name: string;
  status: RunStatus;
  trigger: RunTrigger;
  schedule_id: number | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  files_transferred: number;
  bytes_transferred: number;
  files_deleted: number;
  /** Why it failed or was cancelled; null when it completed. */
  error_message: string | null;
  /** A backup's or restore's progress against its plan; null before it transfers (absent from older daemons). */
  progress?: RunProgress | null;
  /** A verify run's figures (growing while it runs); null for every other run. */
  verify: VerifyFigures | null;
}

/** What a verify run checked and found (a run's `verify`). */
export interface VerifyFigures {
  snapshot_id: string;
  files_checked: number;
  bytes_read: number;
  mismatched: number;
  missing: number;
  unreadable: number;
}

/**
 * A job's retention policy (GET /jobs/:id/retention, a job's `retention`): counts are 0 (off), a
 * positive number, or -1 (unlimited); durations restic's notation ("30d", "1y6m") or null.
 */
export interface RetentionPolicy {
  keep_last: number;
  keep_hourly: number;
  keep_daily: number;
  keep_weekly: number;
  keep_monthly: number;
  keep_yearly: number;
  keep_within: string | null;
  keep_within_hourly: string | null;
  keep_within_daily: string | null;
  keep_within_weekly: string | null;
  keep_within_monthly: string | null;
  keep_within_yearly: string | null;
  /** Each entry: tags separated by commas, all required; "" matches snapshots without tags. */
  keep_tags: string[];
}

/** Why a policy keeps a snapshot: a policy field, `newest_successful` or `no_policy`. */
export interface KeepReason {
  rule: string;
  /** With `keep_tags`: the entry that matched. */
  tags?: string;
  /** A count rule that reached the oldest snapshot with buckets to spare. */
  oldest?: boolean;
}

/** A snapshot of a snapshots job (GET /jobs/:id/snapshots). */
export interface Snapshot {
  /** Its folder's name: the local time it was taken, with the offset ("2026-12-05T031500+0100"). */
  id: string;
  time: Timestamp;
  run_id: number | null;
  files: number;
  total_size: number;
  bytes_added: number;
  /** The reasons the job's current policy keeps it; [] when the next prune removes it. */
  kept_by: KeepReason[];
}

/** GET /jobs/:id/snapshots. */
export interface SnapshotList {
  snapshots: Snapshot[];
  total: number;
}

/** One entry of a snapshot's folder. */
export interface TreeEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Bytes of a file; null for the others. */
  size: number | null;
  mtime: Timestamp;
}

/** GET /jobs/:id/snapshots/:snapshot_id/tree: one page of a folder. */
export interface TreePage {
  path: string;
  entries: TreeEntry[];
  total: number;
  limit: number;
  offset: number;
}

/** POST /jobs/:id/retention/preview: what a policy keeps (newest first) and removes, changing nothing. */
export interface RetentionPreview {
  keep: Array<{ id: string; time: Timestamp; reasons: KeepReason[] }>;
  remove: Array<{ id: string; time: Timestamp }>;
}

/** What a verify sends: `{}` is the newest snapshot, every file. */
export interface VerifyBody {
  snapshot_id?: string;
  percent?: number;
}

/** The answer to starting a verify. */
export interface VerifyStarted {
  run_id: number;
  snapshot_id: string;
  message: string;
}

/** How far a transfer is (docs/API.md, Runs): null fields are not known (no plan, no rate yet). */
export interface RunProgress {
  /** 0–100; never goes backwards within an attempt. */
  percent: number | null;
  bytes_done: number;
  bytes_total: number | null;
  files_done: number;
  files_total: number | null;
  rate_bytes_per_s: number | null;
  eta_seconds: number | null;
}

/** One line of a run's log (GET /runs/:id/logs, and the log socket's `log` messages). */
export interface LogEntry {
  id: number;
  run_id: number;
  timestamp: Timestamp;
  level: LogLevel;
  message: string;
}

/** An attached drive (GET /system/drives). */
export interface Drive {
  name: string;
  device: string;
  label: string | null;
  uuid: string;
  fstype: string;
  /** As lsblk says it, e.g. "500G". */
  size: string;
  size_bytes: number;
  mountpoint: string | null;
}

/** A saved credential, without its secret (GET /credentials). */
export interface Credential {
  id: number;
  name: string;
  provider_type: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** What a credential create or update sends; `data` is write-only. */
export interface CredentialBody {
  name?: string;
  provider_type?: string;
  data?: Record<string, string>;
}

/**
 * How a destination type writes its `destination_config` as one line of text (docs/API.md,
 * "Addresses"): `scheme://user@host:port/path?query`, an absolute path when `scheme` is null, or
 * `scheme+` before an http(s) URL when `url` is set. Each part names the config field it fills.
 */
export interface AddressFormat {
  /** A valid address, shown as a hint. */
  example: string;
  scheme: string | null;
  user?: string;
  /** Lower-cased by URL rules. */
  host?: string;
  /** A number. */
  port?: string;
  /** Percent-decoded; without `host`, everything after `scheme://` is the path. */
  path?: string;
  /** Keep the path's leading '/' instead of dropping it. */
  absolute_path?: boolean;
  /** The field holding the http(s) URL written after `scheme+`. */
  url?: string;
  /** `?name=value` fills `field`; a `flag` is true when present and written bare. */
  query?: Array<{ name: string; field: string; type: 'text' | 'number' | 'flag' }>;
  /** The object field that collects any other query parameter. */
  other_query?: string;
  /** Values of the fields the address leaves out; a field equal to its default is not written. */
  defaults: Record<string, unknown>;
  /** Fields set beside the address (not in it), with the word a summary shows before each. */
  beside: Array<{ field: string; label: string }>;
}

/** One field of a provider's credential form. */
export interface CredentialField {
  key: string;
  label: string;
  /** Typed without echo unless false. */
  secret: boolean;
  required: boolean;
  /** The form asks for a file on this machine and sends what it holds. */
  from_file?: boolean;
  /** What to type or how to get it (e.g. the `rclone authorize` command). */
  help?: string;
}

/** A destination type (GET /providers). */
export interface Provider {
  type: string;
  name: string;
  description: string;
  requires_credentials: boolean;
  available: boolean;
  /** Why it is not available, when it is not. */
  reason?: string;
  /** What the owner should know (e.g. that it cannot be tested from the box). */
  note?: string;
  address: AddressFormat;
  /** Empty for a type without a credential form. */
  credential_fields: CredentialField[];
}

/** The settings (GET /settings). */
export interface Settings {
  max_runs_per_job: number;
  theme: 'dark' | 'light';
  /** IANA name; snapshot times are shown in it. */
  timezone: string;
  max_concurrent_runs: number;
}

/** GET /system/health as the owner sees it: the verdict and why (codes as in docs/API.md). */
export interface SystemHealth {
  status: 'ok' | 'degraded';
  version: string;
  reasons?: Array<{ code: string; message: string; job_id?: number; uuid?: string }>;
}

/** What the daemon says about itself (GET /system/info). */
export interface SystemInfo {
  version: string;
  https: boolean;
  /** SHA-256 of the HTTPS certificate, colon hex; null when HTTPS is off. */
  fingerprint_sha256: string | null;
  urls: string[];
}

/** The answer to starting a run. */
export interface RunStarted {
  run_id: number;
  message: string;
}

/** The answer to starting a restore. */
export interface RestoreStarted extends RunStarted {
  /** The real path the restore writes to. */
  target_dir: string;
}

/** What a restore sends. */
export interface RestoreBody {
  target_dir: string;
  paths?: string[];
  overwrite_sources?: boolean;
  /** A snapshots job's snapshot to restore from (default: the newest). */
  snapshot_id?: string;
}

/** The answer to a delete or another action with nothing else to say. */
export interface Message {
  message: string;
}

/** The answer to the password step of a login. */
export interface LoginAnswer {
  totp_required?: boolean;
  /** Present when `totp_required`: names the half-done login for the code step. */
  totp_token?: string;
}

/** GET /auth/setup-required. */
export interface SetupRequired {
  setup_required: boolean;
  /** True when setup from this client needs the code shown on the box. */
  setup_code_required?: boolean;
}

/** GET /auth/totp/status. */
export interface TotpStatus {
  enabled: boolean;
}

/** POST /auth/totp/setup. */
export interface TotpSetup {
  secret: string;
  otpauth_url: string;
}

/** POST /auth/totp/enable. */
export interface TotpEnabled {
  recovery_codes: string[];
}

/** The contract's error body. */
export interface ErrorBody {
  error: string;
  message: string;
  code: string;
}

/** A drive event on the status socket (plug-in at work). */
export interface DriveEventMessage {
  type: 'drive_connected' | 'drive_mounted' | 'drive_safe_to_remove' | 'drive_removed';
  uuid: string;
  device: string;
  label: string | null;
  /** True when an enabled job backs up to this drive on plug-in. */
  registered: boolean;
  /** With `drive_mounted` and `drive_safe_to_remove`. */
  mount_point?: string;
  /** With `drive_safe_to_remove`. */
  outcome?: 'completed' | 'failed';
}

/** A message of the status socket (/api/ws/status). */
export type StatusMessage =
  | { type: 'job_started'; job_id: number; run_id: number; job_name: string; trigger: RunTrigger }
  | { type: 'job_progress'; job_id: number; run_id: number; files_transferred: number; bytes_transferred: number; files_deleted: number; progress?: RunProgress | null; verify?: VerifyFigures }
  | {
      type: 'job_completed';
      job_id: number;
      run_id: number;
      job_name: string;
      status: RunStatus;
      files_transferred: number;
      bytes_transferred: number;
      files_deleted: number;
      error_message: string | null;
      /** A verify run's final figures. */
      verify?: VerifyFigures;
    }
  | { type: 'snapshot_created'; job_id: number; snapshot: Omit<Snapshot, 'kept_by'> }
  | { type: 'snapshot_removed'; job_id: number; snapshot_id: string }
  | DriveEventMessage;

/** A message of a run's log socket (/api/ws/logs/:run_id). */
export type LogSocketMessage =
  | ({ type: 'log' } & LogEntry)
  | { type: 'status'; run_id: number; status: RunStatus; files_transferred: number; bytes_transferred: number; files_deleted: number; error_message: string | null; verify?: VerifyFigures };

/** The scopes a paired app's key may get, weakest first. */
export type KeyScope = 'read' | 'operate' | 'admin';

/** GET /pairing/:id: a pairing's state; its code is only in the answer that started it. */
export interface Pairing {
  id: number;
  scope: KeyScope;
  name: string | null;
  state: 'pending' | 'claimed' | 'expired' | 'cancelled';
  created_at: string;
  expires_at: string;
  claimed_at: string | null;
  key: { id: number; name: string } | null;
}

/** POST /pairing: the pairing, its one-time code and what the QR code holds. */
/** `GET /jobs/:id/recovery-kit`: a repository job's way back without Cairn. */
export interface RecoveryKit {
  job_id: number;
  job_name: string;
  repository: string;
  password: string;
  tag: string;
  setup: string[];
  commands: { list: string; restore_latest: string; restore_snapshot: string; check: string };
  qr_text: string;
  generated_at: string;
}

export interface StartedPairing extends Pairing {
  code: string;
  qr_payload: string;
  fingerprint_sha256: string | null;
  urls: string[];
}

// ── dashboard, cross-job runs and notifications (issue 15) ────────────────────────────────────

/** A job's state on the dashboard, first that applies (docs/API.md "Dashboard"). */
export type JobState = 'running' | 'failing' | 'overdue' | 'never_run' | 'ok';

/** A run as the dashboard summarises it (`last_success`, `last_run`). */
export interface DashboardRun {
  run_id: number;
  status: RunStatus;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  error_message: string | null;
  bytes_transferred: number;
}

/** Free space where the destination's protocol says; `free_bytes` null when unknown. */
export interface DestinationSpace {
  free_bytes: number | null;
  total_bytes: number | null;
  checked_at: Timestamp | null;
}

/** One job on the dashboard (GET /dashboard → jobs). */
export interface DashboardJob {
  job_id: number;
  name: string;
  enabled: boolean;
  state: JobState;
  /** Given on its own too: a failing job can be overdue as well. */
  overdue: boolean;
  consecutive_failures: number;
  last_success: DashboardRun | null;
  last_run: DashboardRun | null;
  next_run: Timestamp | null;
  destination_space: DestinationSpace | null;
}

/** A drive on the dashboard: the drive listing with its filesystem's space while mounted. */
export interface DashboardDrive extends Drive {
  free_bytes: number | null;
  filesystem_bytes: number | null;
}

/** One calendar day of the 30-day series, oldest first, today last. */
export interface SeriesDay {
  date: string;
  runs: number;
  failures: number;
  bytes: number;
}

/** GET /dashboard: the home screen in one call. */
export interface Dashboard {
  generated_at: Timestamp;
  jobs: DashboardJob[];
  drives: DashboardDrive[];
  totals: { jobs: number; by_state: Record<JobState, number>; runs_30d: number; failures_30d: number; bytes_30d: number };
  series: SeriesDay[];
}

/** GET /runs: a page of every job's runs, newest first, with how many match in all. */
export interface RunsPage {
  runs: Run[];
  total: number;
  limit: number;
  offset: number;
}

/** A config field of a notification channel kind (GET /notifications/kinds). */
export interface ChannelField {
  name: string;
  required: boolean;
  /** Write-only: accepted, never returned; `secrets_set` says whether it is set. */
  secret: boolean;
  /** The JSON type to send (a daemon before this field had none: read as `text`). */
  type?: 'text' | 'number' | 'boolean' | 'list' | 'number_or_text';
}

/** A notification channel kind (GET /notifications/kinds). */
export interface ChannelKind {
  kind: string;
  name: string;
  description: string;
  fields: ChannelField[];
}

/** A notification channel, without its secrets (GET /notifications/channels). */
export interface Channel {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** The non-secret fields, defaults filled in. */
  config: Record<string, unknown>;
  /** The secret fields that are set. */
  secrets_set: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** What a channel create or update sends; on update `config` merges, `null` removes a key. */
export interface ChannelBody {
  name?: string;
  kind?: string;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

/** The answer to "send test": what the service said (a refusal is an answer, not an error). */
export interface ChannelTestAnswer {
  ok: boolean;
  /** The service's HTTP status or SMTP reply code; null when it could not be reached. */
  status: number | null;
  detail: string;
}

/** One alert sent or tried (GET /notifications/history → items). */
export interface AlertRecord {
  id: number;
  event: string;
  channel_id: number;
  channel_name: string;
  channel_kind: string;
  job_id: number | null;
  job_name: string | null;
  /** True when the service accepted it. */
  ok: boolean;
  status: number | null;
  /** The service's answer (an excerpt) or why there was none. */
  detail: string;
  /** The alert's one-line summary. */
  title: string;
  sent_at: Timestamp;
}

/** GET /notifications/history. */
export interface AlertHistoryPage {
  items: AlertRecord[];
  total: number;
  limit: number;
  offset: number;
}
