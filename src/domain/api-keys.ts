/** API keys: their scopes and the rules a new key must follow. Pure, no I/O. */
import Joi from 'joi';

/** The scopes of an API key, weakest first; each allows everything the ones before it allow. */
export const API_KEY_SCOPES = ['read', 'operate', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * What a route needs: a key scope, or `session` for what only a logged-in owner may do (manage keys
 * and sessions, change the password or 2FA, fetch a session token), so a key can never mint or
 * unlock anything stronger than itself.
 */
export type RouteScope = ApiKeyScope | 'session';
export const ROUTE_SCOPES: readonly RouteScope[] = [...API_KEY_SCOPES, 'session'];

/** True when a key of scope `has` may use a route that needs `needs`. */
export function scopeAllows(has: ApiKeyScope, needs: RouteScope): boolean {
  return needs !== 'session' && API_KEY_SCOPES.indexOf(has) >= API_KEY_SCOPES.indexOf(needs);
}

/** `POST /api/keys`: a name (unique), a scope, and an optional expiry in the future (checked by the service). */
export const apiKeyInputSchema = Joi.object({
  name: Joi.string().trim().min(1).max(64).pattern(/^[^\u0000-\u001f\u007f]+$/).required().messages({ 'string.pattern.base': '"name" must not contain control characters' }),
  scope: Joi.string().valid(...API_KEY_SCOPES).required(),
  expires_at: Joi.string().isoDate().allow(null),
});

export interface ApiKeyInput {
  name: string;
  scope: ApiKeyScope;
  expires_at?: string | null;
}

/** An API key as the API shows it: never the key, nor its hash. */
export interface ApiKeyView {
  id: number;
  name: string;
  scope: ApiKeyScope;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
  last_used_at: string | null;
  last_used_from: string | null;
}
