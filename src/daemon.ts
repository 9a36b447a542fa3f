/**
 * The composition root: builds the store, vault, auth and API from the config, starts them, and
 * stops them in reverse order. Nothing else wires modules together.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Hapi from '@hapi/hapi';
import { startAdminSocket } from './admin/admin-socket.ts';
import { ConnectionLimit } from './api/plugins/connection-limit.ts';
import { createApiServer, DEFAULT_API_LIMITS, type ApiLimits } from './api/server.ts';
import { FileHostKeyPins } from './destinations/host-key-pins.ts';
import { attachWebSockets } from './api/ws.ts';
import { AuthService, RateLimiter, SessionService, SetupCode, type RateLimiterOptions } from './auth/index.ts';
import { ALLOWED_PATHS_SETTING, journaldRequested, type Config } from './config.ts';
import { CredentialService } from './credentials/credential-service.ts';
import { DashboardService, FreeSpaceCache, rememberedNextRuns, scheduleOverdueRule, type OverdueRule } from './dashboard/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { destinationOf } from './destinations/index.ts';
import { DriveListings, driveOperations, DriveService, monitorBlockEvents, OutcomeSignal, PlugInPolicy } from './devices/index.ts';
import { AllowedPaths } from './files/allowed-paths.ts';
import { FolderService } from './files/folder-service.ts';
import { EventBus } from './events.ts';
import { checkDestinationFolders, JobPaths } from './jobs/job-paths.ts';
import { JobService } from './jobs/job-service.ts';
import { createLogger, type Logger } from './log.ts';
import { RunLogs } from './logs/index.ts';
import { RunHistory, RunManager } from './runs/index.ts';
import { ScheduleService } from './schedules/index.ts';
import { SettingsService } from './settings/settings-service.ts';
import { loadOrCreateKeyFile, openStore, type Store } from './store/index.ts';
import { openVault } from './vault/index.ts';
import { VERSION } from './version.ts';

export const SESSION_KEY_FILE = 'session.key';
export const LOGS_DIR = 'logs';

export interface Daemon {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  url: string;
  server: Hapi.Server;
  store: Store;
  events: EventBus;
  runManager: RunManager;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  log?: Logger;
  /** Login rate limits; tests shorten them. */
  loginRateLimit?: RateLimiterOptions;
  /** The clock schedules are fired by; tests move it to a due time. */
  scheduleClock?: () => Date;
  /** How long udev events for one drive are gathered into one plug-in; tests may shorten it. */
  plugInDebounceMs?: number;
  /** Per-client caps and request timeouts over DEFAULT_API_LIMITS; tests shorten or widen them. */
  apiLimits?: Partial<ApiLimits>;
  /** How long a job may go without a success before it is overdue (default: from its schedules, see dashboard/overdue.ts). */
  overdueAfterMs?: OverdueRule;
}

/** Starts the daemon; throws with a message for the owner when it cannot. */
export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? createLogger({ journald: journaldRequested() });
  const teardown: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of teardown.reverse()) await step().catch((error) => log.error('stop step failed', { error: String(error) }));
    teardown.length = 0;
  };

  try {
    await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    teardown.push(await lockDataDir(config.dataDir));

    const store = await openStore(config.dataDir);
    teardown.push(() => store.close());
    const vault = await openVault(config.dataDir);
    const sessions = new SessionService(
      store.sessions,
      store.users,
      await loadOrCreateKeyFile(path.join(config.dataDir, SESSION_KEY_FILE), 32),
    );
    const auth = new AuthService(store.users, sessions, vault);
    const setupCode = await armSetupCode(config.dataDir, auth);
    if (setupCode) teardown.push(() => setupCode.retire());
    const loginLimiter = new RateLimiter(options.loginRateLimit);

    const events = new EventBus();
    const logs = new RunLogs(path.join(config.dataDir, LOGS_DIR));
    teardown.push(() => logs.close());
    const sentFilesOf = (jobId: number) => path.join(config.dataDir, 'sent-files', `job-${jobId}.json`);
    const hostKeys = new FileHostKeyPins(path.join(config.dataDir, 'host-keys.json'));
    const allowedPaths = new AllowedPaths(config.allowedPaths, { setting: ALLOWED_PATHS_SETTING, excluded: [config.dataDir] });
    const jobPaths = new JobPaths(allowedPaths, destinationOf);
    const credentials = new CredentialService(store.credentials, store.jobs, vault, {
      hostKeys,
      checkDestinationFolders: (type, destinationConfig) => checkDestinationFolders(allowedPaths, destinationOf(type), destinationConfig),
    });
    const secretOf = async (job: { credential_id: number | null }) => (job.credential_id === null ? null : credentials.secretOf(job.credential_id));
    const runManager = new RunManager({
      runs: store.runs,
      jobs: store.jobs,
      settings: store.settings,
      stats: store.runStats,
      logs,
      destinationOf,
      secretOf,
      hostKeys,
      paths: jobPaths,
      stateFileOf: (job) => sentFilesOf(job.id),
      events,
      log,
    });
    const interrupted = await runManager.failInterruptedRuns();
    if (interrupted > 0) log.warn(`${interrupted} run(s) interrupted by the last stop were marked failed`);
    teardown.push(() => runManager.stop());

    const schedules = new ScheduleService({
      schedules: store.schedules,
      jobs: store.jobs,
      runs: runManager,
      timezone: () => store.settings.get().timezone,
      now: options.scheduleClock,
      log,
    });
    schedules.start();
    teardown.push(async () => schedules.stop());

    const jobs = new JobService({
      jobs: store.jobs,
      schedules: store.schedules,
      runs: store.runs,
      runManager,
      logs,
      allowed: allowedPaths,
      schedulesOf: (jobId) => schedules.viewsOf(jobId),
      credentialExists: (id) => credentials.exists(id),
      checkPaths: (job) => jobPaths.checkSaved(job),
      onChange: () => schedules.refresh(),
      forgetSentFiles: (jobId) => fs.rm(sentFilesOf(jobId), { force: true }),
    });

    const driveListings = new DriveListings();
    const drives = driveOperations(driveListings);
    const plugIn = new PlugInPolicy({
      jobs: store.jobs,
      runManager,
      events,
      log,
      signal: new OutcomeSignal({ ledPath: config.ledPath, notifyCommand: config.notifyCommand }, log),
      drives,
      allowed: allowedPaths,
      debounceMs: options.plugInDebounceMs,
    });
    teardown.push(() => plugIn.stop());
    if (config.watchDrives) {
      const monitor = monitorBlockEvents(
        (event) => {
          driveListings.invalidate();
          plugIn.handle(event);
        },
        (problem) => log.warn(problem),
      );
      teardown.push(async () => monitor.stop());
      // Drives present before the daemon started count as just plugged in.
      void plugIn.handleAttachedDrives().catch((error) => log.warn('could not list drives at start', { error: String(error) }));
    }

    const freeSpace = new FreeSpaceCache({ destinationOf, secretOf, hostKeys });
    // A run changes what is free at its destination: read it again then, not on the next dashboard call.
    const stopSpaceRefresh = events.on('run:finished', (run) => {
      const job = store.jobs.byId(run.job_id);
      if (job) freeSpace.refresh(job);
    });
    teardown.push(async () => stopSpaceRefresh());
    const jobSchedules = { schedulesOf: (jobId: number) => store.schedules.ofJob(jobId), timezone: () => store.settings.get().timezone };
    const dashboard = new DashboardService({
      jobs: store.jobs,
      runs: store.runs,
      stats: store.runStats,
      nextRunOf: rememberedNextRuns(jobSchedules),
      overdueAfterMs: options.overdueAfterMs ?? scheduleOverdueRule(jobSchedules),
      space: freeSpace,
      drives: driveListings,
      driveUuidOf: (job) => destinationOf(job.destination_type).removableDrive?.(job.destination_config)?.uuid ?? null,
    });

    const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...options.apiLimits };
    const connections = new ConnectionLimit(limits.connectionsPerClient);
    const server = await createApiServer({
      host: config.host,
      port: config.port,
      version: VERSION,
      log,
      auth,
      sessions,
      loginLimiter,
      trustedProxies: config.trustedProxies,
      settings: new SettingsService(store.settings, () => schedules.refresh()),
      jobs,
      runManager,
      history: new RunHistory(store.runs, store.jobs, logs),
      schedules,
      credentials,
      drives: new DriveService({ allowed: allowedPaths, drives, listings: driveListings }),
      folders: new FolderService(allowedPaths),
      dashboard,
      limits,
      connections,
    });
    await server.start();
    teardown.push(() => server.stop({ timeout: 5000 }));
    teardown.push(attachWebSockets(server, { sessions, events, runs: store.runs, logs, connections, limits }));

    const url = `http://${server.info.host.includes(':') ? `[${server.info.host}]` : server.info.host}:${server.info.port}`;
    // The CLI on the box reaches a daemon listening on every address through loopback.
    const localUrl = config.host === '0.0.0.0' || config.host === '::' ? `http://127.0.0.1:${server.info.port}` : url;
    teardown.push(await startAdminSocket(config.dataDir, { auth, url: localUrl, onPasswordReset: () => loginLimiter.clear() }));
    log.info(`Cairn ${VERSION} listening on ${url}`, { data_dir: config.dataDir });
    if (setupCode && auth.setupRequired()) {
      log.info(
        `No owner yet. On this box, \`cairn tui\` creates the owner account. From another computer, setup needs the setup code ${setupCode.code} ` +
          `(valid until the owner exists or the daemon restarts; \`sudo CAIRN_DATA_DIR=${config.dataDir} cairn setup-code\` shows it).`,
      );
    }
    return { url, server, store, events, runManager, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * While the box has no owner, a fresh setup code guards the setup from other computers; otherwise
 * a code file left by an earlier run is removed.
 */
async function armSetupCode(dataDir: string, auth: AuthService): Promise<SetupCode | null> {
  if (!auth.setupRequired()) {
    await SetupCode.removeLeftover(dataDir);
    return null;
  }
  const code = await SetupCode.create(dataDir);
  auth.requireSetupCode(code);
  return code;
}
