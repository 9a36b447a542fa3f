/** Pairing a phone by QR code: what starting and claiming a pairing accept. Pure, no I/O. */
import Joi from 'joi';
import { API_KEY_SCOPES, apiKeyInputSchema, type ApiKeyScope } from './api-keys.ts';

/** A key's name rule (1–64 characters, no control characters), for the names pairing gives keys. */
const keyName = apiKeyInputSchema.extract('name') as Joi.StringSchema;

/** `POST /api/pairing`: the scope the paired app's key gets, and optionally the key's name. */
export const pairingStartSchema = Joi.object({
  scope: Joi.string().valid(...API_KEY_SCOPES).required(),
  name: keyName.optional(),
});

export interface PairingStart {
  scope: ApiKeyScope;
  /** The key's name; without it the key is named after the device that claims it. */
  name?: string;
}

/** `POST /api/pairing/claim`: the code from the QR code and the device's name. */
export const pairingClaimSchema = Joi.object({
  code: Joi.string().min(1).max(64).required(),
  device_name: keyName.required(),
});

export interface PairingClaim {
  code: string;
  device_name: string;
}

/** A pairing's state: waiting for its app, used by one, past its 10 minutes, or called off by the owner. */
export type PairingState = 'pending' | 'claimed' | 'expired' | 'cancelled';

/** A pairing as the API shows it: never its code, which is given out once, when it is made. */
export interface PairingView {
  id: number;
  scope: ApiKeyScope;
  name: string | null;
  state: PairingState;
  created_at: string;
  expires_at: string;
  claimed_at: string | null;
  /** The key the claim made (its id and name), once claimed. */
  key: { id: number; name: string } | null;
}
