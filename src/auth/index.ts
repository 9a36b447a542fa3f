/** Accounts, sessions, API keys, 2FA and login rate limiting. */
export { AuthService, publicUser, TOTP_LOGIN_TTL_MS, type LoginOutcome, type SetupAccess } from './auth-service.ts';
export { readSetupCode, SetupCode, SETUP_CODE_FILE } from './setup-code.ts';
export { SessionService, SESSION_TTL_SECONDS, type AuthenticatedSession, type SessionView } from './sessions.ts';
export { ApiKeyService, API_KEY_PREFIX, looksLikeApiKey, type AuthenticatedKey, type CreatedApiKey } from './api-keys.ts';
export { Callers, actorOf, type Caller } from './callers.ts';
export { Revocations } from './revocations.ts';
export { RateLimiter, LOGIN_RATE_LIMIT, type RateLimiterOptions } from './rate-limiter.ts';
export { generateTypableCode, hashRecoveryCode } from './recovery-codes.ts';
export { currentTotpCode, TOTP_STEP_MS } from './totp.ts';
