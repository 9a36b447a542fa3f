/**
 * Alerts: notification channels as stored, the rules that say when a job's owner is told something,
 * and the record of every alert sent. Pure types and joi rules; what each channel kind accepts is
 * that kind's own schema (src/notifications/channels/).
 */
import Joi from 'joi';

/** What an alert is about. `test` is a channel's "send test"; the others come from the rules. */
export const ALERT_EVENTS = ['failure', 'success', 'recovery', 'overdue', 'space_low', 'verify_damage', 'test'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/**
 * When a job's owner is told, and where. Settings hold the defaults (every key); a job's `notify`
 * holds overrides (any subset; a key it leaves out follows the defaults, `null` switches a threshold off).
 */
export interface NotifyRules {
  /** Channels that receive this job's alerts; none means the job's alerts go nowhere. */
  channel_ids: number[];
  on_failure: boolean;
  on_success: boolean;
  /** The first success after failures (or after an overdue alert). */
  on_recovery: boolean;
  /** Alert when no run has succeeded for this many hours (counted from the job's creation if none ever did); null: never. */
  overdue_hours: number | null;
  /** Alert when a local destination's filesystem is at least this % full after a run; null: never. */
  space_percent: number | null;
  /** Alert when a verify run finds damage. */
  on_verify_damage: boolean;
}

/** A job's overrides over the defaults. */
export type NotifyOverrides = Partial<NotifyRules>;

/** The rules until the owner changes them: failures and recoveries, a drive 90 % full, damage; no channel yet. */
export function defaultNotifyRules(): NotifyRules {
  return {
    channel_ids: [],
    on_failure: true,
    on_success: false,
    on_recovery: true,
    overdue_hours: null,
    space_percent: 90,
    on_verify_damage: true,
  };
}

/** The rules that apply to a job: its overrides over the defaults. */
export function effectiveRules(defaults: NotifyRules, overrides: NotifyOverrides | undefined): NotifyRules {
  return { ...defaults, ...overrides };
}

const ruleKeys = {
  channel_ids: Joi.array().items(Joi.number().integer().min(1).max(2 ** 31 - 1)).unique().max(20),
  on_failure: Joi.boolean(),
  on_success: Joi.boolean(),
  on_recovery: Joi.boolean(),
  // A year at most: beyond that, "overdue" tells nobody anything.
  overdue_hours: Joi.number().integer().min(1).max(8760).allow(null),
  space_percent: Joi.number().integer().min(1).max(100).allow(null),
  on_verify_damage: Joi.boolean(),
};

/** A job's `notify`: any subset of the rules; unknown keys refused. */
export const notifyOverridesSchema = Joi.object(ruleKeys);

/** The settings' `notify` in a PUT /settings: any subset, merged key by key into the stored defaults. */
export const notifyDefaultsChangeSchema = Joi.object(ruleKeys);

/** A channel as stored: the non-secret config in the clear, the secret fields as vault ciphertext. */
export interface ChannelRecord {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** The config without its secret fields. */
  config: Record<string, unknown>;
  /** Vault ciphertext of a JSON object holding the secret fields that are set. */
  secret: string;
  created_at: string;
  updated_at: string;
}

/** A channel as the API shows it: secrets never, only which secret fields are set. */
export interface ChannelView {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  config: Record<string, unknown>;
  secrets_set: string[];
  created_at: string;
  updated_at: string;
}

export const channelNameSchema = Joi.string().trim().min(1).max(100).pattern(/^[^\u0000-\u001f\u007f]*$/);

export const channelCreateSchema = Joi.object({
  name: channelNameSchema.required(),
  // Checked against the channel registry by the service.
  kind: Joi.string().max(50).required(),
  enabled: Joi.boolean().default(true),
  config: Joi.object().unknown(true).required(),
});

/** A change: `config` keys merge into the stored ones (a secret left out stays), so secrets need not be sent again. */
export const channelUpdateSchema = Joi.object({
  name: channelNameSchema,
  enabled: Joi.boolean(),
  config: Joi.object().unknown(true),
}).or('name', 'enabled', 'config');

/** One alert sent (or tried) to one channel. */
export interface AlertRecord {
  id: number;
  /** When it was sent (the alert clock). */
  sent_at: string;
  job_id: number | null;
  job_name: string | null;
  event: AlertEvent;
  channel_id: number;
  channel_name: string;
  channel_kind: string;
  /** True when the service accepted it. */
  ok: boolean;
  /** The service's HTTP status or SMTP reply code, when it answered. */
  status: number | null;
  /** The service's answer (a short excerpt) or why it could not be reached; never a secret. */
  detail: string;
  /** The alert's one-line summary. */
  title: string;
}

/** What the rules engine remembers about a job between events, so each state change alerts once. */
export interface AlertState {
  job_id: number;
  /** The latest finished backup run failed. */
  failing: boolean;
  /** When the job last succeeded (alert clock); null: not since alerts began watching it. */
  last_success_at: string | null;
  /** When each unresolved problem was last announced; null while it is not a problem. */
  failure_alerted_at: string | null;
  overdue_alerted_at: string | null;
  space_alerted_at: string | null;
  damage_alerted_at: string | null;
}
