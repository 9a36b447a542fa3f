/** Accounts, sessions, 2FA and login rate limiting. */
export { AuthService, publicUser, TOTP_LOGIN_TTL_MS, type LoginOutcome, type SetupAccess } from './auth-service.ts';
export { readSetupCode, SetupCode, SETUP_CODE_FILE } from './setup-code.ts';
export { SessionService, SESSION_TTL_SECONDS, type AuthenticatedSession } from './sessions.ts';
export { RateLimiter, LOGIN_RATE_LIMIT, type RateLimiterOptions } from './rate-limiter.ts';
export { currentTotpCode, TOTP_STEP_MS } from './totp.ts';
