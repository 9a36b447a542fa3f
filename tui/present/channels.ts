/**
 * Notification channels → text and back: the list, the form's fields built from GET
 * /notifications/kinds (secrets shown only as "set" or "not set", never their value), the config a
 * filled form sends, the answer to "send test" and the alert history. Pure, no blessed.
 */
import type { AlertRecord, Channel, ChannelField, ChannelKind, ChannelTestAnswer } from '../wire.ts';
import { fit, formatAge } from './format.ts';
import { plain, type Paint } from './paint.ts';

/** One line per channel: id, on/off, kind, name, and which secrets are set. */
export function channelLines(channels: readonly Channel[]): string[] {
  return channels.map((channel) => `${String(channel.id).padStart(3)}  ${channel.enabled ? 'on ' : 'off'}  ${fit(channel.kind, 9)} ${channel.name}`);
}

/** A field of the channel form (the shape tui/screens/form.ts takes). */
export interface ChannelFormField {
  key: string;
  label: string;
  value: string;
  secret?: boolean;
  help?: string;
}

/** A stored value as the form shows it: a list comma-separated, a boolean as yes/no. */
export function formValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/**
 * The form's fields for a channel of `kind` (a new one when `channel` is null): name, then each
 * config field. A secret starts empty and is typed without echo; its label says "set" or "not set"
 * (the API never returns it), and empty means "keep it". Non-secret fields start with their stored value.
 */
export function channelFormFields(kind: ChannelKind, channel: Channel | null): ChannelFormField[] {
  const config = (field: ChannelField): ChannelFormField => {
    const optional = field.required ? '' : ' (optional)';
    if (field.secret) {
      const set = channel?.secrets_set.includes(field.name) ?? false;
      return { key: field.name, label: `${field.name} [${set ? 'set' : 'not set'}]`, value: '', secret: true, help: `secret${optional}: typed without echo, never shown${set ? '; leave empty to keep it' : ''}` };
    }
    const help = field.type === 'list' ? 'comma-separated' : field.type === 'boolean' ? 'yes or no' : field.type === 'number' ? 'a number' : '';
    return { key: field.name, label: field.name, value: formValue(channel?.config[field.name]), help: `${help}${help && optional ? ';' : ''}${optional.trim()}`.trim() || undefined };
  };
  return [{ key: 'name', label: 'name', value: channel?.name ?? '' }, ...kind.fields.map(config)];
}

const YES = /^(y|yes|true|on)$/i;
const NO = /^(n|no|false|off)$/i;

/** Typed text as the field's JSON type; text that does not fit the type is sent as typed, for the API to name. */
function typedValue(field: ChannelField, text: string): unknown {
  switch (field.type) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean':
      return YES.test(text) ? true : NO.test(text) ? false : text;
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      // Text, and number_or_text (a Telegram chat id as digits is accepted as text, and stays exact past 2^53).
      return text;
  }
}

/**
 * The `config` a filled form sends. An empty field is left out (a secret stays as it is, a default
 * applies); on an edit, emptying a non-secret field that had a value sends null, which removes it.
 */
export function channelConfigOf(kind: ChannelKind, values: Record<string, string>, channel: Channel | null): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of kind.fields) {
    const text = (values[field.name] ?? '').trim();
    if (text !== '') config[field.name] = typedValue(field, text);
    else if (!field.secret && channel && formValue(channel.config[field.name]) !== '') config[field.name] = null;
  }
  return config;
}

/** The field an API error is about (its message names it in quotes), else `fallback`. */
export function channelFieldOfError(kind: ChannelKind, message: string, fallback = 'name'): string {
  return kind.fields.find((field) => message.includes(`"${field.name}"`) || message.includes(`config.${field.name}`))?.name ?? fallback;
}

/** The kind choice's help: one line per kind with what it is. */
export function kindChoiceHelp(kinds: readonly ChannelKind[]): string {
  const width = Math.max(0, ...kinds.map((kind) => kind.kind.length));
  return kinds.map((kind) => `${kind.kind.padEnd(width)}  ${kind.description}`).join('\n');
}

/** What the service answered a "send test": "Phone: test delivered (200: ok)", or why it failed, in red. */
export function testAnswerText(channelName: string, answer: ChannelTestAnswer, paint: Paint = plain): string {
  const code = answer.status === null ? 'no answer' : String(answer.status);
  const detail = answer.detail ? `: ${answer.detail}` : '';
  return answer.ok ? paint(`${channelName}: test delivered (${code}${detail})`, 'green') : paint(`${channelName}: test failed (${code}${detail})`, 'red');
}

/** One line per alert, newest first: when, event, job, channel, and the service's answer (red when refused). */
export function alertLines(alerts: readonly AlertRecord[], paint: Paint = plain, now = Date.now()): string[] {
  return alerts.map((alert) => {
    const line = `${fit(formatAge(alert.sent_at, now), 8)} ${fit(alert.event, 13)} ${fit(alert.job_name ?? '—', 14)} → ${fit(alert.channel_name, 14)} ${alert.ok ? 'ok' : 'FAILED'} ${alert.status ?? '—'}`;
    return alert.ok ? line : paint(`${line} ${alert.detail}`, 'red');
  });
}
