/** The job form's fields: a job ↔ the text in each field, and which field an API error is about. */
import { destinationOfText, destinationText } from './destination-text.ts';
import type { SyncOptions } from '../wire.ts';
import type { JobSummary } from './jobs.ts';
import { scheduleText } from './schedule-text.ts';

export const FORM_FIELDS = [
  { key: 'name', label: 'Name' },
  { key: 'sources', label: 'Sources' },
  { key: 'mount_point', label: 'Destination' },
  { key: 'credential', label: 'Credential' },
  { key: 'backup_subdir', label: 'Subfolder' },
  { key: 'usb_uuid', label: 'USB UUID' },
  { key: 'excludes', label: 'Excludes' },
  { key: 'delete', label: 'Mirror (y/n)' },
  { key: 'bandwidth', label: 'Limit KiB/s' },
  { key: 'dry_run', label: 'Dry run (y/n)' },
  { key: 'verbosity', label: 'Log detail' },
  { key: 'schedule', label: 'Schedule' },
] as const;

export type FieldKey = (typeof FORM_FIELDS)[number]['key'];
export type FormValues = Record<FieldKey, string>;

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

/** What the form shows for a job (empty fields for a new one). */
export function formValuesOf(job: (JobSummary & { source_dirs?: string[]; sync_options?: Partial<SyncOptions>; credential_id?: number | null }) | null, credentials: CredentialName[] = []): FormValues {
  const config = job?.destination_config ?? {};
  return {
    name: job?.name ?? '',
    sources: (job?.source_dirs ?? []).join(', '),
    mount_point: job ? destinationText(job.destination_type, config) : '',
    credential: credentials.find((credential) => credential.id === job?.credential_id)?.name ?? '',
    backup_subdir: String(config.backup_subdir ?? ''),
    usb_uuid: String(config.usb_uuid ?? ''),
    excludes: (job?.sync_options?.exclude_patterns ?? []).join(', '),
    delete: job?.sync_options?.delete_extraneous ? 'y' : 'n',
    bandwidth: job?.sync_options?.bandwidth_limit_kbps ? String(job.sync_options.bandwidth_limit_kbps) : '',
    dry_run: job?.sync_options?.dry_run ? 'y' : 'n',
    verbosity: job?.sync_options?.verbosity ?? 'normal',
    // The form edits the job's first schedule; more can be added through the API.
    schedule: job?.schedules?.[0] ? scheduleText(job.schedules[0] as never) : '',
  };
}

/** A value the form itself refuses before asking the API, with the field it is about. */
export class FormValueError extends Error {
  constructor(
    readonly field: FieldKey,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The API body for the form's values. A folder is a local/USB job (plug-in mounting on when a UUID is
 * given); an address (sftp://, s3://, davs://) a remote one, with the credential named in the form.
 */
export function jobBodyOf(values: FormValues, credentials: CredentialName[] = []): Record<string, unknown> {
  const uuid = values.usb_uuid.trim();
  let destination;
  try {
    destination = destinationOfText(values.mount_point, { backup_subdir: values.backup_subdir.trim(), usb_uuid: uuid === '' ? null : uuid });
  } catch (error) {
    throw new FormValueError('mount_point', (error as Error).message);
  }
  const credentialName = values.credential.trim();
  const credential = credentials.find((candidate) => candidate.name === credentialName);
  if (credentialName !== '' && !credential) {
    throw new FormValueError('credential', `no saved credential is called "${credentialName}" (add it on the credentials screen, key k)`);
  }
  return {
    name: values.name.trim(),
    source_dirs: list(values.sources),
    ...destination,
    credential_id: credential?.id ?? null,
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
export function fieldOfError(code: string, message: string): FieldKey {
  if (code === 'JOB_NAME_TAKEN') return 'name';
  if (code === 'SCHEDULE' || /schedule_type|cron_expression|"hour"|"minute"|day_of_week|day_of_month/.test(message)) return 'schedule';
  if (code === 'SOURCE_NAMES_CLASH') return 'sources';
  const named: Array<[RegExp, FieldKey]> = [
    [/source_dirs/, 'sources'],
    [/credential/i, 'credential'],
    [/mount_point|DESTINATION|destination_config/, 'mount_point'],
    [/backup_subdir/, 'backup_subdir'],
    [/usb_uuid/, 'usb_uuid'],
    [/exclude_patterns/, 'excludes'],
    [/delete_extraneous/, 'delete'],
    [/bandwidth_limit_kbps/, 'bandwidth'],
    [/dry_run/, 'dry_run'],
    [/verbosity/, 'verbosity'],
    [/"name"/, 'name'],
  ];
  return named.find(([pattern]) => pattern.test(message))?.[1] ?? 'name';
}
