/** Accounts, sessions, 2FA and login rate limiting. */
export { AuthService, publicUser, TOTP_LOGIN_TTL_MS, type LoginOutcome } from './auth-service.ts';
export { SessionService, SESSION_TTL_SECONDS, type AuthenticatedSession } from './sessions.ts';
export { RateLimiter, LOGIN_RATE_LIMIT, type RateLimiterOptions } from './rate-limiter.ts';
export { currentTotpCode, TOTP_STEP_MS } from './totp.ts';
