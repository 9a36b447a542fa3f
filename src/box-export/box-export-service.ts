/**
 * The box backs itself up (issue 16 item 7): Cairn's own state sealed with the owner's passphrase
 * (`export`), opened on a box into the same jobs, credentials, channels, schedules and settings
 * (`import`, or `importFromDestination` straight from where a backup is), and written next to the
 * backup after each successful run (`writeBesideBackup`). Every imported part goes through the
 * same service and rules as an API create, with its ids renumbered on the new box.
 */
import path from 'node:path';
import type Joi from 'joi';
import { credentialCreateSchema } from '../domain/credentials.ts';
import { conflict, invalid, isCairnError, CairnError } from '../domain/errors.ts';
import { jobInputSchema, type JobInput, type JobRecord } from '../domain/jobs.ts';
import { channelCreateSchema, type ChannelRecord } from '../domain/notifications.ts';
import type { RunRecord } from '../domain/runs.ts';
import { scheduleInputSchema, type ScheduleInput, type ScheduleRecord } from '../domain/schedules.ts';
import { settingsUpdateSchema, type Settings, type SettingsChange } from '../domain/settings.ts';
import { validateDestinationConfig } from '../destinations/index.ts';
import { folderNamesOf } from '../destinations/source-names.ts';
import type { Destination, HostKeyPins } from '../destinations/types.ts';
import { writeFileDurably } from '../store/index.ts';
import { BOX_STATE_FORMAT, BOX_STATE_VERSION, boxStateSchema, type BoxState } from './box-state.ts';
import type { ExportPassphrase } from './export-passphrase.ts';
import { open, readHeader, seal } from './sealed-file.ts';

/** The name of the export written beside a backup (in its folder, or at a remote destination's root) after each successful backup. */
export const BOX_EXPORT_FILE = '.cairn-box-export';
/** What an owner-chosen passphrase must be: long enough that scrypt's cost matters. */
export const PASSPHRASE_MIN_LENGTH = 12;
/** The largest export read or accepted: a box with hundreds of jobs is well under it. */
export const EXPORT_MAX_BYTES = 16 * 1024 * 1024;
/** How long writing or reading the export at a remote destination may take before it is given up. */
const REMOTE_TIMEOUT_MS = 120_000;

export interface BoxExportDependencies {
  jobs: {
    all(): readonly JobRecord[];
    create(input: JobInput): Promise<{ id: number }>;
    delete(id: number): Promise<void>;
    activeRunOf(jobId: number): RunRecord | undefined;
    /** A repository job's password in clear: the export carries it, or the new box could not open the repository. */
    repositoryPasswordOf(job: JobRecord): string;
  };
  schedules: { all(): readonly ScheduleRecord[]; create(jobId: number, input: ScheduleInput): Promise<unknown> };
  credentials: {
    list(): Array<{ id: number; name: string; provider_type: string }>;
    secretOf(id: number): Record<string, string>;
    create(input: { name: string; provider_type: string; data: Record<string, unknown> }): Promise<{ id: number }>;
    delete(id: number): Promise<void>;
  };
  channels: {
    all(): readonly ChannelRecord[];
    /** The channel's whole config, secret fields included. */
    fullConfigOf(channel: ChannelRecord): Record<string, unknown>;
    create(input: { name: string; kind: string; enabled: boolean; config: Record<string, unknown> }): Promise<{ id: number }>;
    delete(id: number): Promise<void>;
  };
  settings: { get(): Settings; update(change: SettingsChange): Promise<unknown> };
  passphrase: ExportPassphrase;
  destinationOf(type: string): Destination;
  /** The decrypted credential a job uses, or null. */
  secretOf(job: JobRecord): Promise<Record<string, string> | null>;
  /** Credential data typed for an import checked as a create would check it (400 naming what is wrong). */
  checkedSecret(type: string, data: unknown): Promise<Record<string, string>>;
  hostKeys: HostKeyPins;
  /** Where `import` with `replace` keeps a sealed copy of what it replaced. */
  dataDir: string;
  box: string;
  version: string;
}

/** What an import did. */
export interface ImportSummary {
  message: string;
  imported: { jobs: number; schedules: number; credentials: number; channels: number };
  /** With `replace`: the sealed copy of the state that was replaced (same passphrase); null otherwise. */
  replaced_copy: string | null;
  /** True when the box now writes an export after each backup (the file's box did). */
  automatic_export: boolean;
  /** Jobs enabled on the exported box, imported disabled (see `import`): the owner enables them after restoring. */
  disabled_jobs: string[];
}

/** Where `importFromDestination` reads the export: a destination as a job names it, and the credential data to reach it. */
export interface DestinationToImport {
  destination_type: string;
  destination_config: Record<string, unknown>;
  /** The credential's data, as a credential create takes it (used for this read, never stored as such). */
  credential_data: Record<string, unknown> | null;
}

/** What an import from a destination did, and which export it opened. */
export interface RemoteImportSummary extends ImportSummary {
  source: { where: string; box: string; created_at: string };
}

/** A part of the file checked and ready to create, with the id it had in the file. */
interface Prepared {
  credentials: Array<{ id: number; input: { name: string; provider_type: string; data: Record<string, unknown> } }>;
  channels: Array<{ id: number; input: { name: string; kind: string; enabled: boolean; config: Record<string, unknown> } }>;
  jobs: Array<{ id: number; input: JobInput }>;
  schedules: Array<{ jobId: number; input: ScheduleInput }>;
  settings: SettingsChange;
}

export class BoxExportService {
  /** One import at a time: two would both find the box empty and then collide halfway. */
  private importing = false;

  constructor(private readonly deps: BoxExportDependencies) {}

  /** The sealed export of the box's state under `passphrase` (the file's text); 400 for a passphrase too short. */
  async export(passphrase: string): Promise<string> {
    checkPassphrase(passphrase);
    return seal(Buffer.from(JSON.stringify(this.state()), 'utf8'), passphrase, { box: this.deps.box, cairnVersion: this.deps.version });
  }

  /**
   * Opens `file` with `passphrase` and recreates its state here. Refused (409 BOX_NOT_EMPTY) on a box
   * that has jobs, credentials or channels unless `replace`: then those are first sealed into a copy
   * in the data dir and deleted (409 RUN_IN_PROGRESS while any job runs). Everything is checked
   * before anything changes; a create that still fails undoes the ones before it. 409
   * IMPORT_IN_PROGRESS while another import runs. Every job arrives disabled: on a box rebuilt after
   * a disaster its sources are empty or missing until restored, and a scheduled or plug-in backup
   * of an empty source with deletes on would wipe the very backup being restored from.
   */
  async import(file: string, passphrase: string, options: { replace: boolean }): Promise<ImportSummary> {
    if (this.importing) throw conflict('IMPORT_IN_PROGRESS', 'Another import is under way; wait for it to finish');
    this.importing = true;
    try {
      return await this.importOnce(file, passphrase, options);
    } finally {
      this.importing = false;
    }
  }

  private async importOnce(file: string, passphrase: string, options: { replace: boolean }): Promise<ImportSummary> {
    const state = parseState(await open(file, passphrase));
    const prepared = prepare(state);
    const replacedCopy = await this.makeRoom(passphrase, options.replace);
    const imported = await this.create(prepared, replacedCopy);
    await this.deps.settings.update(remapSettings(prepared.settings, imported.channelIds));
    if (state.automatic_export) await this.deps.passphrase.set(passphrase);
    const counts = { jobs: prepared.jobs.length, schedules: prepared.schedules.length, credentials: prepared.credentials.length, channels: prepared.channels.length };
    const disabled = prepared.jobs.filter((job) => job.input.enabled).map((job) => job.input.name);
    const advice = disabled.length > 0 ? `; the jobs are disabled until you enable them: restore their files first, so that no backup of an empty folder replaces a backup` : '';
    return {
      message: `Imported ${counts.jobs} job(s), ${counts.schedules} schedule(s), ${counts.credentials} credential(s) and ${counts.channels} channel(s)${advice}`,
      imported: counts,
      replaced_copy: replacedCopy,
      automatic_export: this.deps.passphrase.isSet(),
      disabled_jobs: disabled,
    };
  }

  /**
   * After a successful backup: when the owner set an export passphrase, writes the latest export
   * beside the backup as `.cairn-box-export`: in the backup folder for a destination on this machine
   * (local, USB), at the destination's root for one that can keep a file there (`putBeside`: S3,
   * SFTP, WebDAV), whole or not at all. Where it went, or null when there is nothing to do. Throws
   * when the write fails (the caller logs it as a warning; the backup itself stands), and gives up
   * when `signal` aborts (the run cancelled, the daemon stopping) or after two minutes.
   */
  async writeBesideBackup(job: JobRecord, signal: AbortSignal = new AbortController().signal): Promise<string | null> {
    const passphrase = this.deps.passphrase.reveal();
    if (passphrase === null) return null;
    const destination = this.deps.destinationOf(job.destination_type);
    // The last local folder is the backup folder itself (the mount point comes first; see Destination.localFolders).
    const folder = destination.localFolders?.(job.destination_config).at(-1);
    if (folder) {
      const file = path.join(folder, BOX_EXPORT_FILE);
      const sealed = await this.export(passphrase);
      await writeFileDurably(file, sealed).catch((error: Error) => {
        throw new Error(`the box export could not be written to ${file} (${error.message}); the backup itself is complete`);
      });
      return file;
    }
    if (!destination.putBeside) return null;
    // A source of that name is backed up at `<root>/.cairn-box-export/`: the export must not land over it.
    if (folderNamesOf(job.source_dirs).includes(BOX_EXPORT_FILE)) {
      throw new Error(`the box export was not written: a source folder of this job is named ${BOX_EXPORT_FILE}; the backup itself is complete`);
    }
    const content = Buffer.from(await this.export(passphrase), 'utf8');
    const secret = await this.deps.secretOf(job);
    const within = AbortSignal.any([signal, AbortSignal.timeout(REMOTE_TIMEOUT_MS)]);
    return destination.putBeside(job.destination_config, secret, this.deps.hostKeys, { name: BOX_EXPORT_FILE, content, signal: within }).catch((error: Error) => {
      throw new Error(`the box export could not be written beside the backup (${error.message}); the backup itself is complete`);
    });
  }

  /**
   * `cairn import --from TYPE …` on a new box: reads the `.cairn-box-export` a box wrote at the
   * destination's root and imports it as `import` does (the passphrase checked before anything
   * changes). 400 IMPORT_SOURCE_UNSUPPORTED for a destination that keeps its backup on this machine
   * (import its file, or `--from-drive`); 400 when the config or credential data is not valid, or
   * when the server refuses the credential; 404 EXPORT_NOT_FOUND when no export can be read there.
   */
  async importFromDestination(from: DestinationToImport, passphrase: string, options: { replace: boolean }): Promise<RemoteImportSummary> {
    const destination = this.deps.destinationOf(from.destination_type);
    const config = validateDestinationConfig(from.destination_type, from.destination_config);
    // A backup on this machine is read as a file, where the allowed paths and the drive search apply.
    if (!destination.getBeside || (destination.localFolders?.(config).length ?? 0) > 0) {
      throw invalid('IMPORT_SOURCE_UNSUPPORTED', `That ${from.destination_type} backup is on this machine or a drive: import its ${BOX_EXPORT_FILE} file (cairn import FILE, or cairn import --from-drive PLACE)`);
    }
    const secret = from.credential_data === null ? null : await this.deps.checkedSecret(from.destination_type, from.credential_data);
    const signal = AbortSignal.timeout(REMOTE_TIMEOUT_MS);
    const content = await destination.getBeside(config, secret, this.deps.hostKeys, { name: BOX_EXPORT_FILE, maxBytes: EXPORT_MAX_BYTES, signal }).catch((error: unknown) => {
      throw unreadableExport(error, from.destination_type);
    });
    const text = content.toString('utf8');
    const header = readHeader(text);
    const summary = await this.import(text, passphrase, options);
    const where = destination.identity(config);
    return { ...summary, source: { where, box: header.box, created_at: header.created_at } };
  }

  /** The state as the file holds it: each part picked field by field, secrets decrypted. */
  private state(): BoxState {
    const { deps } = this;
    return {
      format: BOX_STATE_FORMAT,
      version: BOX_STATE_VERSION,
      settings: deps.settings.get(),
      automatic_export: deps.passphrase.isSet(),
      credentials: deps.credentials.list().map((credential) => ({ id: credential.id, name: credential.name, provider_type: credential.provider_type, data: deps.credentials.secretOf(credential.id) })),
      channels: deps.channels.all().map((channel) => ({ id: channel.id, name: channel.name, kind: channel.kind, enabled: channel.enabled, config: deps.channels.fullConfigOf(channel) })),
      jobs: deps.jobs.all().map((job) => ({
        id: job.id,
        name: job.name,
        description: job.description,
        enabled: job.enabled,
        source_dirs: [...job.source_dirs],
        destination_type: job.destination_type,
        destination_config: structuredClone(job.destination_config),
        sync_options: structuredClone(job.sync_options),
        credential_id: job.credential_id,
        backup_mode: job.backup_mode,
        retention: structuredClone(job.retention),
        notify: structuredClone(job.notify ?? {}),
        ...(job.repository_password_sealed === undefined ? {} : { repository_password: deps.jobs.repositoryPasswordOf(job) }),
      })),
      schedules: deps.schedules.all().map((schedule) => ({
        job_id: schedule.job_id,
        schedule_type: schedule.schedule_type,
        enabled: schedule.enabled,
        action: schedule.action ?? 'backup',
        verify_percent: schedule.verify_percent ?? null,
        hour: schedule.hour,
        minute: schedule.minute,
        day_of_week: schedule.day_of_week,
        day_of_month: schedule.day_of_month,
        cron_expression: schedule.cron_expression,
      })),
    };
  }

  /** Refuses a box that holds state unless `replace`; then seals a copy of it and clears it. The copy's path, or null. */
  private async makeRoom(passphrase: string, replace: boolean): Promise<string | null> {
    const { jobs, credentials, channels } = this.deps;
    const held = { jobs: jobs.all().length, credentials: credentials.list().length, channels: channels.all().length };
    if (held.jobs + held.credentials + held.channels === 0) return null;
    if (!replace) {
      throw conflict(
        'BOX_NOT_EMPTY',
        `This box already has ${held.jobs} job(s), ${held.credentials} credential(s) and ${held.channels} channel(s); import into an empty box, or replace them (replace: true / --replace)`,
        { details: held },
      );
    }
    const busy = jobs.all().find((job) => jobs.activeRunOf(job.id));
    if (busy) throw conflict('RUN_IN_PROGRESS', `Job "${busy.name}" has a run in progress; wait for it or cancel it before replacing the box's state`);
    const copy = path.join(this.deps.dataDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}${BOX_EXPORT_FILE}`);
    await writeFileDurably(copy, await this.export(passphrase));
    // Channels used by the default rules cannot be deleted; the imported settings set the rules again.
    await this.deps.settings.update({ notify: { channel_ids: [] } });
    for (const job of [...jobs.all()]) await jobs.delete(job.id);
    for (const credential of credentials.list()) await credentials.delete(credential.id);
    for (const channel of [...channels.all()]) await channels.delete(channel.id);
    return copy;
  }

  /** Creates every prepared part with new ids; on a failure, deletes what it made and throws naming the part. */
  private async create(prepared: Prepared, replacedCopy: string | null): Promise<{ channelIds: Map<number, number> }> {
    const { deps } = this;
    const undo: Array<() => Promise<void>> = [];
    const credentialIds = new Map<number, number>();
    const channelIds = new Map<number, number>();
    const jobIds = new Map<number, number>();
    let part = '';
    try {
      for (const { id, input } of prepared.credentials) {
        part = `credential "${input.name}"`;
        const created = await deps.credentials.create(input);
        credentialIds.set(id, created.id);
        undo.push(() => deps.credentials.delete(created.id));
      }
      for (const { id, input } of prepared.channels) {
        part = `channel "${input.name}"`;
        const created = await deps.channels.create(input);
        channelIds.set(id, created.id);
        undo.push(() => deps.channels.delete(created.id));
      }
      for (const { id, input } of prepared.jobs) {
        part = `job "${input.name}"`;
        const created = await deps.jobs.create({ ...remapJob(input, credentialIds, channelIds), enabled: false });
        jobIds.set(id, created.id);
        undo.push(() => deps.jobs.delete(created.id));
      }
      for (const { jobId, input } of prepared.schedules) {
        part = `a schedule of job ${jobId}`;
        await deps.schedules.create(jobIds.get(jobId)!, input);
      }
    } catch (error) {
      // Jobs go first (their schedules with them), then what they used.
      for (const step of undo.reverse()) await step().catch(() => undefined);
      const after = replacedCopy ? ` The replaced state is kept, sealed with the same passphrase, in ${replacedCopy}.` : '';
      if (isCairnError(error)) throw new CairnError(error.kind, error.code, `The export's ${part} could not be imported: ${error.message}; nothing was imported.${after}`);
      throw error;
    }
    return { channelIds };
  }
}

/**
 * Why the export at a destination could not be read, for the person who typed its address and
 * credential: their mistakes (a refused credential, a wrong folder) are 400/404, never a 401 that a
 * client would take for its own session ending.
 */
function unreadableExport(error: unknown, type: string): unknown {
  if (!isCairnError(error)) return new CairnError('unavailable', 'EXPORT_NOT_READ', `No box export could be read there: ${(error as Error).message}`);
  if (error.code === 'AUTHENTICATION_FAILED' || error.kind === 'forbidden') return new CairnError('invalid', error.code, `The ${type} server refused the credential: ${error.message}`);
  if (error.kind === 'not_found' || error.kind === 'unavailable') {
    return new CairnError(error.kind === 'not_found' ? 'not_found' : 'unavailable', error.kind === 'not_found' ? 'EXPORT_NOT_FOUND' : error.code, `No box export could be read there: ${error.message}`, { retryable: error.retryable });
  }
  return error;
}

/** 400 PASSPHRASE_TOO_SHORT under PASSPHRASE_MIN_LENGTH characters. */
export function checkPassphrase(passphrase: string): void {
  if ([...passphrase].length < PASSPHRASE_MIN_LENGTH) {
    throw invalid('PASSPHRASE_TOO_SHORT', `The export passphrase must have at least ${PASSPHRASE_MIN_LENGTH} characters: it alone protects every credential in the file`);
  }
}

function parseState(plaintext: Buffer): BoxState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw invalid('EXPORT_UNREADABLE', 'The box export opened but does not hold JSON');
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > BOX_STATE_VERSION) {
    throw invalid('EXPORT_UNREADABLE', `The box export holds state version ${version}, written by a newer Cairn; this one reads version ${BOX_STATE_VERSION}`);
  }
  const { error, value } = boxStateSchema.validate(parsed, { convert: false });
  if (error) throw invalid('EXPORT_UNREADABLE', `The box export's content is not as expected: ${error.details[0]?.message ?? 'invalid'}`);
  return value as BoxState;
}

/** Each part checked with its route's schema and its references checked inside the file; 400 EXPORT_INVALID naming the part. */
function prepare(state: BoxState): Prepared {
  const check = <T>(schema: Joi.ObjectSchema, value: unknown, part: string): T => {
    const { error, value: checked } = schema.prefs({ convert: false }).validate(value);
    if (error) throw invalid('EXPORT_INVALID', `The export's ${part} is not valid: ${error.details[0]?.message ?? 'invalid'}`);
    return checked as T;
  };
  const credentialIds = new Set(state.credentials.map((credential) => credential.id));
  const channelIds = new Set(state.channels.map((channel) => channel.id));
  const jobIds = new Set(state.jobs.map((job) => job.id));
  const refuse = (message: string) => invalid('EXPORT_INVALID', `The export ${message}`);
  const checkChannels = (ids: readonly number[] | undefined, part: string) => {
    const unknown = (ids ?? []).find((channelId) => !channelIds.has(channelId));
    if (unknown !== undefined) throw refuse(`names channel ${unknown} in ${part}, which it does not hold`);
  };

  const jobs = state.jobs.map(({ id, ...job }) => {
    const input = check<JobInput>(jobInputSchema, job, `job "${job.name}"`);
    if (input.credential_id !== null && !credentialIds.has(input.credential_id)) throw refuse(`names credential ${input.credential_id} in job "${input.name}", which it does not hold`);
    checkChannels(input.notify?.channel_ids, `job "${input.name}"`);
    return { id, input };
  });
  const schedules = state.schedules.map(({ job_id, ...schedule }) => {
    if (!jobIds.has(job_id)) throw refuse(`has a schedule of job ${job_id}, which it does not hold`);
    return { jobId: job_id, input: check<ScheduleInput>(scheduleInputSchema, schedule, `schedule of job ${job_id}`) };
  });
  // A file's settings never choose the export passphrase: the one an import may set is the passphrase
  // that opened it (see `importOnce`), or a crafted file could seal this box's later secrets under its own.
  const settings = check<SettingsChange>(settingsUpdateSchema.fork('export_passphrase', (key) => key.forbidden()), state.settings, 'settings');
  checkChannels(settings.notify?.channel_ids, 'the default alert rules');
  return {
    credentials: state.credentials.map(({ id, ...credential }) => ({ id, input: check(credentialCreateSchema, credential, `credential "${credential.name}"`) })),
    channels: state.channels.map(({ id, ...channel }) => ({ id, input: check(channelCreateSchema, channel, `channel "${channel.name}"`) })),
    jobs,
    schedules,
    settings,
  };
}

function remapJob(input: JobInput, credentialIds: Map<number, number>, channelIds: Map<number, number>): JobInput {
  const notify = input.notify?.channel_ids ? { ...input.notify, channel_ids: input.notify.channel_ids.map((id) => channelIds.get(id)!) } : input.notify;
  return { ...input, credential_id: input.credential_id === null ? null : credentialIds.get(input.credential_id)!, notify };
}

function remapSettings(settings: SettingsChange, channelIds: Map<number, number>): SettingsChange {
  if (!settings.notify?.channel_ids) return settings;
  return { ...settings, notify: { ...settings.notify, channel_ids: settings.notify.channel_ids.map((id) => channelIds.get(id)!) } };
}
