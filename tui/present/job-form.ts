/**
 * The job form's fields: a job ↔ the text in each field, and which field an API error is about.
 * The destination is one address line and the fields set beside it (a local folder's subfolder and
 * USB UUID), all read from the providers' address formats, so no destination type is named here.
 */
import type { BackupMode, Job, Provider, RetentionPolicy, SyncOptions } from '../wire.ts';
import { AddressError, formatAddress, parseAddress } from './address.ts';
import type { JobSummary } from './jobs.ts';
import { parseRetentionText, RetentionTextError, retentionText } from './retention.ts';
import { scheduleText } from './schedule-text.ts';

/** A field of the form: `key` names it in the values, errors and the body it becomes. */
export interface JobFormField {
  key: string;
  label: string;
}

const BEFORE: JobFormField[] = [
  { key: 'name', label: 'Name' },
  { key: 'sources', label: 'Sources' },
  { key: 'destination', label: 'Destination' },
  { key: 'credential', label: 'Credential' },
];
const AFTER: JobFormField[] = [
  { key: 'excludes', label: 'Excludes' },
  { key: 'delete', label: 'Mirror (y/n)' },
  { key: 'bandwidth', label: 'Limit KiB/s' },
  { key: 'dry_run', label: 'Dry run (y/n)' },
  { key: 'verbosity', label: 'Log detail' },
  { key: 'history', label: 'History' },
  { key: 'retention', label: 'Keep' },
  { key: 'schedule', label: 'Schedule' },
];

/**
 * True when jobs to this provider may keep snapshots. GET /providers does not say which types can
 * (the daemon refuses the others with BACKUP_MODE_UNSUPPORTED), so the form offers them for local
 * folders and USB drives only, the one type the daemon keeps them on.
 */
export function keepsSnapshots(provider: Pick<Provider, 'type'> | undefined): boolean {
  return provider?.type === 'local';
}

/** The History field's help: what each mode does, and which destinations offer snapshots. */
export function historyHelp(providers: readonly Provider[]): string {
  const where = providers.filter(keepsSnapshots).map((provider) => provider.name);
  return (
    'mirror: one copy kept in step with the sources (a deleted file goes at the next run).\n' +
    `snapshots: a dated copy per run, unchanged files hard-linked, old ones removed by Keep (${where.length > 0 ? where.join(', ') : 'no destination here'} only).`
  );
}

/** The backup mode typed in the History field ("" is mirror); FormValueError for anything else or snapshots where the destination cannot keep them. */
export function backupModeOf(text: string, provider: Provider | undefined): BackupMode {
  const typed = text.trim().toLowerCase();
  const mode: BackupMode | null = typed === '' || 'mirror'.startsWith(typed) ? 'mirror' : 'snapshots'.startsWith(typed) ? 'snapshots' : null;
  if (mode === null) throw new FormValueError('history', `"${text.trim()}" is not a history mode: type mirror or snapshots`);
  if (mode === 'snapshots' && !keepsSnapshots(provider)) {
    throw new FormValueError('history', `${provider?.name ?? 'this destination'} keeps a mirror only; snapshots are kept on a local folder or USB drive`);
  }
  return mode;
}

/** A job's first backup schedule, the one the form edits (verify schedules are left as they are). */
export function backupScheduleOf<S>(schedules: readonly S[] | undefined): S | undefined {
  return schedules?.find((schedule) => (schedule as { action?: string }).action !== 'verify');
}

/** A config field's name as a label: "backup_subdir" → "Backup subdir", "usb_uuid" → "USB UUID". */
function labelOf(field: string): string {
  const words = field.split('_').map((word) => (/^(usb|uuid|id|url|uri)$/.test(word) ? word.toUpperCase() : word));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Every field any provider sets beside its address, once each, in the providers' order. */
function besideFields(providers: readonly Provider[]): string[] {
  return [...new Set(providers.flatMap((provider) => provider.address.beside.map((entry) => entry.field)))];
}

/** The form's fields, in the order they are filled: the beside fields follow the credential. */
export function jobFormFields(providers: readonly Provider[]): JobFormField[] {
  return [...BEFORE, ...besideFields(providers).map((field) => ({ key: field, label: labelOf(field) })), ...AFTER];
}

/** The text of each field, by key. */
export type FormValues = Record<string, string>;

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A saved credential as the form names it. */
export interface CredentialName {
  id: number;
  name: string;
}

/** A job as the form reads it. */
export type FormJob = JobSummary & {
  source_dirs?: string[];
  sync_options?: Partial<SyncOptions>;
  credential_id?: number | null;
  schedules?: Job['schedules'] | JobSummary['schedules'];
  backup_mode?: BackupMode;
  retention?: RetentionPolicy;
};

/** What the form shows for a job (empty fields for a new one). */
export function formValuesOf(job: FormJob | null, providers: readonly Provider[], credentials: CredentialName[] = []): FormValues {
  const config = job?.destination_config ?? {};
  const format = providers.find((provider) => provider.type === job?.destination_type)?.address;
  const beside = besideFields(providers).map((field) => [field, format?.beside.some((entry) => entry.field === field) ? String(config[field] ?? '') : '']);
  return {
    name: job?.name ?? '',
    sources: (job?.source_dirs ?? []).join(', '),
    // A type the daemon no longer lists shows as "type:", which parseAddress refuses with the valid forms.
    destination: !job ? '' : format ? formatAddress(format, config) : `${job.destination_type}:`,
    credential: credentials.find((credential) => credential.id === job?.credential_id)?.name ?? '',
    ...Object.fromEntries(beside),
    excludes: (job?.sync_options?.exclude_patterns ?? []).join(', '),
    delete: job?.sync_options?.delete_extraneous ? 'y' : 'n',
    bandwidth: job?.sync_options?.bandwidth_limit_kbps ? String(job.sync_options.bandwidth_limit_kbps) : '',
    dry_run: job?.sync_options?.dry_run ? 'y' : 'n',
    verbosity: job?.sync_options?.verbosity ?? 'normal',
    // The form edits the job's first backup schedule; more can be added through the API.
    schedule: backupScheduleOf(job?.schedules) ? scheduleText(backupScheduleOf(job?.schedules) as never) : '',
    history: job?.backup_mode ?? 'mirror',
    retention: job?.retention ? retentionText(job.retention) : '',
  };
}

/** A value the form itself refuses before asking the API, with the field it is about. */
export class FormValueError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The API body for the form's values: the destination read from its address line and the fields
 * beside it (`previous`, the job being edited, keeps the config fields no address carries, such as a
 * drive's auto-mount), with the credential named in the form.
 */
export function jobBodyOf(values: FormValues, providers: readonly Provider[], credentials: CredentialName[] = [], previous?: FormJob | null): Record<string, unknown> {
  const beside = Object.fromEntries(besideFields(providers).map((field) => [field, values[field] ?? '']));
  let destination;
  try {
    destination = parseAddress(providers, values.destination, beside);
  } catch (error) {
    if (!(error instanceof AddressError)) throw error;
    const field = /destinations take no (\w+)/.exec(error.message)?.[1];
    throw new FormValueError(field && field in beside ? field : 'destination', error.message);
  }
  if (previous && previous.destination_type === destination.destination_type) {
    const format = providers.find((provider) => provider.type === destination.destination_type)!.address;
    destination.destination_config = { ...destination.destination_config, ...uncarried(format, previous.destination_config) };
  }
  const credentialName = values.credential.trim();
  const credential = credentials.find((candidate) => candidate.name === credentialName);
  if (credentialName !== '' && !credential) {
    throw new FormValueError('credential', `no saved credential is called "${credentialName}" (add it on the credentials screen, key k)`);
  }
  const provider = providers.find((candidate) => candidate.type === destination.destination_type);
  const backup_mode = backupModeOf(values.history ?? '', provider);
  let retention: RetentionPolicy;
  try {
    retention = parseRetentionText(values.retention ?? '');
  } catch (error) {
    if (!(error instanceof RetentionTextError)) throw error;
    throw new FormValueError('retention', error.message);
  }
  return {
    name: values.name.trim(),
    source_dirs: list(values.sources),
    ...destination,
    credential_id: credential?.id ?? null,
    backup_mode,
    retention,
    sync_options: {
      exclude_patterns: list(values.excludes),
      delete_extraneous: /^y/i.test(values.delete.trim()),
      // Not a number: sent as typed, so the API's message names the field.
      bandwidth_limit_kbps: values.bandwidth.trim() === '' ? null : /^\d+$/.test(values.bandwidth.trim()) ? Number(values.bandwidth) : values.bandwidth.trim(),
      dry_run: /^y/i.test(values.dry_run.trim()),
      verbosity: values.verbosity.trim() || 'normal',
    },
  };
}

/** The field an API validation error is about, so its message can stand next to it. */
export function fieldOfError(code: string, message: string, providers: readonly Provider[] = []): string {
  if (code === 'JOB_NAME_TAKEN') return 'name';
  if (code === 'SCHEDULE' || /schedule_type|cron_expression|"hour"|"minute"|day_of_week|day_of_month/.test(message)) return 'schedule';
  if (code === 'SOURCE_NAMES_CLASH') return 'sources';
  if (code === 'SNAPSHOT_DRY_RUN') return 'dry_run';
  if (code === 'BACKUP_MODE_UNSUPPORTED' || code === 'FILESYSTEM_NO_HARD_LINKS' || /backup_mode/.test(message)) return 'history';
  if (code.startsWith('RETENTION') || /"?(retention|keep_\w+)"?/.test(message)) return 'retention';
  const beside = besideFields(providers).find((field) => message.includes(`"${field}"`));
  if (beside) return beside;
  const named: Array<[RegExp, string]> = [
    [/source_dirs/, 'sources'],
    [/credential/i, 'credential'],
    [/DESTINATION|destination_config|destination_type/, 'destination'],
    [/exclude_patterns/, 'excludes'],
    [/delete_extraneous/, 'delete'],
    [/bandwidth_limit_kbps/, 'bandwidth'],
    [/dry_run/, 'dry_run'],
    [/verbosity/, 'verbosity'],
    [/"name"/, 'name'],
  ];
  return named.find(([pattern]) => pattern.test(message))?.[1] ?? 'name';
}

/** The config fields of `config` that `format` neither reads from nor writes to the form. */
function uncarried(format: Provider['address'], config: Record<string, unknown>): Record<string, unknown> {
  const carried = new Set<string | undefined>([format.user, format.host, format.port, format.path, format.url, format.other_query]);
  for (const param of format.query ?? []) carried.add(param.field);
  for (const entry of format.beside) carried.add(entry.field);
  return Object.fromEntries(Object.entries(config).filter(([field]) => !carried.has(field)));
}

/**
 * The destination field's help: one line per provider with the address it takes, the ones the
 * daemon cannot run here with the reason instead (an address of theirs is refused with it too).
 */
export function destinationHelp(providers: readonly Provider[]): string {
  const width = Math.max(0, ...providers.map((provider) => provider.name.length));
  return providers
    .map((provider) => `${provider.name.padEnd(width)}  ${provider.available ? provider.address.example : `not available: ${provider.reason ?? 'the daemon cannot run it'}`}`)
    .join('\n');
}
