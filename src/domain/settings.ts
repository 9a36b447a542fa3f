/** Application settings: their shape, defaults and the rules a change must follow. */
import Joi from 'joi';
import { isKnownTimezone } from '../schedules/local-time.ts';
import { defaultNotifyRules, notifyDefaultsChangeSchema, type NotifyRules } from './notifications.ts';

export interface Settings {
  /** Runs kept per job; older ones are pruned with their logs. */
  max_runs_per_job: number;
  /** UI theme, a preference the clients read. */
  theme: 'dark' | 'light';
  /** IANA time zone that schedules are computed in. */
  timezone: string;
  /** How many runs may be `running` at once; the rest wait `pending`. */
  max_concurrent_runs: number;
  /** Default alert rules for every job; a job's `notify` overrides any of them. */
  notify: NotifyRules;
  /** Web origins (`https://app.example`) allowed to call the API from a browser (CORS); none by default. */
  cors_origins: string[];
  /** How many of the newest audit entries are kept. */
  audit_max_entries: number;
}

export const THEMES = ['dark', 'light'] as const;

/** The time zone this machine is set to, used until the owner picks one. */
export function systemTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function defaultSettings(): Settings {
  return { max_runs_per_job: 10, theme: 'dark', timezone: systemTimezone(), max_concurrent_runs: 2, notify: defaultNotifyRules(), cors_origins: [], audit_max_entries: 10_000 };
}

const timezone = Joi.string()
  .max(64)
  .custom((value: string, helpers) => (isKnownTimezone(value) ? value : helpers.error('any.invalid')))
  .messages({ 'any.invalid': '"timezone" must be an IANA time zone name such as Europe/Berlin or UTC' });

/** True when `value` is a bare web origin: http(s), a host, maybe a port, and nothing after it. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

const origin = Joi.string()
  .max(256)
  .custom((value: string, helpers) => (isOrigin(value) ? value : helpers.error('any.invalid')))
  .messages({ 'any.invalid': 'each of "cors_origins" must be an origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash)' });

/** A settings change: every key optional, unknown keys refused. */
export const settingsUpdateSchema = Joi.object({
  max_runs_per_job: Joi.number().integer().min(1).max(1000),
  theme: Joi.string().valid(...THEMES),
  timezone,
  max_concurrent_runs: Joi.number().integer().min(1).max(16),
  // Merged key by key into the stored defaults.
  notify: notifyDefaultsChangeSchema,
  cors_origins: Joi.array().items(origin).max(32).unique(),
  // Entries are held in memory for queries: 100,000 took 26 MB of heap here, the most a Pi should give it.
  audit_max_entries: Joi.number().integer().min(100).max(100_000),
  // Write-only: kept sealed by the vault, never answered (GET shows export_passphrase_set); null removes it.
  export_passphrase: Joi.string().min(12).max(1024).allow(null),
});

/** A validated settings change: `notify` may hold any subset of the rules. */
export type SettingsChange = Partial<Omit<Settings, 'notify'>> & { notify?: Partial<NotifyRules> };

/** A `PUT /settings` body: a change, plus the write-only export passphrase (a string sets it, null removes it). */
export type SettingsUpdate = SettingsChange & { export_passphrase?: string | null };

/** The settings as the API shows them: the export passphrase only as whether one is set. */
export type SettingsView = Settings & {
  /** True when the owner set an export passphrase: an export is then written beside each backup. */
  export_passphrase_set: boolean;
};
