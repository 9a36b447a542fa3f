/**
 * The composition root: builds the store, vault, auth and API from the config, starts them, and
 * stops them in reverse order. Nothing else wires modules together.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Hapi from '@hapi/hapi';
import { startAdminSocket } from './admin/admin-socket.ts';
import { ConnectionLimit } from './api/plugins/connection-limit.ts';
import type { ResponseCheck } from './api/openapi/index.ts';
import { createApiServer, DEFAULT_API_LIMITS, openApiPort, type ApiLimits } from './api/server.ts';
import { FileHostKeyPins } from './destinations/host-key-pins.ts';
import { attachWebSockets } from './api/ws.ts';
import { ApiKeyService, AuthService, Callers, RateLimiter, Revocations, SessionService, SetupCode, type RateLimiterOptions } from './auth/index.ts';
import { AUDIT_FILE, AuditLog } from './audit/index.ts';
import { BoxExportService, EXPORT_PASSPHRASE_FILE, ExportPassphrase } from './box-export/index.ts';
import { ALLOWED_PATHS_SETTING, journaldRequested, type Config } from './config.ts';
import { checkedSecret, CredentialService } from './credentials/credential-service.ts';
import { DashboardService, FreeSpaceCache, rememberedNextRuns, scheduleOverdueRule, type OverdueRule } from './dashboard/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { JobRecord } from './domain/jobs.ts';
import { destinationOf } from './destinations/index.ts';
import { walkCountsFileOf } from './destinations/remote/local-walk.ts';
import { DriveListings, driveOperations, DriveService, monitorBlockEvents, OutcomeSignal, PlugInPolicy } from './devices/index.ts';
import { AllowedPaths } from './files/allowed-paths.ts';
import { FolderService } from './files/folder-service.ts';
import { EventBus } from './events.ts';
import { SnapshotService } from './history/index.ts';
import { checkDestinationFolders, JobPaths } from './jobs/job-paths.ts';
import { JobService } from './jobs/job-service.ts';
import { RepositoryPasswords } from './jobs/repository-password.ts';
import { createLogger, type Logger } from './log.ts';
import { RunLogs } from './logs/index.ts';
import { AlertMonitor, AlertSender, ChannelService, fullConfigOf } from './notifications/index.ts';
import { effectiveRules, type NotifyRules } from './domain/notifications.ts';
import { PairingService } from './pairing/index.ts';
import { RepositoryRunner, RunHistory, RunManager } from './runs/index.ts';
import { ClockSyncWatch, ScheduleService, TRUSTED_CLOCK, type ClockSyncWatchOptions, type ClockTrust } from './schedules/index.ts';
import { SettingsService } from './settings/settings-service.ts';
import { loadOrCreateKeyFile, openStore, type Store } from './store/index.ts';
import { loadOrCreateCertificate, serverIdentity, type ServerCertificate, type ServerIdentity } from './tls/index.ts';
import { openVault } from './vault/index.ts';
import { VERSION } from './version.ts';

export const SESSION_KEY_FILE = 'session.key';
export const LOGS_DIR = 'logs';

export interface Daemon {
  /** Base URL of the API over plain HTTP, e.g. http://127.0.0.1:8080 (served to this box, or to all with plain_http any). */
  url: string;
  /** The same port over HTTPS, e.g. https://127.0.0.1:8080; null when HTTPS is off. */
  httpsUrl: string | null;
  /** The certificate served over HTTPS; null when HTTPS is off. */
  certificate: ServerCertificate | null;
  /** The URLs and fingerprint a phone app connects with and pins (the pairing QR code shows them). */
  identity(): ServerIdentity;
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
  /** How the clock's synchronisation is asked while `waitForClockSync` is on (default: the system, every 15 s); tests drive it. */
  clockSync?: Pick<ClockSyncWatchOptions, 'probe' | 'probeEveryMs'>;
  /** How long udev events for one drive are gathered into one plug-in; tests may shorten it. */
  plugInDebounceMs?: number;
  /** Per-client caps and request timeouts over DEFAULT_API_LIMITS; tests shorten or widen them. */
  apiLimits?: Partial<ApiLimits>;
  /** The clock alerts are decided by (overdue, daily repeats); tests move it forward. */
  alertClock?: () => Date;
  /** How often the overdue check runs (default OVERDUE_CHECK_MS); tests shorten it. */
  overdueCheckMs?: number;
  /** How long a job may go without a success before it is overdue (default: from its schedules, see dashboard/overdue.ts). */
  overdueAfterMs?: OverdueRule;
  /** The clock pairing codes expire by (ms since the epoch); tests move it past 10 minutes. */
  pairingClock?: () => number;
  /** What an answer that does not match its documented schema does (default `log`); tests use `error`. */
  responseCheck?: ResponseCheck;
  /** How long a repository task asked to stop may take before its worker is terminated (default 30 s, 10 s at stop); tests use 0. */
  repositoryStopGraceMs?: number;
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
    const repositoryPasswords = new RepositoryPasswords(vault);
    const revocations = new Revocations();
    const sessions = new SessionService(
      store.sessions,
      store.users,
      await loadOrCreateKeyFile(path.join(config.dataDir, SESSION_KEY_FILE), 32),
      revocations,
    );
    const keys = new ApiKeyService(store.apiKeys, store.users, revocations);
    const callers = new Callers(sessions, keys);
    const audit = await AuditLog.open(
      path.join(config.dataDir, AUDIT_FILE),
      () => store.settings.get().audit_max_entries,
      (error) => log.error('could not write the audit log', { error: String(error) }),
    );
    teardown.push(() => audit.flush());
    const auth = new AuthService(store.users, sessions, vault);
    const setupCode = await armSetupCode(config.dataDir, auth);
    if (setupCode) teardown.push(() => setupCode.retire());
    const loginLimiter = new RateLimiter(options.loginRateLimit);

    const events = new EventBus();
    const logs = new RunLogs(path.join(config.dataDir, LOGS_DIR), { maxBytes: config.runLogMaxMb * 1_000_000 });
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
    // Built below with the services it uses; runs reach it only after the daemon has started.
    let boxExport: BoxExportService | null = null;
    const repositories = new RepositoryRunner({ secretOf, passwordOf: (job) => repositoryPasswords.of(job), hostKeys, stopGraceMs: options.repositoryStopGraceMs, log });
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
      repositories,
      afterBackup: async (job, runLog, signal) => {
        const written = await boxExport?.writeBesideBackup(job, signal);
        if (written) runLog('info', `Box export written to ${written} (cairn import opens it with the export passphrase)`);
      },
    });
    const driveListings = new DriveListings();
    const alertClock = options.alertClock ?? (() => new Date());
    const box = os.hostname();
    const alertSender = new AlertSender({ channels: store.channels, history: store.alertHistory, vault, log, now: alertClock });
    const channels = new ChannelService({
      channels: store.channels,
      vault,
      sender: alertSender,
      usersOf: (id) => ({
        jobs: store.jobs
          .all()
          .filter((job) => job.notify?.channel_ids?.includes(id))
          .map((job) => ({ id: job.id, name: job.name })),
        defaults: store.settings.get().notify.channel_ids.includes(id),
      }),
      now: alertClock,
      timezone: () => store.settings.get().timezone,
      box,
    });
    // Alerts listen before the runs a previous daemon left are marked failed, so those alert like any failure;
    // and stop after the run manager, so runs a stop interrupts are announced too.
    const alerts = new AlertMonitor({
      events,
      jobs: store.jobs,
      runs: store.runs,
      states: store.alertStates,
      sender: alertSender,
      defaults: () => store.settings.get().notify,
      timezone: () => store.settings.get().timezone,
      box,
      localFoldersOf: (job) => (destinationOf(job.destination_type).localFolders?.(job.destination_config) ?? []).reverse(),
      driveOf: async (job) => {
        const drive = destinationOf(job.destination_type).removableDrive?.(job.destination_config);
        if (!drive) return null;
        const attached = await driveListings.listDrives().then(
          (list) => list.some((candidate) => candidate.uuid.toLowerCase() === drive.uuid.toLowerCase()),
          () => null,
        );
        return attached === null ? null : { name: `${drive.uuid} (${drive.mount_point})`, attached };
      },
      now: alertClock,
      log,
      checkEveryMs: options.overdueCheckMs,
    });
    alerts.start();
    teardown.push(() => alerts.stop());
    const interrupted = await runManager.failInterruptedRuns();
    if (interrupted > 0) log.warn(`${interrupted} run(s) interrupted by the last stop were marked failed`);
    teardown.push(() => runManager.stop());

    // Built before the schedules it gates, started after them: its first "yes" replans them.
    let clockWatch: ClockSyncWatch | null = null;
    const clock: ClockTrust = config.waitForClockSync
      ? (clockWatch = new ClockSyncWatch({ ...options.clockSync, onSynchronized: () => schedules.refresh(), log }))
      : TRUSTED_CLOCK;
    const schedules = new ScheduleService({
      schedules: store.schedules,
      jobs: store.jobs,
      runs: runManager,
      timezone: () => store.settings.get().timezone,
      now: options.scheduleClock,
      clockTrusted: () => clock.synchronized(),
      log,
    });
    schedules.start();
    teardown.push(async () => schedules.stop());
    if (clockWatch) {
      await clockWatch.start();
      teardown.push(async () => clockWatch.stop());
    }

    // The job service shows the snapshot counts, and this one looks jobs up through it.
    const snapshots: SnapshotService = new SnapshotService({
      jobOf: (id): JobRecord => jobs.require(id),
      allJobs: () => store.jobs.all(),
      destinationOf,
      timezone: () => store.settings.get().timezone,
      activeRunOf: (jobId) => runManager.activeRunOf(jobId),
      events,
      tallies: store.snapshotTallies,
      log,
      repositories,
    });

    const jobs = new JobService({
      jobs: store.jobs,
      schedules: store.schedules,
      runs: store.runs,
      runManager,
      logs,
      allowed: allowedPaths,
      schedulesOf: (jobId) => schedules.viewsOf(jobId),
      credentialExists: (id) => credentials.exists(id),
      checkChannels: (ids) => channels.checkExist(ids),
      checkPaths: (job) => jobPaths.checkSaved(job),
      onChange: () => schedules.refresh(),
      forgetSentFiles: async (jobId) => {
        await fs.rm(sentFilesOf(jobId), { force: true });
        await fs.rm(walkCountsFileOf(sentFilesOf(jobId)), { force: true });
      },
      snapshotFieldsOf: (job) => snapshots.fieldsOf(job),
      snapshotForRestore: (job, snapshotId) => snapshots.snapshotForRestore(job, snapshotId),
      passwords: repositoryPasswords,
    });
    const stopFollowingSnapshots = snapshots.start();
    teardown.push(stopFollowingSnapshots);

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

    const certificate = config.tls
      ? await loadOrCreateCertificate({ dataDir: config.dataDir, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile })
      : null;
    const listening = { host: config.host, port: config.port };
    const identity = () => serverIdentity(certificate, listening);
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
      overdueAfterMs: options.overdueAfterMs ?? overdueRuleWith(() => store.settings.get().notify, scheduleOverdueRule(jobSchedules)),
      space: freeSpace,
      drives: driveListings,
      driveUuidOf: (job) => destinationOf(job.destination_type).removableDrive?.(job.destination_config)?.uuid ?? null,
      clock,
    });

    const exportPassphrase = await ExportPassphrase.open(path.join(config.dataDir, EXPORT_PASSPHRASE_FILE), vault);
    const settings = new SettingsService(store.settings, () => schedules.refresh(), (ids) => channels.checkExist(ids), exportPassphrase);
    boxExport = new BoxExportService({
      jobs: { all: () => store.jobs.all(), create: (input) => jobs.create(input), delete: (id) => jobs.delete(id), activeRunOf: (id) => runManager.activeRunOf(id), repositoryPasswordOf: (job) => repositoryPasswords.of(job) },
      schedules: { all: () => store.schedules.all(), create: (jobId, input) => schedules.create(jobId, input) },
      credentials,
      channels: { all: () => store.channels.all(), fullConfigOf: (channel) => fullConfigOf(channel, vault), create: (input) => channels.create(input), delete: (id) => channels.delete(id) },
      // The store's settings, not the service's view: the file holds settings, not whether a passphrase is set.
      settings: { get: () => store.settings.get(), update: (change) => settings.update(change) },
      passphrase: exportPassphrase,
      destinationOf,
      secretOf,
      checkedSecret,
      hostKeys,
      dataDir: config.dataDir,
      box,
      version: VERSION,
    });

    const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...options.apiLimits };
    const connections = new ConnectionLimit(limits.connectionsPerClient);
    const server = await createApiServer({
      version: VERSION,
      systemInfo: () => ({
        version: VERSION,
        hostname: os.hostname(),
        https: certificate !== null,
        fingerprint_sha256: certificate?.fingerprint ?? null,
        certificate: certificate?.origin ?? null,
        certificate_valid_to: certificate?.validTo ?? null,
        urls: identity().urls,
        plain_http: config.plainHttp,
      }),
      log,
      auth,
      sessions,
      keys,
      pairing: new PairingService({
        issueKey: (name, scope) => keys.issue(name, scope),
        keyNames: () => keys.list().map((key) => key.name),
        identity,
        now: options.pairingClock,
      }),
      callers,
      audit,
      loginLimiter,
      trustedProxies: config.trustedProxies,
      settings,
      boxExport,
      jobs,
      snapshots,
      runManager,
      history: new RunHistory(store.runs, store.jobs, logs),
      schedules,
      credentials,
      channels,
      alertHistory: store.alertHistory,
      drives: new DriveService({ allowed: allowedPaths, drives, listings: driveListings }),
      folders: new FolderService(allowedPaths),
      dashboard,
      limits,
      connections,
      responseCheck: options.responseCheck,
    });
    await server.start();
    teardown.push(() => server.stop({ timeout: 5000 }));
    const port = await openApiPort(server, { host: config.host, port: config.port, certificate, plainHttp: config.plainHttp, limits });
    listening.port = port.address().port;
    teardown.push(() => port.close(5000));
    teardown.push(attachWebSockets(server, { callers, revocations, events, runs: store.runs, logs, connections, limits }));
    // First at stop: the kept reader's reads in flight answer 503 while the listener drains, rather than be cut off.
    teardown.push(() => repositories.stop());

    const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostInUrl}:${listening.port}`;
    const httpsUrl = certificate ? `https://${hostInUrl}:${listening.port}` : null;
    // The CLI on the box reaches a daemon listening on every address through loopback (plain HTTP is always served there).
    const localUrl = config.host === '0.0.0.0' || config.host === '::' ? `http://127.0.0.1:${listening.port}` : url;
    teardown.push(await startAdminSocket(config.dataDir, { auth, url: localUrl, onPasswordReset: () => loginLimiter.clear() }));
    // Plain first: scripts and tests read the URL after "listening on", and plain HTTP is what works on the box.
    const served = config.plainHttp === 'any' ? '' : ` (plain HTTP for this box only)`;
    log.info(`Cairn ${VERSION} listening on ${url}${httpsUrl ? ` and ${httpsUrl}` : ''}${served}`, {
      data_dir: config.dataDir,
      ...(certificate ? { certificate: certificate.file, fingerprint_sha256: certificate.fingerprint } : {}),
    });
    if (setupCode && auth.setupRequired()) {
      log.info(
        `No owner yet. On this box, \`cairn tui\` creates the owner account. From another computer, setup needs the setup code ${setupCode.code} ` +
          `(valid until the owner exists or the daemon restarts; \`sudo CAIRN_DATA_DIR=${config.dataDir} cairn setup-code\` shows it).`,
      );
    }
    return { url, httpsUrl, certificate, identity, server, store, events, runManager, stop };
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

/**
 * One meaning of "overdue" for the dashboard, health and metrics and for the alerts: the owner's
 * `overdue_hours` rule (the job's, else the default) when set, else the schedules' own rhythm.
 */
function overdueRuleWith(defaults: () => NotifyRules, fromSchedules: OverdueRule): OverdueRule {
  return (job, now) => {
    const hours = effectiveRules(defaults(), job.notify).overdue_hours;
    return hours === null ? fromSchedules(job, now) : hours * 60 * 60 * 1000;
  };
}
