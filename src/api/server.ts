/**
 * The hapi server: security defaults, the error edge, session auth, and every route under /api.
 * Routes are listed here, in one place; each resource's file builds its own.
 */
import Hapi from '@hapi/hapi';
import type { AuthService, RateLimiter, SessionService } from '../auth/index.ts';
import type { Logger } from '../log.ts';
import type { CredentialService } from '../credentials/credential-service.ts';
import type { AllowedPaths } from '../files/allowed-paths.ts';
import type { JobService } from '../jobs/job-service.ts';
import type { RunHistory, RunManager } from '../runs/index.ts';
import type { ScheduleRepository, SettingsRepository } from '../store/index.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { sessionAuthPlugin } from './plugins/session-auth.ts';
import { authRoutes } from './routes/auth.ts';
import { credentialRoutes } from './routes/credentials.ts';
import type { HostKeyPins } from '../destinations/types.ts';
import { jobRoutes } from './routes/jobs.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { settingsRoutes } from './routes/settings.ts';
import { systemRoutes } from './routes/system.ts';
import { totpRoutes } from './routes/totp.ts';
import { failAction } from './validation.ts';

export const API_PREFIX = '/api';
/** Largest request body accepted; every body of this API is a small JSON document. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiDependencies {
  allowedPaths: AllowedPaths;
  host: string;
  port: number;
  version: string;
  log: Logger;
  auth: AuthService;
  sessions: SessionService;
  loginLimiter: RateLimiter;
  settings: SettingsRepository;
  /** Called after settings change (the time zone moves every schedule). */
  onSettingsChange(): void;
  jobs: JobService;
  runManager: RunManager;
  history: RunHistory;
  schedules: ScheduleRepository;
  credentials: CredentialService;
  hostKeys: HostKeyPins;
}

export async function createApiServer(deps: ApiDependencies): Promise<Hapi.Server> {
  const server = Hapi.server({
    host: deps.host,
    port: deps.port,
    router: { stripTrailingSlash: true },
    routes: {
      security: { hsts: false, xframe: 'deny', noSniff: true, referrer: 'no-referrer', xss: 'disabled' },
      cache: { otherwise: 'no-store' },
      payload: { maxBytes: MAX_BODY_BYTES, allow: ['application/json'] },
      validate: { failAction },
      state: { parse: true, failAction: 'ignore' },
    },
  });

  // Clients close idle connections first (undici after 4 s), so a request never meets a socket the
  // server is closing at that moment.
  server.listener.keepAliveTimeout = 65_000;
  server.listener.headersTimeout = 66_000;

  await server.register(errorsPlugin(deps.log));
  await server.register(sessionAuthPlugin(deps.sessions));
  server.ext('onPreResponse', (request, h) => {
    const response = request.response;
    if ('isBoom' in response) return h.continue;
    // An API answer is data, never a page: nothing in it may run or be framed.
    response.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    return h.continue;
  });

  await server.register(
    {
      name: 'cairn-api',
      register(api) {
        api.route([
          ...systemRoutes(deps.version, deps.allowedPaths),
          ...authRoutes(deps.auth, deps.loginLimiter),
          ...totpRoutes(deps.auth, deps.loginLimiter),
          ...settingsRoutes(deps.settings, deps.onSettingsChange),
          ...jobRoutes(deps.jobs, deps.runManager, deps.allowedPaths),
          ...runRoutes(deps.history),
          ...credentialRoutes(deps.credentials, deps.hostKeys, deps.allowedPaths),
          ...scheduleRoutes(deps.jobs, deps.schedules, deps.settings, deps.onSettingsChange),
        ]);
      },
    },
    { routes: { prefix: API_PREFIX } },
  );
  return server;
}
