/** The settings form: the API's rules decide, its message stands next to the field. */
import type blessed from 'blessed';
import type { TuiApi } from '../api.ts';
import { certificateLine } from '../present/system-info.ts';
import type { Settings } from '../wire.ts';
import { runForm } from './form.ts';

const FIELDS: ReadonlyArray<{ key: keyof Settings; label: string; numeric: boolean }> = [
  { key: 'max_runs_per_job', label: 'Runs kept', numeric: true },
  { key: 'max_concurrent_runs', label: 'At once', numeric: true },
  { key: 'timezone', label: 'Time zone', numeric: false },
  { key: 'theme', label: 'Theme', numeric: false },
];

/** Resolves true when settings were saved. */
export async function editSettings(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<boolean> {
  const [current, info] = await Promise.all([api.settings(), api.systemInfo()]);
  // The fingerprint stands under every field: the settings are where an owner looks for what the box is.
  const help = certificateLine(info);
  const saved = await runForm(
    screen,
    {
      title: 'Settings',
      fields: FIELDS.map((field) => ({ key: field.key, label: field.label, value: String(current[field.key] ?? ''), help })),
      submit: (values) =>
        // A number field that is not a number is sent as typed, so the API's message names it.
        api.updateSettings(Object.fromEntries(FIELDS.map((field) => [field.key, field.numeric && /^\d+$/.test(values[field.key].trim()) ? Number(values[field.key]) : values[field.key].trim()]))),
      fieldOfError: (error) => FIELDS.find((field) => error.message.includes(field.key))?.key ?? FIELDS[0].key,
    },
    color,
  );
  return saved !== null;
}
