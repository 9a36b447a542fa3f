/**
 * The hapi server: security defaults, the error edge, session auth, and every route under /api.
 * Routes are listed here, in one place; each resource's file builds its own. `openApiPort` puts it
 * on its port, HTTPS and plain HTTP side by side.
 */
import http from 'node:http';
import tls from 'node:tls';
import Hapi from '@hapi/hapi';
import type { ApiKeyService, AuthService, Callers, RateLimiter, SessionService } from '../auth/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { BoxExportService } from '../box-export/index.ts';
import type { Logger } from '../log.ts';
import type { DriveService } from '../devices/index.ts';
import type { CredentialService } from '../credentials/credential-service.ts';
import type { DashboardService } from '../dashboard/index.ts';
import type { FolderService } from '../files/folder-service.ts';
import type { SnapshotService } from '../history/index.ts';
import type { JobService } from '../jobs/job-service.ts';
import type { ChannelService } from '../notifications/index.ts';
import type { PairingService } from '../pairing/index.ts';
import type { AlertHistoryRepository } from '../store/index.ts';
import type { RunHistory, RunManager } from '../runs/index.ts';
import type { ScheduleService } from '../schedules/index.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import type { PlainHttp } from '../config.ts';
import { openFrontDoor, type FrontDoor, type ServerCertificate } from '../tls/index.ts';
import { ClientAddresses, isOpenedOnThisBox } from './client-address.ts';
import { auditPlugin } from './plugins/audit.ts';
import { buildOpenApiDocument, openApiRoutes, responseCheckOptions, type ResponseCheck, type TableRoute } from './openapi/index.ts';
import { connectionLimitPlugin, type ConnectionLimit } from './plugins/connection-limit.ts';
import { corsPlugin } from './plugins/cors.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { sessionAuthPlugin } from './plugins/session-auth.ts';
import { auditRoutes } from './routes/audit.ts';
import { boxExportRoutes } from './routes/box-export.ts';
import { authRoutes } from './routes/auth.ts';
import { credentialRoutes } from './routes/credentials.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { jobRoutes } from './routes/jobs.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { pairingRoutes } from './routes/pairing.ts';
import { keyRoutes } from './routes/keys.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { settingsRoutes } from './routes/settings.ts';
import { recoveryKitRoutes } from './routes/recovery-kit.ts';
import { snapshotRoutes } from './routes/snapshots.ts';
import { systemRoutes, type SystemInfo } from './routes/system.ts';
import { totpRoutes } from './routes/totp.ts';
import { failAction } from './validation.ts';

export const API_PREFIX = '/api';
/** Largest request body accepted; every body of this API is a small JSON document. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What one client may hold open and how long a request may take to arrive (issue 11). */
export interface ApiLimits {
  /** Open connections per client address; more are answered 429 `TOO_MANY_CONNECTIONS` and closed. */
  connectionsPerClient: number;
  /** Open WebSockets (status and run logs) per client address; more are refused 429 `TOO_MANY_WEBSOCKETS` before the upgrade. */
  webSocketsPerClient: number;
  /** A request's headers must have arrived this long (ms) after its first byte (or the connection's start). */
  headersTimeoutMs: number;
  /** A whole request, headers and body, must have arrived this long after its first byte. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection whose request is under way but moves no byte either way for this long is closed. */
  idleTimeoutMs: number;
  /** How often the headers and request deadlines are checked (Node's own default is 30 s). */
  timeoutCheckIntervalMs: number;
  /** WebSockets are pinged this often; one that has not answered the previous ping is closed. */
  webSocketHeartbeatMs: number;
}

/**
 * The daemon's limits. 64 connections is ten browsers' worth from one address; the TUI, a phone and
 * a script together use a handful. Every body is small JSON, so a request has a minute to arrive;
 * the slowest handler (a connection test) ends well within two minutes. Keep-alive stays above
 * undici's 4 s, so clients close idle sockets first and never reuse one the server is closing.
 */
export const DEFAULT_API_LIMITS: ApiLimits = {
  connectionsPerClient: 64,
  webSocketsPerClient: 16,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
  timeoutCheckIntervalMs: 2000,
  webSocketHeartbeatMs: 30_000,
};

/** The HTTP listener with the limits' timeouts; hapi serves on it. */
function createListener(limits: ApiLimits): http.Server {
  const listener = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  });
  // Applies while a request is under way; ws clears it on sockets it upgrades.
  listener.timeout = limits.idleTimeoutMs;
  return listener;
}

/**
 * What the routes call: one service per resource. A handler validates, calls one method of one of
 * these, and shapes the answer; the rules live behind them.
 */
export interface ApiDependencies {
  version: string;
  /** What `GET /system/info` answers: the version, HTTPS, the fingerprint, the URLs. */
  systemInfo(): SystemInfo;
  log: Logger;
  auth: AuthService;
  sessions: SessionService;
  /** API keys: made, listed and revoked by the owner; checked with sessions by `callers`. */
  keys: ApiKeyService;
  /** Pairing a phone: one-time codes traded for a key (`POST /pairing/claim` shares `loginLimiter`). */
  pairing: PairingService;
  /** Reads a bearer token or cookie as a session or a key. */
  callers: Callers;
  /** Where audited requests are recorded. */
  audit: AuditLog;
  loginLimiter: RateLimiter;
  /** Reverse proxies whose forwarding headers are believed (`Config.trustedProxies`). */
  trustedProxies: readonly string[];
  settings: SettingsService;
  jobs: JobService;
  /** A snapshots job's history: list, get, delete, browse, retention preview. */
  snapshots: SnapshotService;
  /** Starts and cancels runs. */
  runManager: RunManager;
  history: RunHistory;
  schedules: ScheduleService;
  credentials: CredentialService;
  /** Notification channels and the alert history. */
  channels: ChannelService;
  alertHistory: AlertHistoryRepository;
  /** Drive listings, mount and unmount with their rules. */
  drives: DriveService;
  /** Browse, mkdir and the allowed roots. */
  folders: FolderService;
  /** Job states, drives and destination space: the dashboard, health and metrics. */
  dashboard: DashboardService;
  /** The box's own sealed export and its import. */
  boxExport: BoxExportService;
  limits: ApiLimits;
  /** Counts each client's connections (built with `limits.connectionsPerClient`); ws.ts consults it too. */
  connections: ConnectionLimit;
  /** What an answer that does not match its declared schema does (default `log`; tests use `error`). */
  responseCheck?: ResponseCheck;
}

export async function createApiServer(deps: ApiDependencies): Promise<Hapi.Server> {
  const server = Hapi.server({
    listener: createListener(deps.limits),
    // openApiPort listens, gives the listener each connection (decrypted when it is TLS), and closes them at stop.
    autoListen: false,
    operations: { cleanStop: false },
    router: { stripTrailingSlash: true },
    routes: {
      security: { hsts: false, xframe: 'deny', noSniff: true, referrer: 'no-referrer', xss: 'disabled' },
      cache: { otherwise: 'no-store' },
      payload: { maxBytes: MAX_BODY_BYTES, allow: ['application/json'] },
      validate: { failAction },
      response: responseCheckOptions(deps.responseCheck ?? 'log', deps.log),
      state: { parse: true, failAction: 'ignore' },
    },
  });

  const clients = new ClientAddresses(deps.trustedProxies);
  await server.register(connectionLimitPlugin(deps.connections));
  await server.register(errorsPlugin(deps.log));
  // After the errors plugin, so its headers also go on errors already in the contract's shape.
  await server.register(corsPlugin(() => deps.settings.get().cors_origins));
  await server.register(sessionAuthPlugin(deps.callers, clients));
  await server.register(auditPlugin(deps.audit, clients));
  server.ext('onPreResponse', (request, h) => {
    const response = request.response;
    if ('isBoom' in response) return h.continue;
    // An API answer is data, never a page: nothing in it may run or be framed.
    response.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    return h.continue;
  });

  // Built from the route table once every route is in it (onPreStart below, which also proves it
  // builds), then on request: kept only while something else holds it (a WeakRef), since its ~130 kB
  // of JSON as objects would sit in every daemon's heap for a client that reads it once when paired.
  let openApiTable: readonly TableRoute[] = [];
  let openApiCache: WeakRef<Record<string, unknown>> | null = null;
  const openApiDocument = () => {
    const cached = openApiCache?.deref();
    if (cached) return cached;
    const built = buildOpenApiDocument(openApiTable, deps.version);
    openApiCache = new WeakRef(built);
    return built;
  };
  await server.register(
    {
      name: 'cairn-api',
      register(api) {
        api.route([
          ...systemRoutes(deps.version, deps.systemInfo, deps.drives, deps.folders, deps.dashboard),
          ...dashboardRoutes(deps.dashboard),
          ...authRoutes(deps.auth, deps.sessions, deps.loginLimiter, clients),
          ...totpRoutes(deps.auth, deps.loginLimiter, clients),
          ...settingsRoutes(deps.settings),
          ...jobRoutes(deps.jobs, deps.runManager),
          ...snapshotRoutes(deps.snapshots, deps.jobs),
          ...recoveryKitRoutes(deps.jobs),
          ...runRoutes(deps.history),
          ...credentialRoutes(deps.credentials),
          ...scheduleRoutes(deps.schedules),
          ...notificationRoutes(deps.channels, deps.alertHistory),
          ...keyRoutes(deps.keys),
          ...pairingRoutes(deps.pairing, deps.loginLimiter, clients),
          ...auditRoutes(deps.audit),
          ...openApiRoutes(openApiDocument),
          ...boxExportRoutes(deps.boxExport, () => deps.systemInfo().hostname),
        ]);
      },
    },
    { routes: { prefix: API_PREFIX } },
  );
  // Prometheus scrapes /metrics by convention: the one route outside /api.
  server.route(metricsRoutes(deps.version, deps.dashboard));
  server.ext('onPreStart', () => {
    openApiTable = server.table();
    buildOpenApiDocument(openApiTable, deps.version);
  });
  return server;
}

/** Where and how the API is served. */
export interface ApiPortOptions {
  host: string;
  port: number;
  /** The certificate served to TLS clients; null: HTTPS off, plain HTTP only. */
  certificate: ServerCertificate | null;
  /** Who is served plain HTTP (`Config.plainHttp`). */
  plainHttp: PlainHttp;
  limits: Pick<ApiLimits, 'headersTimeoutMs'>;
}

/**
 * Listens on `host:port` for the started `server`: TLS clients get HTTPS with the certificate, plain
 * clients get HTTP if `plainHttp` admits them (a connection opened on this box always counts as
 * loopback), and a 403 `HTTPS_REQUIRED` otherwise.
 */
export function openApiPort(server: Hapi.Server, options: ApiPortOptions): Promise<FrontDoor> {
  const secureContext = options.certificate
    ? tls.createSecureContext({ cert: options.certificate.certificate, key: options.certificate.key, minVersion: 'TLSv1.2' })
    : null;
  const refusal = secureContext
    ? 'This box serves plain HTTP only to itself: connect with https:// on the same port, and pin the certificate fingerprint that `cairn fingerprint` shows on the box.'
    : 'This box serves the API only to itself (HTTPS is off and plain HTTP is limited to loopback): set CAIRN_PLAIN_HTTP=any, or turn HTTPS on.';
  return openFrontDoor({
    host: options.host,
    port: options.port,
    server: server.listener,
    secureContext,
    admitsPlain: (socket) => options.plainHttp === 'any' || isOpenedOnThisBox(socket.remoteAddress, socket.localAddress),
    refusal,
    greetingTimeoutMs: options.limits.headersTimeoutMs,
  });
}
