/**
 * Saved credentials: a name, the provider they are for, and secret data that is stored encrypted
 * and never leaves the daemon (not in a response, a log line or a run log). What the data holds for
 * each provider is that destination's `credentialSchema` (src/destinations/<type>/).
 */
import Joi from 'joi';

/** A destination type that takes a credential; which ones do is the destination registry's to say. */
export type CredentialProvider = string;

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

export const credentialNameSchema = Joi.string().trim().min(1).max(100).pattern(/^[^\u0000-\u001f\u007f]*$/);

export const credentialCreateSchema = Joi.object({
  name: credentialNameSchema.required(),
  // Checked against the destination registry by the credential service.
  provider_type: Joi.string().max(50).required(),
  data: Joi.object().unknown(true).required(),
});

export const credentialUpdateSchema = Joi.object({
  name: credentialNameSchema,
  data: Joi.object().unknown(true),
}).or('name', 'data');
