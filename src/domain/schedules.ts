/**
 * Backup schedules: the contract's four types, the body a client sends, the record the store
 * keeps, and the rules a body must follow (including what a custom cron expression may say).
 */
import { Cron } from 'croner';
import Joi from 'joi';

export const SCHEDULE_TYPES = ['daily', 'weekly', 'monthly', 'custom'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

/** What a schedule starts: a backup run of its job, or a verify run of the job's newest snapshot. */
export const SCHEDULE_ACTIONS = ['backup', 'verify'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

/** When a schedule runs. The fields its type uses are set; every other one is null. */
export interface ScheduleRule {
  schedule_type: ScheduleType;
  /** 0–23, local time in the settings' time zone. */
  hour: number | null;
  /** 0–59. */
  minute: number | null;
  /** 0 = Sunday … 6 = Saturday. */
  day_of_week: number | null;
  /** 1–31; in months without that day the backup runs on the month's last day. */
  day_of_month: number | null;
  /** Five-field cron (minute hour day-of-month month day-of-week), for `custom` only. */
  cron_expression: string | null;
}

/** A validated create or update body, with the fields its type does not use set to null. */
export interface ScheduleInput extends ScheduleRule {
  enabled: boolean;
  /** `backup` (absent: backup, as in schedules stored before it existed) or `verify` (a snapshots job only). */
  action?: ScheduleAction;
  /** For `verify`: the share of the snapshot's files read, 1–100 (absent or null: 100); null for `backup`. */
  verify_percent?: number | null;
}

/**
 * A schedule as the store keeps it. `next_run` is not kept: it depends on the clock and the
 * time zone, so it is computed whenever a schedule is shown (see ScheduleView).
 */
export interface ScheduleRecord extends ScheduleInput {
  id: number;
  job_id: number;
  /** ISO-8601 UTC. */
  created_at: string;
}

/** @deprecated The earlier name of ScheduleRecord, kept while store/, api/ and daemon.ts use it. */
export type StoredSchedule = ScheduleRecord;

/** A schedule as the API shows it: the record plus its next run (ISO-8601 UTC; null when disabled). */
export interface ScheduleView extends ScheduleRecord {
  action: ScheduleAction;
  verify_percent: number | null;
  next_run: string | null;
}

/** Which timing fields each type needs; the others must be absent or null. */
const FIELDS_OF: Record<ScheduleType, ReadonlyArray<keyof ScheduleRule>> = {
  daily: ['hour', 'minute'],
  weekly: ['hour', 'minute', 'day_of_week'],
  monthly: ['hour', 'minute', 'day_of_month'],
  custom: ['cron_expression'],
};
const TIMING_FIELDS = ['hour', 'minute', 'day_of_week', 'day_of_month', 'cron_expression'] as const;
type TimingField = (typeof TIMING_FIELDS)[number];

/** The longest cron expression accepted; real ones are well under half of it. */
export const CRON_EXPRESSION_MAX_LENGTH = 120;

interface CronField {
  name: string;
  min: number;
  max: number;
  /** Three-letter names and the numbers they stand for (JAN = 1, SUN = 0), as cron allows. */
  names?: Readonly<Record<string, number>>;
  /** An extra item form the field allows beyond numbers, ranges, lists and steps. */
  extra?: RegExp;
}

/** Names numbered upwards from `first`. */
function numbered(names: readonly string[], first: number): Record<string, number> {
  return Object.fromEntries(names.map((name, i) => [name, first + i]));
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  // `L`: the month's last day (a croner extension).
  { name: 'day-of-month', min: 1, max: 31, extra: /^L$/ },
  { name: 'month', min: 1, max: 12, names: numbered(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], 1) },
  // 7 is Sunday too, as in cron. `5#2`: the month's second Friday; `5#L`: its last (croner extensions).
  { name: 'day-of-week', min: 0, max: 7, names: numbered(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], 0), extra: /^([0-7]|[A-Z]{3})#([1-5]|L)$/i },
];
const FIVE_FIELDS = 'minute hour day-of-month month day-of-week';
const CRON_ITEM = /^(\*|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/;

/** Why one field of a cron expression is wrong, or null when it is fine. */
function cronFieldProblem(field: CronField, text: string): string | null {
  for (const item of text.split(',')) {
    const extra = field.extra?.exec(item);
    if (extra) {
      if (extra[1] !== undefined && cronValue(field, extra[1]) === null) return `has an unknown ${field.name} "${extra[1]}"`;
      continue;
    }
    const parts = CRON_ITEM.exec(item);
    if (!parts) return `has an invalid ${field.name} field "${text}"`;
    for (const value of [parts[2], parts[3]]) {
      if (value === undefined) continue;
      const number = cronValue(field, value);
      if (number === null) return `has an invalid ${field.name} "${value}"`;
      if (number < field.min || number > field.max) return `has ${field.name} ${value}, outside ${field.min}–${field.max}`;
    }
    const step = parts[4] === undefined ? null : Number(parts[4]);
    const span = field.max - field.min + 1;
    if (step !== null && (step < 1 || step > span)) return `has a step of ${step} in its ${field.name} field; steps go from 1 to ${span}`;
  }
  return null;
}

/** The number a cron value stands for (digits or a name the field knows), or null. */
function cronValue(field: CronField, value: string): number | null {
  if (/^\d+$/.test(value)) return Number(value);
  return field.names?.[value.toUpperCase()] ?? null;
}

/**
 * Why `expression` is not a five-field cron expression Cairn runs, as the end of a sentence
 * starting with the field's name; null when it is fine. Checks the grammar here so the message
 * names the field, then lets croner (which computes the runs) parse it, and refuses an
 * expression that matches no date at all (`0 2 30 2 *`).
 */
export function cronExpressionProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length === 6) return `has six fields, but seconds are not supported: use five fields (${FIVE_FIELDS})`;
  if (fields.length !== 5) return `must have five fields (${FIVE_FIELDS}), not ${fields.length}`;
  for (const [i, text] of fields.entries()) {
    const problem = cronFieldProblem(CRON_FIELDS[i], text);
    if (problem) return problem;
  }
  let cron: Cron;
  try {
    // utcOffset 0: parse only; no time-zone lookups.
    cron = new Cron(expression, { paused: true, utcOffset: 0 });
  } catch (error) {
    return `is not valid: ${String((error as Error).message).replace(/^CronPattern: /, '')}`;
  }
  // A five-field pattern repeats within 400 years, and croner searches until year 3000.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) return 'never matches a date (like 30 February)';
  return null;
}

const RANGES: Record<TimingField, Joi.Schema> = {
  hour: Joi.number().integer().min(0).max(23),
  minute: Joi.number().integer().min(0).max(59),
  day_of_week: Joi.number().integer().min(0).max(6),
  day_of_month: Joi.number().integer().min(1).max(31),
  cron_expression: Joi.string()
    .trim()
    .max(CRON_EXPRESSION_MAX_LENGTH)
    .custom((value: string, helpers) => {
      const problem = cronExpressionProblem(value);
      return problem === null ? value : helpers.error('cron.invalid', { problem });
    })
    .messages({ 'cron.invalid': '{{#label}} {#problem}' }),
};

/** A timing field: required with its range for the types that use it, absent or null otherwise. */
function timingField(field: TimingField): Joi.Schema {
  return Joi.any().when('schedule_type', {
    switch: SCHEDULE_TYPES.map((type) => ({
      is: type,
      then: FIELDS_OF[type].includes(field)
        ? RANGES[field].required()
        : Joi.valid(null).messages({ 'any.only': `{{#label}} does not apply to a ${type} schedule; leave it out or send null` }),
    })),
  });
}

/**
 * A create or update body as the contract shows it; `enabled` is optional (default true). The
 * route applies it with `convert: false` and unknown keys refused, so every problem is a 400
 * naming its field. The read-only fields of a schedule (`id`, `job_id`, `next_run`, `created_at`)
 * are dropped, so an object GET returned can be sent back as it is.
 */
export const scheduleInputSchema = Joi.object({
  schedule_type: Joi.string()
    .valid(...SCHEDULE_TYPES)
    .required(),
  enabled: Joi.boolean().default(true),
  action: Joi.string().valid(...SCHEDULE_ACTIONS),
  verify_percent: Joi.when('action', {
    is: 'verify',
    then: Joi.number().min(1).max(100).allow(null),
    otherwise: Joi.valid(null).messages({ 'any.only': '{{#label}} applies only to a schedule with "action": "verify"; leave it out or send null' }),
  }),
  ...Object.fromEntries(TIMING_FIELDS.map((field) => [field, timingField(field)])),
  id: Joi.any().strip(),
  job_id: Joi.any().strip(),
  next_run: Joi.any().strip(),
  created_at: Joi.any().strip(),
});

/**
 * A validated body in its stored shape: `enabled` and `action` defaulted, fields the type or the
 * action does not use null. Also reads records stored before `action` existed (backups).
 */
export function normalizeScheduleInput(input: Partial<ScheduleInput> & { schedule_type: ScheduleType }): ScheduleInput {
  const used = FIELDS_OF[input.schedule_type];
  const pick = <K extends TimingField>(field: K) => (used.includes(field) ? (input[field] ?? null) : null) as ScheduleRule[K];
  const action = input.action ?? 'backup';
  return {
    enabled: input.enabled ?? true,
    action,
    verify_percent: action === 'verify' ? (input.verify_percent ?? 100) : null,
    schedule_type: input.schedule_type,
    hour: pick('hour'),
    minute: pick('minute'),
    day_of_week: pick('day_of_week'),
    day_of_month: pick('day_of_month'),
    cron_expression: pick('cron_expression'),
  };
}
