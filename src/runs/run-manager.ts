/**
 * The run manager: the one place runs are created, started, cancelled and finished.
 * - One run per job at a time: a second request while one is pending or running is a 409.
 * - At most `max_concurrent_runs` run at once; the rest wait `pending`, first come first served.
 * - Every run ends in exactly one of completed | failed | cancelled, even when the daemon stops;
 *   runs left pending/running by a crash are marked failed at the next start.
 */
import { CairnError, conflict, isCairnError, notFound } from '../domain/errors.ts';
import { withOptionDefaults, type JobRecord } from '../domain/jobs.ts';
import { DRIVE_REMOVED_MESSAGE, isBackupRun, type LogLevel, type RunRecord, type RunTrigger, type TransferPlan, type TransferTotals, type VerifyInput } from '../domain/runs.ts';
import { folderNamesOf } from '../destinations/source-names.ts';
import type { Destination, HostKeyPins } from '../destinations/types.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { RunLogs, RunLogWriter } from '../logs/index.ts';
import type { JobRepository, RunRepository, RunStatsRepository, SettingsRepository } from '../store/index.ts';
import { runsBeyondRetention } from './retention.ts';
import { describeRunOutcome } from './run-outcome.ts';
import { ProgressMeter } from './run-progress.ts';
import type { RepositoryRunner } from './repository-runs.ts';
import { retryPolicyOf, withRetries, type RetryPolicy } from './run-retries.ts';
import { pruneRun, requireSnapshotJob, snapshotRun, snapshotToVerify, verifyRun, type SnapshotRunContext, type VerifyRequest } from './snapshot-runs.ts';

/** How often progress is announced while a run transfers. */
export const PROGRESS_INTERVAL_MS = 250;

const ZERO: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };

export interface RunManagerDependencies {
  runs: RunRepository;
  jobs: JobRepository;
  settings: SettingsRepository;
  /** Counters and last outcomes that outlive pruned runs; a finished run is recorded with its status. */
  stats: Pick<RunStatsRepository, 'record'>;
  logs: RunLogs;
  destinationOf(type: string): Destination;
  /** The decrypted credential data a job's destination needs, or null. */
  secretOf(job: JobRecord): Promise<Record<string, string> | null>;
  /** Where the job's destination may remember what it sent (see SyncContext.stateFile). */
  stateFileOf(job: JobRecord): string;
  hostKeys: HostKeyPins;
  /** The allowed-paths rule applied when a run starts (see jobs/job-paths.ts). */
  paths: RunPaths;
  events: EventBus;
  log: Logger;
  /**
   * Called when a backup's work succeeded (not a dry run, restore, verify or prune), before the run
   * is marked completed, so a USB drive is still mounted for it (plug-in unmounts on `run:finished`).
   * It may log to the run; a throw is logged as a warning and the run still completes: the backup worked.
   * `signal` aborts when the run is cancelled or the daemon stops: the hook then gives up promptly.
   */
  afterBackup?(job: JobRecord, log: (level: LogLevel, message: string) => void, signal: AbortSignal): Promise<void>;
  /** Runs `repository` jobs' backups and restores in worker threads (absent: such runs fail saying so). */
  repositories?: RepositoryRunner;
}

/**
 * Checks, as each run starts, every path the run will read or write against the allowed paths, since
 * a link may have been swapped since the job was saved, or the job saved before the rule existed.
 * Throws a CairnError whose message names the path and how to allow it; the run then fails.
 */
export interface RunPaths {
  /** The real path of each source, to read from instead of the saved ones. */
  forSync(job: JobRecord): Promise<string[]>;
  /** The real path of the restore target. */
  forRestore(job: JobRecord, target: string): Promise<string>;
  /** Checks the local destination folders only, for runs that read or prune history and no source. */
  forHistory(job: JobRecord): Promise<void>;
}

export interface RunRequest {
  trigger: RunTrigger;
  scheduleId?: number | null;
  /** For trigger `restore`: where the backup goes (a checked real path) and which parts of it. */
  restore?: RestoreRequest;
  /** For trigger `verify`: which snapshot, and how much of it. */
  verify?: VerifyRequest;
}

export interface RestoreRequest {
  target: string;
  paths: string[] | null;
  /** For a snapshots job: the snapshot restored from (passed to the destination as is). */
  snapshot?: string;
}

/** Why a run was aborted: the owner cancelled it, the daemon is stopping, or its drive was pulled out. */
export type AbortReason = 'cancelled' | 'shutdown' | 'drive_removed';


export class RunManager {
  private readonly active = new Map<number, AbortController>();
  /** What each pending or running restore run restores. */
  private readonly restores = new Map<number, RestoreRequest>();
  /** What each pending or running verify run checks. */
  private readonly verifies = new Map<number, VerifyRequest>();
  private readonly executions = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly deps: RunManagerDependencies) {}

  /**
   * At start: runs a previous daemon left pending or running are marked failed, never left hanging,
   * and announced (`run:finished`) like any failed run, so alerts tell the owner; listeners that
   * should hear of them subscribe before this is called.
   */
  async failInterruptedRuns(): Promise<number> {
    const interrupted = this.deps.runs.inStatus('pending', 'running');
    for (const run of interrupted) {
      const wasRunning = run.status === 'running';
      const saved = this.deps.runs.update(run, {
        status: 'failed',
        completed_at: new Date().toISOString(),
        error_message: wasRunning
          ? 'Interrupted: the daemon stopped while this run was in progress; the destination may hold a partial copy'
          : 'Interrupted: the daemon stopped before this run could start',
      });
      await Promise.all([saved, this.deps.stats.record(run)]);
      this.logOutcome(run);
      const writer = await this.deps.logs.open(run.id);
      writer.append('error', run.error_message!);
      await writer.close();
      this.deps.events.emit('run:finished', run);
    }
    return interrupted.length;
  }

  /** The job's pending or running run, if any. */
  activeRunOf(jobId: number): RunRecord | undefined {
    return this.deps.runs.inStatus('pending', 'running').find((run) => run.job_id === jobId);
  }

  /** Queues a run of the job; it starts as soon as a slot is free. */
  async request(jobId: number, request: RunRequest): Promise<RunRecord> {
    const job = this.requireJob(jobId);
    if (this.stopping) throw new CairnError('unavailable', 'DAEMON_STOPPING', 'The daemon is stopping; try again when it is back');
    this.refuseBusy(job);
    if ((request.trigger === 'restore') !== (request.restore !== undefined)) throw new Error('a restore run needs its restore request, and only it');
    if ((request.trigger === 'verify') !== (request.verify !== undefined)) throw new Error('a verify run needs its verify request, and only it');
    const run = await this.deps.runs.create({
      job_id: job.id,
      job_name: job.name,
      status: 'pending',
      trigger: request.trigger,
      schedule_id: request.scheduleId ?? null,
      started_at: null,
      completed_at: null,
      error_message: null,
      verify: null,
      ...ZERO,
    });
    if (request.restore) this.restores.set(run.id, request.restore);
    if (request.verify) this.verifies.set(run.id, request.verify);
    this.startWaitingRuns();
    return run;
  }

  /**
   * Queues a `verify` run of one of the job's snapshots (the newest by default), found now so the
   * answer can name it. 409 NOT_A_SNAPSHOT_JOB for a mirror job, 404 SNAPSHOT_NOT_FOUND, 409
   * RUN_IN_PROGRESS while the job has a run, 403 PATH_NOT_ALLOWED, the destination's error when
   * its drive is not there.
   */
  async requestVerify(jobId: number, input: VerifyInput): Promise<{ run: RunRecord; snapshot_id: string }> {
    const job = this.requireJob(jobId);
    this.refuseBusy(job);
    requireSnapshotJob(job, this.deps.destinationOf(job.destination_type));
    // The snapshot is looked up now, so the folder is checked against the allowed paths now too.
    await this.deps.paths.forHistory(job);
    const snapshot =
      job.backup_mode === 'repository'
        ? await this.repositorySnapshotToVerify(job, input.snapshot_id)
        : await snapshotToVerify(job, this.deps.destinationOf(job.destination_type), input.snapshot_id);
    const run = await this.request(jobId, { trigger: 'verify', verify: { snapshot_id: snapshot.id, percent: input.percent } });
    return { run, snapshot_id: snapshot.id };
  }

  /**
   * Queues a `verify` run for a schedule: of the snapshot that is newest when it starts, so that a
   * drive away or no snapshot yet fails the run, where the owner sees it, rather than only the
   * daemon's log. 409 NOT_A_SNAPSHOT_JOB for a mirror job, 409 RUN_IN_PROGRESS.
   */
  async requestScheduledVerify(jobId: number, percent: number, scheduleId: number): Promise<RunRecord> {
    const job = this.requireJob(jobId);
    requireSnapshotJob(job, this.deps.destinationOf(job.destination_type));
    return this.request(jobId, { trigger: 'verify', scheduleId, verify: { snapshot_id: null, percent } });
  }

  /**
   * The snapshot a repository job's verify run names (the run checks the whole repository, which
   * holds it): `snapshotId`, or the job's newest. 404 SNAPSHOT_NOT_FOUND (none yet, or no such one).
   */
  private async repositorySnapshotToVerify(job: JobRecord, snapshotId: string | undefined): Promise<{ id: string }> {
    const snapshots = await this.repositoriesOrFail().list(job);
    const found = snapshotId === undefined ? snapshots[0] : snapshots.find((snapshot) => snapshot.id === snapshotId);
    if (found) return found;
    throw notFound('SNAPSHOT_NOT_FOUND', snapshotId === undefined ? `Job "${job.name}" has no snapshot yet` : `Job "${job.name}" has no snapshot ${snapshotId}`);
  }

  /**
   * Queues a `prune` run: the job's retention policy applied now (for a repository job: forget, then
   * a prune of the repository). 409 NOT_A_SNAPSHOT_JOB for a mirror job.
   */
  async requestPrune(jobId: number): Promise<RunRecord> {
    const job = this.requireJob(jobId);
    requireSnapshotJob(job, this.deps.destinationOf(job.destination_type));
    return this.request(jobId, { trigger: 'prune' });
  }

  /** Cancels the job's pending or running run. */
  async cancel(jobId: number): Promise<RunRecord> {
    if (!this.deps.jobs.byId(jobId)) throw notFound('JOB_NOT_FOUND', 'Job not found');
    const run = this.activeRunOf(jobId);
    if (!run) throw conflict('NO_ACTIVE_RUN', 'The job has no pending or running run to cancel');
    const controller = this.active.get(run.id);
    if (controller) {
      controller.abort('cancelled' satisfies AbortReason);
      return run;
    }
    await this.finish(run, { status: 'cancelled', error_message: 'Cancelled before it started' });
    return run;
  }

  /** Stops the job's active run because its drive was removed; the run fails saying so. */
  driveRemoved(jobId: number): RunRecord | undefined {
    const run = this.activeRunOf(jobId);
    const controller = run && this.active.get(run.id);
    if (controller) controller.abort('drive_removed' satisfies AbortReason);
    return run;
  }

  /** Adds a line to the log of the job's running run (e.g. a schedule that fired while it ran). */
  noteOnActiveRun(jobId: number, level: LogLevel, message: string): void {
    const run = this.activeRunOf(jobId);
    if (run) this.appendLog(run.id, level, message);
  }

  /** Stops every run (marked failed as interrupted) and waits until they have ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.active.values()) controller.abort('shutdown' satisfies AbortReason);
    await Promise.allSettled([...this.executions]);
    for (const run of this.deps.runs.inStatus('pending')) {
      await this.finish(run, { status: 'failed', error_message: 'Interrupted: the daemon stopped before this run could start' });
    }
    await this.deps.logs.close();
  }

  private requireJob(jobId: number): JobRecord {
    const job = this.deps.jobs.byId(jobId);
    if (!job) throw notFound('JOB_NOT_FOUND', 'Job not found');
    return job;
  }

  private refuseBusy(job: JobRecord): void {
    const busy = this.activeRunOf(job.id);
    if (busy) {
      throw conflict('RUN_IN_PROGRESS', `Job "${job.name}" already has a ${busy.status} run (${busy.id})`, { details: { run_id: busy.id } });
    }
  }

  /** Log writers of the runs that are running. */
  private readonly writers = new Map<number, RunLogWriter>();

  private appendLog(runId: number, level: LogLevel, message: string, last = false): void {
    const writer = this.writers.get(runId);
    const entry = writer?.append(level, message, { last });
    // A line past the log's limit is neither kept nor shown live: what viewers see is what is kept.
    if (entry) this.deps.events.emit('run:log', entry);
  }

  private startWaitingRuns(): void {
    if (this.stopping) return;
    const limit = this.deps.settings.get().max_concurrent_runs;
    for (const run of this.deps.runs.inStatus('pending')) {
      if (this.active.size >= limit) return;
      // A run keeps `pending` until its log is open; it is already on its way.
      if (this.active.has(run.id)) continue;
      const controller = new AbortController();
      this.active.set(run.id, controller);
      const execution = this.execute(run, controller.signal).finally(() => {
        this.active.delete(run.id);
        this.executions.delete(execution);
        this.startWaitingRuns();
      });
      this.executions.add(execution);
    }
  }

  private async execute(run: RunRecord, signal: AbortSignal): Promise<void> {
    const job = this.deps.jobs.byId(run.job_id);
    if (!job) return this.finish(run, { status: 'failed', error_message: 'The job was deleted before the run started' });
    const log = (level: LogLevel, message: string) => this.appendLog(run.id, level, message);
    // The run's outcome is its log's last word, kept even past the log's size limit.
    const logLastWord = (level: LogLevel, message: string) => this.appendLog(run.id, level, message, true);
    const announce = throttle(() => this.deps.events.emit('run:progress', run), PROGRESS_INTERVAL_MS);
    try {
      this.writers.set(run.id, await this.deps.logs.open(run.id));
      await this.deps.runs.update(run, { status: 'running', started_at: new Date().toISOString() });
      this.deps.events.emit('run:started', run);
      let meter = new ProgressMeter();
      const totals = await withRetries(retryPolicyFor(run, job), signal, log, () => {
        // Each attempt counts what it sends and plans again; the run's totals are those of the attempt that worked.
        Object.assign(run, ZERO, { progress: null });
        meter = new ProgressMeter();
        return this.work(run, job, signal, log, announce, meter);
      });
      announce.cancel();
      if (run.progress) {
        // The last progress frame of a completed transfer says 100 %, whatever the throttle held back.
        run.progress = meter.view(true);
        this.deps.events.emit('run:progress', run);
      }
      if (totals) logLastWord('info', `Completed: ${describeTotals(totals)}`);
      await this.finish(run, { status: 'completed', ...pickTotals(totals ?? ZERO) });
    } catch (error) {
      announce.cancel();
      await this.finishAfterError(run, error, signal, logLastWord);
    }
  }

  /**
   * What the run does, by its kind: verify or prune a snapshots job's history (null: nothing was
   * transferred), restore, or back up (a mirror's sync or a new snapshot); the totals it moved.
   */
  private async work(run: RunRecord, job: JobRecord, signal: AbortSignal, log: (level: LogLevel, message: string) => void, announce: () => void, meter: ProgressMeter): Promise<TransferTotals | null> {
    const destination = this.deps.destinationOf(job.destination_type);
    const history: SnapshotRunContext = { job, runId: run.id, destination, timezone: this.deps.settings.get().timezone, events: this.deps.events, signal, log };
    const verify = this.verifies.get(run.id);
    if (verify) {
      await this.deps.paths.forHistory(job);
      if (job.backup_mode === 'repository') {
        await this.repositoriesOrFail().verify(job, verify, { signal, log }, (figures) => {
          run.verify = figures;
          announce();
        });
        return null;
      }
      await verifyRun(history, verify, (figures) => {
        run.verify = figures;
        announce();
      });
      return null;
    }
    if (run.trigger === 'prune') {
      log('info', `Applying the retention policy of "${job.name}"`);
      await this.deps.paths.forHistory(job);
      if (job.backup_mode === 'repository') {
        this.announceRemoved(job, await this.repositoriesOrFail().prune(job, history.timezone, { signal, log }));
        return null;
      }
      await pruneRun(history);
      return null;
    }
    const common = {
      config: job.destination_config,
      secret: await this.deps.secretOf(job),
      sources: job.source_dirs,
      hostKeys: this.deps.hostKeys,
      signal,
      log,
      progress: (current: TransferTotals) => {
        Object.assign(run, pickTotals(current));
        meter.moved(current);
        run.progress = meter.view();
        announce();
      },
    };
    const restore = this.restores.get(run.id);
    if (restore) {
      const from = `${destination.describe().name}${restore.snapshot ? ` (snapshot ${restore.snapshot})` : ''}`;
      log('info', `Restoring "${job.name}" from ${from} into ${restore.target}${restore.paths ? ` (${restore.paths.join(', ')})` : ''}`);
      const target = await this.deps.paths.forRestore(job, restore.target);
      signal.throwIfAborted();
      if (job.backup_mode === 'repository') {
        return this.repositoriesOrFail().restore(job, { snapshot: restore.snapshot!, target, paths: restore.paths }, { signal, log, progress: common.progress });
      }
      return destination.restore({ ...common, target, paths: restore.paths, snapshot: restore.snapshot, verbosity: job.sync_options.verbosity });
    }
    const kind = job.backup_mode !== 'mirror' ? ' (a new snapshot)' : job.sync_options.dry_run ? ' (dry run: nothing is written)' : '';
    log('info', `Starting ${run.trigger} run of "${job.name}" to ${destination.describe().name}${kind}`);
    this.refuseSharedDestination(job, destination);
    const realSources = await this.deps.paths.forSync(job);
    signal.throwIfAborted();
    const plan = (planned: TransferPlan) => {
      meter.planned(planned);
      run.progress = meter.view();
      announce();
    };
    const advanced = (share: number) => {
      meter.advanced(share);
      run.progress = meter.view();
      announce();
    };
    const sync = { ...common, realSources, options: job.sync_options, stateFile: this.deps.stateFileOf(job), plan, advanced };
    // The snapshot is named for the run's start, not for whenever rsync began.
    const totals =
      job.backup_mode === 'snapshots'
        ? await snapshotRun(history, sync, new Date(run.started_at!))
        : job.backup_mode === 'repository'
          ? await this.repositoryBackup(run, job, realSources, history.timezone, { signal, log, progress: common.progress })
          : await destination.sync(sync);
    if (!job.sync_options.dry_run && !signal.aborted && this.deps.afterBackup) {
      await this.deps.afterBackup(job, log, signal).catch((error: unknown) => log('warning', `After the backup: ${(error as Error).message}`));
    }
    return totals;
  }

  private repositoriesOrFail(): RepositoryRunner {
    if (!this.deps.repositories) throw new CairnError('unavailable', 'REPOSITORY_UNAVAILABLE', 'This daemon was built without the repository engine');
    return this.deps.repositories;
  }

  /** A repository job's backup: a new snapshot in its repository, announced like a drive snapshot. */
  private async repositoryBackup(run: RunRecord, job: JobRecord, realSources: string[], timezone: string, report: Parameters<RepositoryRunner['backup']>[4]): Promise<TransferTotals> {
    const { totals, snapshot, removed } = await this.repositoriesOrFail().backup(job, run.id, realSources, timezone, report);
    this.deps.events.emit('snapshot:created', { job_id: job.id, snapshot });
    this.announceRemoved(job, removed);
    return totals;
  }

  /** Announces the snapshots a repository job's retention removed (`snapshot:removed`), as a drive prune does. */
  private announceRemoved(job: JobRecord, ids: string[]): void {
    for (const id of ids) this.deps.events.emit('snapshot:removed', { job_id: job.id, snapshot_id: id });
  }

  /**
   * Two jobs writing the same folder at the same place would overwrite, and with delete_extraneous
   * delete, each other's files. A run is refused while an enabled job (a clone starts disabled)
   * writes a source of the same name to the same place, and a snapshots job's backup folder is
   * its alone.
   */
  private refuseSharedDestination(job: JobRecord, destination: Destination): void {
    const identity = destination.identity(job.destination_config);
    const names = new Set(folderNamesOf(job.source_dirs));
    for (const other of this.deps.jobs.all()) {
      if (other.id === job.id || !other.enabled || other.destination_type !== job.destination_type) continue;
      if (this.deps.destinationOf(other.destination_type).identity(other.destination_config) !== identity) continue;
      // Repository jobs may share a repository (each finds its snapshots by its tag), but nothing else may write into one.
      if (job.backup_mode === 'repository' && other.backup_mode === 'repository') continue;
      if (job.backup_mode === 'repository' || other.backup_mode === 'repository') {
        throw new CairnError(
          'conflict',
          'DESTINATION_SHARED',
          `Job "${other.name}" uses the same backup folder, which ${job.backup_mode === 'repository' ? "holds this job's repository" : 'holds its repository'}; only repository jobs may share a repository (use another backup_subdir)`,
        );
      }
      if (job.backup_mode === 'snapshots' || other.backup_mode === 'snapshots') {
        // A backup folder of snapshots is one job's: another's retention would prune them, its runs discard their work folder.
        throw new CairnError(
          'conflict',
          'DESTINATION_SHARED',
          `Job "${other.name}" uses the same backup folder, which holds ${job.backup_mode === 'snapshots' ? "this job's" : 'its'} snapshots; each snapshots job needs a backup folder of its own (another backup_subdir)`,
        );
      }
      const shared = folderNamesOf(other.source_dirs).find((name) => names.has(name));
      if (shared === undefined) continue;
      throw new CairnError(
        'conflict',
        'DESTINATION_SHARED',
        `Job "${other.name}" also backs up a folder named "${shared}" to the same place; two jobs there would overwrite and delete each other's files. Point one of them elsewhere (another subfolder or prefix)`,
      );
    }
  }

  /** Ends a run that threw: cancelled, failed or interrupted. `log` writes its last word (kept past the log's limit). */
  private async finishAfterError(run: RunRecord, error: unknown, signal: AbortSignal, log: (level: LogLevel, message: string) => void) {
    if (signal.aborted && signal.reason === 'cancelled') {
      log('warning', `Cancelled after ${describeTotals(run)}; the destination may hold a partial copy`);
      return this.finish(run, { status: 'cancelled', error_message: 'Cancelled by the user' });
    }
    if (signal.aborted && signal.reason === 'drive_removed') {
      log('error', DRIVE_REMOVED_MESSAGE);
      return this.finish(run, { status: 'failed', error_message: DRIVE_REMOVED_MESSAGE });
    }
    if (signal.aborted) {
      const message = 'Interrupted: the daemon stopped while this run was in progress; the destination may hold a partial copy';
      log('error', message);
      return this.finish(run, { status: 'failed', error_message: message });
    }
    const message = isCairnError(error) ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
    if (!isCairnError(error)) this.deps.log.error('run failed unexpectedly', { run_id: run.id, error: (error as Error)?.stack ?? String(error) });
    log('error', `Failed: ${message}`);
    return this.finish(run, { status: 'failed', error_message: message });
  }

  /** One line in the daemon's log per run outcome: info when it completed, warning when cancelled, error when it failed. */
  private logOutcome(run: RunRecord): void {
    const line = describeRunOutcome(run);
    if (run.status === 'failed') this.deps.log.error(line);
    else if (run.status === 'cancelled') this.deps.log.warn(line);
    else this.deps.log.info(line);
  }

  /**
   * Ends a run. Its new status, its statistics and the pruning of runs beyond `max_runs_per_job`
   * change the store in the same tick, so no client ever sees a finished run next to runs that
   * should be gone, and the counters never miss one.
   */
  private async finish(run: RunRecord, change: Partial<RunRecord>): Promise<void> {
    this.restores.delete(run.id);
    this.verifies.delete(run.id);
    // Before the run reads as finished, so whoever sees it finished sees the log's last word too.
    const leftOut = this.writers.get(run.id)?.noteLeftOut();
    if (leftOut) this.deps.events.emit('run:log', leftOut);
    const saved = this.deps.runs.update(run, { ...change, completed_at: new Date().toISOString() });
    const recorded = this.deps.stats.record(run);
    const doomed = runsBeyondRetention(run.job_id, this.deps.settings.get().max_runs_per_job, this.deps.runs);
    await Promise.all([saved, recorded, this.deps.runs.deleteMany(doomed)]);
    this.logOutcome(run);
    const writer = this.writers.get(run.id);
    this.writers.delete(run.id);
    // The backup's outcome stands even when its log could not be fully written (a full data disk).
    await writer?.close().catch((error) => this.deps.log.error('the run log could not be written completely', { run_id: run.id, error: String(error) }));
    this.deps.events.emit('run:finished', run);
    for (const id of doomed) {
      await this.deps.logs.remove(id).catch((error) => this.deps.log.error('removing an old run log failed', { run_id: id, error: String(error) }));
    }
  }
}

/**
 * Backups and restores are tried again after a transient failure, as the job's options say; verify
 * never (a damaged file is not transient) and prune never (it removes; the next run prunes again).
 */
function retryPolicyFor(run: RunRecord, job: JobRecord): RetryPolicy {
  if (!isBackupRun(run) && run.trigger !== 'restore') return { retries: 0, delaysMs: [] };
  return retryPolicyOf(withOptionDefaults(job.sync_options));
}

function pickTotals(totals: TransferTotals): TransferTotals {
  return { files_transferred: totals.files_transferred, bytes_transferred: totals.bytes_transferred, files_deleted: totals.files_deleted };
}

function describeTotals(totals: TransferTotals): string {
  return `${totals.files_transferred} file(s), ${totals.bytes_transferred} byte(s) transferred, ${totals.files_deleted} deleted`;
}

/** Calls `fn` at most once per `intervalMs`, trailing call included. */
function throttle(fn: () => void, intervalMs: number): (() => void) & { cancel(): void } {
  let last = 0;
  let timer: NodeJS.Timeout | null = null;
  const call = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const throttled = () => {
    if (timer) return;
    const wait = last + intervalMs - Date.now();
    if (wait <= 0) call();
    else timer = setTimeout(call, wait);
  };
  throttled.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return throttled;
}
