/**
 * The one interface every destination implements (local/USB via rsync, S3, SFTP, WebDAV …).
 * The run manager, the API and the TUI read `capabilities` and `describe()`; they never branch on type.
 */
import type Joi from 'joi';
import type { SyncOptions, Verbosity } from '../domain/jobs.ts';
import type { LogLevel, TransferPlan, TransferTotals } from '../domain/runs.ts';

/** What a destination can really do; the API's provider capabilities are exactly these. */
export interface DestinationCapabilities {
  supports_delete: boolean;
  supports_compression: boolean;
  supports_checksum: boolean;
  supports_bandwidth_limit: boolean;
  supports_exclude_patterns: boolean;
  supports_incremental: boolean;
  supports_dry_run: boolean;
  requires_credentials: boolean;
}

export interface DestinationDescription {
  type: string;
  name: string;
  description: string;
  requires_credentials: boolean;
}

/**
 * How a destination_config is written as one line (`sftp://user@host:22/path`, `s3://bucket/prefix?region=…`),
 * as data, so that any client (the TUI, a phone app) shows and reads addresses with one generic
 * interpreter and no switch on type. `GET /providers` serves it as `address`; docs/API.md gives the rules.
 */
export interface AddressFormat {
  /** A valid address, shown as a hint. */
  example: string;
  /** The address starts `<scheme>://`; null: the address is an absolute path (the `path` field, verbatim). */
  scheme: string | null;
  /** Config field holding the URL's user name. */
  user?: string;
  /** Config field holding the URL's host (lower-cased by URL rules: only for names that are). */
  host?: string;
  /** Config field holding the URL's port (a number). */
  port?: string;
  /** Config field holding the URL's path, percent-decoded; without `host`, everything after `scheme://` is the path. */
  path?: string;
  /** Keep the path's leading '/' (an absolute path on a server) instead of dropping it. */
  absolute_path?: boolean;
  /** Config field holding an http(s) URL written after `<scheme>+`: `webdav+https://host/dav`. */
  url?: string;
  /** Query parameters: `?name=value` fills `field`; a `flag` is true when present, written bare (`?key`). */
  query?: Array<{ name: string; field: string; type: 'text' | 'number' | 'flag' }>;
  /** Any other query parameter goes into this object field (name → text). */
  other_query?: string;
  /** Values of fields the address leaves out; a field equal to its default is not written. */
  defaults: Record<string, unknown>;
  /** Fields a form sets beside the address (not in it), with the label a summary shows them under. */
  beside: Array<{ field: string; label: string }>;
}

/** One field of the credential form, as `GET /providers` serves it (from the credential schema). */
export interface CredentialField {
  key: string;
  label: string;
  /** False only for a field that is not secret (a user name, an access key id): shown as typed. */
  secret: boolean;
  required: boolean;
  /** The form asks for a file on the client's machine and sends what it holds (a private key). */
  from_file?: boolean;
  /** What to type or how to get it (e.g. the `rclone authorize` command). */
  help?: string;
}

/**
 * What the shared contract suite may expect of a destination beyond `capabilities`: `true`, or the
 * reason it cannot (the suite prints the reason and skips that test).
 */
export interface DestinationGuarantees {
  /** An edit that keeps the size (a later modification time) is still sent. */
  sees_same_size_edits: true | string;
  /** An edit that keeps the size, within the same second as the last run, is still sent. */
  sees_same_second_edits: true | string;
  /** A source file that changes while it is sent leaves the earlier copy at the destination whole. */
  keeps_old_copy_when_source_changes: true | string;
  /** It talks to a server that can go away mid-run (and says so clearly when it does). */
  has_server: true | string;
}

/** A local/USB destination's drive: what the plug-in policy mounts, and when. */
export interface RemovableDrive {
  uuid: string;
  mount_point: string;
  auto_mount: boolean;
  auto_unmount: boolean;
}

export type { SyncOptions, Verbosity } from '../domain/jobs.ts';

export interface SyncContext<Config> {
  /** The job's `destination_config`, already validated against `configSchema`. */
  config: Config;
  /** Decrypted credential data, or null when the destination needs none. Never log it. */
  secret: Record<string, string> | null;
  /** The job's source folders as saved; each lands in `<destination>/<basename of source>`. */
  sources: string[];
  /**
   * The real path of each source, in the same order, resolved and checked against the allowed paths
   * when the run started. Read from these, never from `sources`: a link there may have been swapped.
   */
  realSources: string[];
  options: SyncOptions;
  /** Aborted when the run is cancelled or the daemon stops. */
  signal: AbortSignal;
  /**
   * A file this destination may use to remember what it sent for this job (remote destinations do;
   * local ones keep each source's entry count there, for the next run's progress share).
   */
  stateFile: string;
  hostKeys: HostKeyPins;
  /** Appends a line to the run's log. */
  log(level: LogLevel, message: string): void;
  /** Reports cumulative totals so far; may be called often (the run manager throttles). */
  progress(totals: TransferTotals): void;
  /**
   * Tells what this sync will send (files and bytes of content, counted the way its totals count
   * them), once, before it sends anything, so progress can be shown as a share of it. Optional on
   * both sides: a destination that cannot know leaves progress without a percent.
   */
  plan?(plan: TransferPlan): void;
  /**
   * Tells how far through its work the sync is (0–1, never less than before), for a destination
   * that cannot say what it will send before sending (local: rsync's progress through its file
   * list). Optional on both sides; a plan, when given, is the better measure.
   */
  advanced?(share: number): void;
}

/**
 * Host keys of servers seen before (SSH): the first successful connection pins the key, and a later
 * different key is refused, since it means another machine answers for that host.
 */
export interface HostKeyPins {
  /** `pinned` when this is the first key seen for `host` (now pinned), `matched`, or `mismatch` (refuse). */
  check(host: string, fingerprint: string): Promise<'pinned' | 'matched' | 'mismatch'>;
}

/** A restore: the job's backup (or some of it) copied back from the destination into `target`. */
export interface RestoreContext<Config> {
  config: Config;
  secret: Record<string, string> | null;
  /** The job's sources: their folder names are the top-level folders of the backup. */
  sources: string[];
  /** Real path of an existing folder; each source's backup lands in `<target>/<source name>/`. */
  target: string;
  /** Paths inside the backup (`<source name>/<path>`, file or folder) to restore; null for everything. */
  paths: string[] | null;
  /**
   * For a snapshots job: the id of the snapshot to read (destinations with `snapshotFolder` only),
   * checked against the destination's own listing when the restore starts; absent: the backup itself.
   */
  snapshot?: string;
  hostKeys: HostKeyPins;
  /** The job's verbosity: which files the log names. */
  verbosity: Verbosity;
  signal: AbortSignal;
  log(level: LogLevel, message: string): void;
  progress(totals: TransferTotals): void;
}

/** A small file a destination keeps beside its backup (see `Destination.putBeside`). */
export interface BesideFile {
  /** A plain file name (no '/'), the same at every destination. */
  name: string;
  content: Buffer;
  signal: AbortSignal;
}

/** Space at a destination as its protocol reports it. */
export interface DestinationSpace {
  /** Bytes a backup can still write there (for the user Cairn logs in as, where the protocol says). */
  free_bytes: number;
  /** The size of the filesystem or quota; null when the protocol does not say. */
  total_bytes: number | null;
}

export interface ConnectionTestResult {
  message: string;
  details: Record<string, unknown> | null;
}

export interface Destination<Config = Record<string, unknown>> {
  readonly type: string;
  describe(): DestinationDescription;
  readonly capabilities: DestinationCapabilities;
  readonly guarantees: DestinationGuarantees;
  /**
   * Null when this destination can be used on this machine; else why not (e.g. a program that is not
   * installed). `GET /providers` lists it with `available: false` and this reason.
   */
  unavailableReason(): string | null;
  /** Said in `GET /providers` as `note`: what a user should know before relying on it (null: nothing). */
  readonly note: string | null;
  /** joi schema of `destination_config` for this type; unknown keys refused. */
  readonly configSchema: Joi.ObjectSchema;
  /**
   * joi schema of the credential `data` for this type (null: it takes no credential). Each key may
   * carry `.meta({ label, secret: false, help })`; every key not marked `secret: false` is secret, so
   * `secretFields` and the credential form both come from here.
   */
  readonly credentialSchema: Joi.ObjectSchema | null;
  readonly address: AddressFormat;
  /** The drive this config backs up to, when it is a removable one the plug-in policy handles; else null. */
  removableDrive?(config: Config): RemovableDrive | null;
  /**
   * The folders on this machine a config makes the daemon write to or read a backup from (the mount
   * point and the backup folder below it), checked against the allowed paths when a job is saved and
   * when a run starts. Absent for destinations that keep nothing on this machine.
   */
  localFolders?(config: Config): string[];
  /** Names the place a config writes to (type, host, folder …): two jobs with the same identity share it. */
  identity(config: Config): string;
  /**
   * Present on destinations that can keep hard-link snapshots (`backup_mode: "snapshots"`): the real
   * path of the job's backup folder, which holds its snapshot folders, after checking the drive is
   * mounted and the folder stays inside it. With `create`, missing folders below the mount point are
   * made; without, a missing folder is answered by a path that does not exist (no snapshots yet).
   */
  snapshotFolder?(config: Config, create: boolean): Promise<string>;
  /** Names of credential fields that are secret (derived from `credentialSchema`), redacted from every log. */
  readonly secretFields: readonly string[];
  /**
   * Checks credential data beyond its shape before it is saved or used for a test (optional): e.g.
   * that a private key can be read. Throws a CairnError of kind `invalid` saying what is wrong and
   * what is accepted, never quoting the secret. Connects to nothing.
   */
  checkSecret?(secret: Record<string, string>): Promise<void>;
  /**
   * Free space at the destination where its protocol can tell (optional; absent: unknown, as for
   * S3). Resolves null when the server does not report it (a WebDAV server without RFC 4331 quota
   * properties) or the folder cannot be reached now (a drive not mounted); throws CairnError when the
   * connection fails. Writes nothing. Each call may open a connection: callers cache the answer.
   */
  freeSpace?(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins): Promise<DestinationSpace | null>;
  /**
   * Present on destinations that keep the backup away from this machine (the remote ones): stores
   * `content` as the file `name` at the destination's root, beside the sources' folders, where no
   * sync lists, sends or deletes anything (each source syncs `<root>/<source name>/` only). The file
   * is whole under `name` or not there, even when `signal` aborts. Resolves to where it went, for a
   * log line (no secrets). Used for the box's own export (issue 16).
   */
  putBeside?(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins, file: BesideFile): Promise<string>;
  /**
   * The content of the file `name` at the destination's root (what `putBeside` stored), refused
   * (CairnError) above `maxBytes`; throws the destination's CairnError when it cannot be read.
   */
  getBeside?(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins, file: { name: string; maxBytes: number; signal: AbortSignal }): Promise<Buffer>;
  /** Checks that the destination is reachable and writable; throws CairnError saying what is wrong. */
  test(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins): Promise<ConnectionTestResult>;
  /**
   * Makes the destination hold a copy of every source, incrementally, and returns the final totals.
   * - Throws a CairnError whose message tells the user what failed (the run becomes `failed`).
   * - When `signal` aborts, stops promptly (child processes ended, no partial file left under a final
   *   name) and rejects with `signal.reason` (the run becomes `cancelled`).
   * - A file that changes while it is copied is either copied whole or reported; a source that
   *   vanishes is reported in the log and is not an error of the run.
   */
  sync(context: SyncContext<Config>): Promise<TransferTotals>;
  /**
   * Copies the backup back into `context.target`, whole files only (each written beside its final
   * name and renamed into place), and returns the totals (files_deleted is always 0: a restore never
   * deletes). Throws CairnError when nothing matches `paths` or the destination cannot be read.
   */
  restore(context: RestoreContext<Config>): Promise<TransferTotals>;
}
