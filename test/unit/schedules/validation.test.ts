import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { body } from '../../../src/api/validation.ts';
import { cronExpressionProblem, normalizeScheduleInput, scheduleInputSchema } from '../../../src/domain/schedules.ts';
import { checkCronExpression } from '../../../src/schedules/index.ts';

// Exactly as the schedule routes apply it: convert off, unknown keys refused, first problem reported.
const schema = body(scheduleInputSchema);

function accepted(payload: unknown): unknown {
  const { error, value } = schema.validate(payload);
  assert.is(error, undefined, `${JSON.stringify(payload)} should pass: ${error?.message}`);
  return value;
}

/** The 400 message for `payload`, which must name `field`. */
function refusal(payload: unknown, field: string): string {
  const { error } = schema.validate(payload);
  assert.ok(error, `${JSON.stringify(payload)} should fail`);
  assert.ok(error.message.includes(`"${field}"`), `"${error.message}" should name ${field}`);
  return error.message;
}

test('the contract\'s four example bodies pass, with enabled defaulting to true', () => {
  assert.equal(accepted({ schedule_type: 'daily', hour: 2, minute: 0 }), { schedule_type: 'daily', hour: 2, minute: 0, enabled: true });
  accepted({ schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 0 });
  accepted({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 1 });
  accepted({ schedule_type: 'custom', cron_expression: '0 2 * * 1-5' });
  assert.equal(accepted({ schedule_type: 'daily', hour: 23, minute: 59, enabled: false }), { schedule_type: 'daily', hour: 23, minute: 59, enabled: false });
});

test('the edges of each range pass', () => {
  accepted({ schedule_type: 'weekly', hour: 0, minute: 0, day_of_week: 6 });
  accepted({ schedule_type: 'monthly', hour: 23, minute: 59, day_of_month: 31 });
});

test('fields of other types may be sent as null, and a schedule GET returned can be sent back', () => {
  accepted({ schedule_type: 'daily', hour: 2, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null });
  const fromGet = { id: 3, job_id: 1, enabled: true, schedule_type: 'custom', hour: null, minute: null, day_of_week: null, day_of_month: null, cron_expression: '0 2 * * *', next_run: '2026-01-06T02:00:00.000Z', created_at: '2026-01-01T00:00:00.000Z' };
  const value = accepted(fromGet) as Record<string, unknown>;
  assert.not.ok('id' in value || 'next_run' in value, 'read-only fields are dropped');
});

test('a missing or unknown schedule_type is refused', () => {
  refusal({ hour: 2, minute: 0 }, 'schedule_type');
  refusal({ schedule_type: 'hourly', minute: 0 }, 'schedule_type');
});

test('fields a type needs are required', () => {
  refusal({ schedule_type: 'daily', hour: 2 }, 'minute');
  refusal({ schedule_type: 'daily', minute: 0 }, 'hour');
  refusal({ schedule_type: 'weekly', hour: 2, minute: 0 }, 'day_of_week');
  refusal({ schedule_type: 'monthly', hour: 2, minute: 0 }, 'day_of_month');
  refusal({ schedule_type: 'custom' }, 'cron_expression');
  refusal({ schedule_type: 'daily', hour: null, minute: 0 }, 'hour');
});

test('a field that does not belong to the type is refused, naming it and the type', () => {
  assert.match(refusal({ schedule_type: 'daily', hour: 2, minute: 0, day_of_week: 1 }, 'day_of_week'), 'daily');
  refusal({ schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 1, day_of_month: 1 }, 'day_of_month');
  refusal({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 1, cron_expression: '0 2 * * *' }, 'cron_expression');
  assert.match(refusal({ schedule_type: 'custom', cron_expression: '0 2 * * *', hour: 2 }, 'hour'), 'custom');
});

test('numbers out of range, fractions and numbers sent as strings are refused', () => {
  refusal({ schedule_type: 'daily', hour: 24, minute: 0 }, 'hour');
  refusal({ schedule_type: 'daily', hour: -1, minute: 0 }, 'hour');
  refusal({ schedule_type: 'daily', hour: 2, minute: 60 }, 'minute');
  refusal({ schedule_type: 'daily', hour: 2.5, minute: 0 }, 'hour');
  refusal({ schedule_type: 'daily', hour: '2', minute: 0 }, 'hour');
  refusal({ schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 7 }, 'day_of_week');
  refusal({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 0 }, 'day_of_month');
  refusal({ schedule_type: 'monthly', hour: 2, minute: 0, day_of_month: 32 }, 'day_of_month');
  refusal({ schedule_type: 'daily', hour: 2, minute: 0, enabled: 'true' }, 'enabled');
});

test('unknown keys are refused', () => {
  refusal({ schedule_type: 'daily', hour: 2, minute: 0, timezone: 'UTC' }, 'timezone');
});

test('cron expressions with ranges, lists, steps and names pass', () => {
  for (const cron_expression of ['*/15 * * * *', '0 2 * * MON-FRI', '0 2 1,15 * *', '0 0-23/6 * * *', '0 2 * jan-mar sun', '0 2 L * *', '0 2 * * 5#2', '0 2 * * 7']) {
    accepted({ schedule_type: 'custom', cron_expression });
  }
});

test('six fields (seconds) are refused with a message saying so', () => {
  assert.match(refusal({ schedule_type: 'custom', cron_expression: '0 0 2 * * *' }, 'cron_expression'), 'seconds are not supported');
});

test('garbage cron expressions are refused with a message naming the problem', () => {
  const cases: Array<[string, string]> = [
    ['garbage', 'five fields'],
    ['@daily', 'five fields'],
    ['* * * *', 'five fields'],
    ['60 2 * * *', 'minute 60'],
    ['0 24 * * *', 'hour 24'],
    ['0 2 0 * *', 'day-of-month 0'],
    ['0 2 * 13 *', 'month 13'],
    ['0 2 * * 8', 'day-of-week 8'],
    ['0 2 * * FOO', 'day-of-week "FOO"'],
    ['0 2 ? * *', 'day-of-month'],
    ['0 2 * * 5L', 'day-of-week'],
    ['*/0 * * * *', 'step of 0'],
    ['5-1 * * * *', 'larger than'],
    ['0 2 30 2 *', 'never matches'],
  ];
  for (const [cron_expression, expected] of cases) {
    assert.match(refusal({ schedule_type: 'custom', cron_expression }, 'cron_expression'), expected, cron_expression);
  }
});

test('cron expressions with padding, of the wrong type or too long are refused', () => {
  refusal({ schedule_type: 'custom', cron_expression: ' 0 2 * * *' }, 'cron_expression');
  refusal({ schedule_type: 'custom', cron_expression: 5 }, 'cron_expression');
  refusal({ schedule_type: 'custom', cron_expression: `0 2 ${'1,'.repeat(60)}1 * *` }, 'cron_expression');
});

test('checkCronExpression makes the same check as a 400 INVALID_CRON', () => {
  assert.is(cronExpressionProblem('0 2 * * 1-5'), null);
  checkCronExpression('0 2 * * 1-5');
  try {
    checkCronExpression('0 0 2 * * *');
    assert.unreachable('should throw');
  } catch (error) {
    assert.is((error as { kind: string }).kind, 'invalid');
    assert.is((error as { code: string }).code, 'INVALID_CRON');
    assert.match((error as Error).message, '"cron_expression"');
  }
});

test('a valid body is stored with the fields its type does not use set to null', () => {
  assert.equal(normalizeScheduleInput({ schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 3 }), {
    enabled: true,
    action: 'backup',
    verify_percent: null,
    schedule_type: 'weekly',
    hour: 2,
    minute: 0,
    day_of_week: 3,
    day_of_month: null,
    cron_expression: null,
  });
});

test.run();
