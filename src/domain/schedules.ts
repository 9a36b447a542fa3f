/** Backup schedules: the contract's four kinds, their rules, and how they are stored and shown. */
import Joi from 'joi';

export const SCHEDULE_TYPES = ['daily', 'weekly', 'monthly', 'custom'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

/** What a client sends to create or replace a schedule (after validation, unused fields are null). */
export interface ScheduleInput {
  enabled: boolean;
  schedule_type: ScheduleType;
  hour: number | null;
  minute: number | null;
  /** 0 = Sunday … 6 = Saturday. */
  day_of_week: number | null;
  /** 1–31; in months without that day the backup runs on the month's last day. */
  day_of_month: number | null;
  /** Five-field cron (minute hour day-of-month month day-of-week), for `custom` only. */
  cron_expression: string | null;
}

export interface StoredSchedule extends ScheduleInput {
  id: number;
  job_id: number;
  created_at: string;
}

/** A schedule as the API shows it: with its next run (ISO UTC; null when disabled). */
export interface ScheduleView extends StoredSchedule {
  next_run: string | null;
}

/** Which fields each type needs; any other timing field must be absent or null. */
const FIELDS_OF: Record<ScheduleType, ReadonlyArray<keyof ScheduleInput>> = {
  daily: ['hour', 'minute'],
  weekly: ['hour', 'minute', 'day_of_week'],
  monthly: ['hour', 'minute', 'day_of_month'],
  custom: ['cron_expression'],
};
const TIMING_FIELDS = ['hour', 'minute', 'day_of_week', 'day_of_month', 'cron_expression'] as const;

const ranges = {
  hour: Joi.number().integer().min(0).max(23),
  minute: Joi.number().integer().min(0).max(59),
  day_of_week: Joi.number().integer().min(0).max(6),
  day_of_month: Joi.number().integer().min(1).max(31),
  cron_expression: Joi.string()
    .trim()
    .max(200)
    .pattern(/^\S+(\s+\S+){4}$/)
    .messages({ 'string.pattern.base': '"cron_expression" must have five fields: minute hour day-of-month month day-of-week' }),
};

function timingField(field: (typeof TIMING_FIELDS)[number]) {
  const needed = SCHEDULE_TYPES.filter((type) => FIELDS_OF[type].includes(field));
  return ranges[field].allow(null).when('schedule_type', {
    is: Joi.valid(...needed),
    then: ranges[field].required(),
    otherwise: Joi.valid(null).messages({ 'any.only': `"${field}" does not apply to this schedule_type` }),
  });
}

/** A schedule body as the contract shows it; `enabled` is optional (default true). */
export const scheduleInputSchema = Joi.object({
  schedule_type: Joi.string()
    .valid(...SCHEDULE_TYPES)
    .required(),
  enabled: Joi.boolean().default(true),
  ...Object.fromEntries(TIMING_FIELDS.map((field) => [field, timingField(field)])),
  // Read-only fields of a schedule that a client may send back unchanged.
  id: Joi.any().strip(),
  job_id: Joi.any().strip(),
  next_run: Joi.any().strip(),
  created_at: Joi.any().strip(),
});

/** Fills the fields a type does not use with null, so stored schedules all have one shape. */
export function normalizeScheduleInput(input: Partial<ScheduleInput> & { schedule_type: ScheduleType }): ScheduleInput {
  const used = FIELDS_OF[input.schedule_type];
  const pick = <K extends (typeof TIMING_FIELDS)[number]>(field: K) => (used.includes(field) ? (input[field] ?? null) : null);
  return {
    enabled: input.enabled ?? true,
    schedule_type: input.schedule_type,
    hour: pick('hour') as number | null,
    minute: pick('minute') as number | null,
    day_of_week: pick('day_of_week') as number | null,
    day_of_month: pick('day_of_month') as number | null,
    cron_expression: pick('cron_expression') as string | null,
  };
}
