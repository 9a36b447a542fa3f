/** `s3`: a bucket and key prefix on AWS S3 or an S3-compatible server (custom endpoint, path style). */
import Joi from 'joi';
import { remoteDestination } from '../remote/remote-destination.ts';
import type { S3Store, S3Target } from './s3-store.ts';

export const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;

export const configSchema = Joi.object({
  bucket: Joi.string()
    .min(3)
    .max(63)
    .pattern(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/)
    .required()
    .messages({ 'string.pattern.base': '"bucket" must be an S3 bucket name (lower-case letters, digits, dots and dashes)' }),
  prefix: Joi.string().allow('').max(1024).pattern(/^[^\0]*$/).default(''),
  region: Joi.string()
    .pattern(/^[a-z0-9-]{2,32}$/)
    .default('us-east-1')
    .messages({ 'string.pattern.base': '"region" must be a region name such as eu-west-1' }),
  endpoint: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .max(2048)
    // The endpoint is shown in logs and messages: credentials belong in the credential, not here.
    .custom((value: string, helpers) => (/^[a-z]+:\/\/[^/]*@/i.test(value) ? helpers.error('string.uriCustomScheme') : value))
    .allow(null)
    .default(null)
    .messages({ 'string.uriCustomScheme': '"endpoint" must be an http(s) address without a user name or password in it' }),
  storage_class: Joi.string()
    .valid(...STORAGE_CLASSES)
    .allow(null)
    .default(null),
});

export const s3Destination = remoteDestination<S3Target, S3Store>({
  type: 's3',
  name: 'AWS S3',
  description: 'S3 and S3-compatible storage',
  configSchema,
  credentialSchema: Joi.object({
    access_key_id: Joi.string().min(1).max(256).required().meta({ label: 'Access key', secret: false }),
    secret_access_key: Joi.string().min(1).max(256).required().meta({ label: 'Secret key' }),
    session_token: Joi.string().min(1).max(16_384).meta({ label: 'Session token' }),
  }),
  address: {
    example: 's3://my-bucket/backups/pi?region=eu-west-1',
    scheme: 's3',
    host: 'bucket',
    path: 'prefix',
    query: [
      { name: 'region', field: 'region', type: 'text' },
      { name: 'endpoint', field: 'endpoint', type: 'text' },
      { name: 'class', field: 'storage_class', type: 'text' },
    ],
    defaults: { prefix: '', region: 'us-east-1', endpoint: null, storage_class: null },
    beside: [],
  },
  // The protocol's client library loads on first use: a daemon that never uses it keeps its memory.
  open: async (config, secret) => (await import('./s3-store.ts')).openS3Store(config, secret),
  identity: (config) => `s3:${config.endpoint ?? config.region}/${config.bucket}/${config.prefix}`,
  details: (config) => ({ bucket: config.bucket, region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }),
});
