/**
 * Saved credentials: a name, the provider they are for, and secret data that is stored encrypted
 * and never leaves the daemon (not in a response, a log line or a run log).
 */
import Joi from 'joi';

export const CREDENTIAL_PROVIDERS = ['s3', 'sftp', 'webdav', 'google_drive', 'onedrive'] as const;
export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];

export interface CredentialRecord {
  id: number;
  name: string;
  provider_type: CredentialProvider;
  /** The data as vault ciphertext (JSON inside). */
  secret: string;
  created_at: string;
  updated_at: string;
}

/** A credential as the API shows it: everything but the secret. */
export type CredentialView = Omit<CredentialRecord, 'secret'>;

const secretString = Joi.string().min(1).max(16_384);

/** What each provider's data must hold; every value here is secret. */
export const credentialDataSchemas: Record<CredentialProvider, Joi.ObjectSchema> = {
  s3: Joi.object({ access_key_id: secretString.max(256).required(), secret_access_key: secretString.max(256).required(), session_token: secretString }),
  sftp: Joi.object({ password: secretString, private_key: secretString, passphrase: secretString })
    .or('password', 'private_key')
    .with('passphrase', 'private_key')
    .messages({ 'object.missing': '"data" needs a "password" or a "private_key"' }),
  webdav: Joi.object({ username: secretString.max(256).required(), password: secretString.required() }),
  google_drive: Joi.object({ access_token: secretString.required(), refresh_token: secretString, expires_at: Joi.number().integer().min(0) }),
  onedrive: Joi.object({ access_token: secretString.required(), refresh_token: secretString, expires_at: Joi.number().integer().min(0) }),
};

export const credentialNameSchema = Joi.string().trim().min(1).max(100).pattern(/^[^\u0000-\u001f\u007f]*$/);

export const credentialCreateSchema = Joi.object({
  name: credentialNameSchema.required(),
  provider_type: Joi.string()
    .valid(...CREDENTIAL_PROVIDERS)
    .required(),
  data: Joi.object().unknown(true).required(),
});

export const credentialUpdateSchema = Joi.object({
  name: credentialNameSchema,
  data: Joi.object().unknown(true),
}).or('name', 'data');
