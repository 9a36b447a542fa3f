/**
 * The joi → JSON Schema converter: every value the real route schemas accept is valid against
 * what the document shows (the converter may widen, never narrow), and the rules JSON Schema can
 * say (types, enums, ranges, required, unknown keys, patterns) refuse what joi refuses.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import Joi from 'joi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonSchemaOf } from '../../../src/api/openapi/index.ts';
import { jobInputSchema } from '../../../src/domain/jobs.ts';
import { retentionPolicySchema } from '../../../src/domain/retention-schema.ts';
import { scheduleInputSchema } from '../../../src/domain/schedules.ts';
import { settingsUpdateSchema } from '../../../src/domain/settings.ts';
import { credentialUpdateSchema } from '../../../src/domain/credentials.ts';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

const convert = suite('joi to JSON Schema');

/** Asserts joi and the converted schema agree on `value`; `widened` values joi refuses may pass the JSON Schema. */
function agree(schema: Joi.Schema, value: unknown, expected: 'valid' | 'invalid' | 'widened', options: Joi.ValidationOptions = { convert: false }) {
  const joiAccepts = !schema.validate(value, options).error;
  const jsonAccepts = ajv.compile(jsonSchemaOf(schema))(value);
  const label = JSON.stringify(value);
  if (expected === 'valid') {
    assert.ok(joiAccepts, `joi refuses ${label}`);
    assert.ok(jsonAccepts, `the JSON Schema refuses ${label}, which joi accepts: ${JSON.stringify(jsonSchemaOf(schema))}`);
  } else {
    assert.not.ok(joiAccepts, `joi accepts ${label}`);
    if (expected === 'invalid') assert.not.ok(jsonAccepts, `the JSON Schema accepts ${label}, which joi refuses`);
  }
}

const job = { name: 'Photos', source_dirs: ['/home/pi/photos'], destination_type: 'local', destination_config: { mount_point: '/mnt/usb' } };

convert('a job body: what joi takes passes, wrong types, unknown fields and missing fields do not', () => {
  agree(jobInputSchema, job, 'valid');
  agree(jobInputSchema, { ...job, sync_options: { verbosity: 'verbose', bandwidth_limit_kbps: null, exclude_patterns: ['*.tmp'] }, backup_mode: 'snapshots', retention: { keep_daily: 7, keep_within: '2y' } }, 'valid');
  agree(jobInputSchema, { ...job, credential_id: null, description: '' }, 'valid');
  agree(jobInputSchema, { ...job, enabled: 'yes' }, 'invalid');
  agree(jobInputSchema, { ...job, surprise: 1 }, 'invalid');
  agree(jobInputSchema, { name: 'Photos' }, 'invalid');
  agree(jobInputSchema, { ...job, sync_options: { verbosity: 'loud' } }, 'invalid');
  agree(jobInputSchema, { ...job, name: 'a\nb' }, 'invalid');
  agree(jobInputSchema, { ...job, name: 'x'.repeat(101) }, 'invalid');
  // A custom rule (absolute paths) cannot be said in JSON Schema: the document is wider there.
  agree(jobInputSchema, { ...job, source_dirs: ['relative/path'] }, 'widened');
});

convert('a schedule body: each branch of its when() is valid, a field of the wrong type is not', () => {
  agree(scheduleInputSchema, { schedule_type: 'daily', hour: 2, minute: 0 }, 'valid');
  agree(scheduleInputSchema, { schedule_type: 'weekly', hour: 2, minute: 0, day_of_week: 1 }, 'valid');
  agree(scheduleInputSchema, { schedule_type: 'custom', cron_expression: '0 4 * * *', hour: null }, 'valid');
  agree(scheduleInputSchema, { schedule_type: 'daily', hour: 2, minute: 0, action: 'verify', verify_percent: 10 }, 'valid');
  agree(scheduleInputSchema, { schedule_type: 'daily', hour: 2, minute: 0, action: 'backup', verify_percent: null }, 'valid');
  agree(scheduleInputSchema, { schedule_type: 'hourly' }, 'invalid');
  agree(scheduleInputSchema, { schedule_type: 'daily', hour: 'two', minute: 0 }, 'invalid');
  agree(scheduleInputSchema, { schedule_type: 'daily', hour: 24, minute: 0 }, 'invalid');
});

convert('settings, credentials and retention bodies', () => {
  agree(settingsUpdateSchema, { theme: 'light' }, 'valid');
  agree(settingsUpdateSchema, { theme: 'blue' }, 'invalid');
  agree(settingsUpdateSchema, { max_concurrent_runs: 0 }, 'invalid');
  agree(credentialUpdateSchema, { name: 'S3' }, 'valid');
  agree(credentialUpdateSchema, { data: { password: 'x' } }, 'valid');
  // or('name', 'data') is a dependency JSON Schema is not told about.
  agree(credentialUpdateSchema, {}, 'widened');
  agree(retentionPolicySchema, { keep_last: -1, keep_tags: ['a,b'] }, 'valid');
  agree(retentionPolicySchema, { keep_last: -2 }, 'invalid');
  agree(retentionPolicySchema, { keep_tags: ['a', 'a'] }, 'invalid');
});

convert('query parameters are coerced by joi, so their schemas state the type the text stands for', () => {
  const query = Joi.object({ limit: Joi.number().integer().min(1).max(1000).default(50), since: Joi.date().iso() });
  assert.equal(jsonSchemaOf(query), {
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, since: { type: 'string', format: 'date-time' } },
    additionalProperties: false,
  });
});

convert('the rest of the joi subset: allow, valid, alternatives, renames, flagged patterns, open objects', () => {
  assert.equal(jsonSchemaOf(Joi.number().integer().allow(null)), { type: ['integer', 'null'] });
  assert.equal(jsonSchemaOf(Joi.string().valid('a', 'b')), { enum: ['a', 'b'] });
  assert.equal(jsonSchemaOf(Joi.valid(null)), { const: null });
  assert.equal(jsonSchemaOf(Joi.alternatives().try(Joi.string(), Joi.number())), { anyOf: [{ type: 'string' }, { type: 'number' }] });
  assert.equal(jsonSchemaOf(Joi.object().unknown(true)), { type: 'object' });
  assert.equal(jsonSchemaOf(Joi.string().pattern(/^ab$/i)), { type: 'string' }, 'a case-blind pattern would refuse "AB"');
  const renamed = jsonSchemaOf(Joi.object({ mount_point: Joi.string() }).rename('mountPoint', 'mount_point')) as any;
  assert.is(renamed.properties.mountPoint.deprecated, true);
  agree(Joi.object({ a: Joi.string().allow('') }), { a: '' }, 'valid');
  agree(Joi.object({ a: Joi.string().min(1).allow('') }), { a: '' }, 'valid');
  agree(Joi.array().items(Joi.number()).unique().max(2), [1, 2, 3], 'invalid');
});

convert.run();
