/** The job form's fields: a job ↔ the text in each field, and which field an API error is about. */
import type { JobSummary } from './jobs.ts';
import { scheduleText } from './schedule-text.ts';

export const FORM_FIELDS = [
  { key: 'name', label: 'Name' },
  { key: 'sources', label: 'Sources' },
  { key: 'mount_point', label: 'Destination' },
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

/** What the form shows for a job (empty fields for a new one). */
export function formValuesOf(job: (JobSummary & { source_dirs?: string[]; sync_options?: any }) | null): FormValues {
  const config = job?.destination_config ?? {};
  return {
    name: job?.name ?? '',
    sources: (job?.source_dirs ?? []).join(', '),
    mount_point: String(config.mount_point ?? ''),
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

/** The API body for the form's values (a local/USB job; plug-in mounting on when a UUID is given). */
export function jobBodyOf(values: FormValues): Record<string, unknown> {
  const uuid = values.usb_uuid.trim();
  return {
    name: values.name.trim(),
    source_dirs: list(values.sources),
    destination_type: 'local',
    destination_config: {
      mount_point: values.mount_point.trim(),
      backup_subdir: values.backup_subdir.trim(),
      usb_uuid: uuid === '' ? null : uuid,
      auto_mount: uuid !== '',
      auto_unmount: uuid !== '',
    },
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
    [/mount_point|DESTINATION/, 'mount_point'],
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
