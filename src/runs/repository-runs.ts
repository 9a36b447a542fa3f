/**
 * Repository jobs' work, each task in a child process (repository-worker.ts) so the daemon's event
 * loop keeps answering while the engine reads sources synchronously, the memory a run used goes
 * back to the system when it ends, a stuck task can be killed, and under memory pressure the kernel
 * kills the engine (its run then fails, saying so) rather than the daemon: a backup run (a new snapshot
 * tagged with the job, then the job's retention: forget and prune), a restore run, a prune run, a
 * verify run (check, re-reading a share of the packs), and the history reads the API makes (list,
 * browse, forget).
 * The worker gets plain data; its log lines and progress come back into the run's own log and
 * progress, and a cancel stops it through its signal (killed only if it does not stop in time,
 * and then the daemon removes the lock files it still held).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CairnError, type ErrorKind } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';
import { isEmptyPolicy } from '../domain/retention.ts';
import type { LogLevel, RunVerify, TransferTotals } from '../domain/runs.ts';
import { destinationOf } from '../destinations/index.ts';
import { redact, secretTextsOf } from '../destinations/redaction.ts';
import { canHoldRepository, openRepositoryBackend } from '../destinations/repository-backends.ts';
import type { SnapshotInfo } from '../history/index.ts';
import type { HostKeyPins } from '../destinations/types.ts';
import type { Logger } from '../log.ts';
import type { BackupOutcome, DaemonMessage, ListedEntry, ListedSnapshot, ReadTask, RepositoryPlace, RepositoryTask, Upkeep, UpkeepOutcome, VerifyOutcome, WorkerMessage, WorkerStart } from './repository-worker.ts';
import { filePath, type RememberedKey } from '../repository/index.ts';
import { placeKeyOf } from './repository-place.ts';
import type { AbortReason } from './run-manager.ts';
import { describeReason, type VerifyRequest } from './snapshot-runs.ts';

export type { ListedEntry, ListedSnapshot } from './repository-worker.ts';

/** How long a worker asked to stop may take to release its lock before it is killed. */
const STOP_GRACE_MS = 30_000;
/**
 * The same at daemon stop: systemd kills the daemon 30 s after asking it to stop (TimeoutStopSec),
 * which must leave time to kill the worker and remove its locks (LOCK_REMOVAL_MS).
 */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long removing a killed worker's locks may take (a remote that hung the worker may hang this too). */
const LOCK_REMOVAL_MS = 10_000;
/** How long the kept reader may take to close its repositories at daemon stop before it is killed. */
const READER_CLOSE_MS = 5_000;
/** How long a worker that answered may take to exit by itself before it is killed. */
const ANSWERED_EXIT_MS = 10_000;
/** How long the kept reader (KeptReader) lives after its last read. */
const READER_KEPT_MS = 60_000;
/** Master keys remembered (RememberedKeys): the repositories most recently opened. */
const KEYS_REMEMBERED = 64;

/** The tag on every snapshot a job makes, so jobs sharing a repository each find their own. */
export function jobTagOf(jobId: number): string {
  return `cairn-job-${jobId}`;
}

/** The tag naming the run that made a snapshot. */
export function runTagOf(runId: number): string {
  return `cairn-run-${runId}`;
}

/** A repository snapshot as the history API shows snapshots, with what tells whose it is. */
export interface RepositorySnapshotInfo extends SnapshotInfo {
  tags: string[];
  hostname: string | null;
  paths: string[];
}

/**
 * The history view of a listed snapshot: its full id, its time in UTC, the run that made it (from
 * its run tag), files and total size counted in its trees. `bytes_added` is 0: restic's format does
 * not record what a snapshot added, and the shared packs make it a matter of definition.
 */
export function snapshotInfoOf(listed: ListedSnapshot): RepositorySnapshotInfo {
  const runTag = listed.tags?.find((tag) => /^cairn-run-\d+$/.test(tag));
  return {
    id: listed.id,
    time: new Date(Date.parse(listed.time)).toISOString(),
    run_id: runTag ? Number(runTag.slice('cairn-run-'.length)) : null,
    files: listed.files,
    total_size: listed.size,
    bytes_added: 0,
    previous: listed.parent ?? null,
    path: '',
    tags: listed.tags ?? [],
    hostname: listed.hostname ?? null,
    paths: listed.paths,
  };
}

/**
 * Whether a snapshot is the job's: tagged with its id, or made by no Cairn job at all (restic's own,
 * in a repository the owner brought), so that those can be listed and restored too.
 */
export function belongsToJob(snapshot: { tags: string[] }, jobId: number): boolean {
  return snapshot.tags.includes(jobTagOf(jobId)) || !snapshot.tags.some((tag) => tag.startsWith('cairn-job-'));
}

export interface RepositoryRunnerDependencies {
  /** The decrypted credential data of the job's destination, or null. */
  secretOf(job: JobRecord): Promise<Record<string, string> | null>;
  /** The job's repository password in clear (jobs/repository-password.ts). */
  passwordOf(job: JobRecord): string;
  hostKeys: HostKeyPins;
  /** Overrides the time a worker asked to stop is given before it is killed (tests: 0, to see a killed worker). */
  stopGraceMs?: number;
  /** The daemon's log, for what a worker process prints (it should print nothing). */
  log?: Logger;
}

/** What a running task reports to (all optional: the API's reads report nothing). */
export interface TaskReport {
  signal?: AbortSignal;
  log?(level: LogLevel, message: string): void;
  progress?(totals: TransferTotals): void;
}

export class RepositoryRunner {
  /** The worker process answering list and tree: reads no longer pay a process start and a key derivation each. */
  private readonly reader: KeptReader;
  /** The master keys engine processes opened, so that the next task for a repository skips scrypt. */
  private readonly keys = new RememberedKeys(KEYS_REMEMBERED);
  private stopped = false;

  constructor(private readonly deps: RepositoryRunnerDependencies) {
    this.reader = new KeptReader(deps.hostKeys, this.keys, deps.log);
  }

  /**
   * At daemon stop: the kept reader closes its repositories (their connections) and ends; reads in
   * flight and any read after this reject with 503 `DAEMON_STOPPING`. Runs are stopped by the run manager.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.reader.stop();
  }

  /**
   * A backup run: `realSources` into the job's repository (created at the first run), tagged with
   * the job and the run; compared with the job's own last snapshot of the same sources. Then, in
   * the same task, the job's retention (`timezone`: the settings' zone): its snapshots no rule
   * keeps are forgotten and the repository pruned. The backup worked once its snapshot is saved, so
   * a retention that fails after it is a warning in the log. Returns the ids of the snapshots removed.
   */
  async backup(
    job: JobRecord,
    runId: number,
    realSources: string[],
    timezone: string,
    report: TaskReport,
  ): Promise<{ totals: TransferTotals; snapshot: RepositorySnapshotInfo; removed: string[] }> {
    const place = await this.placeOf(job);
    const upkeep = isEmptyPolicy(job.retention) ? null : upkeepOf(job, timezone);
    const outcome = await runTask<BackupOutcome>({ ...place, op: 'backup', sources: realSources, tags: ['cairn', jobTagOf(job.id), runTagOf(runId)], jobTag: jobTagOf(job.id), upkeep }, place.password, this.runOptions(), report);
    report.log?.(
      'info',
      `Snapshot ${outcome.snapshot.id.slice(0, 8)} saved: ${outcome.files} file(s), ${outcome.filesUnchanged} unchanged and not read again, ` +
        `${outcome.bytesRead} byte(s) read, ${outcome.bytesAdded} byte(s) of new data stored${outcome.warnings ? `, ${outcome.warnings} entr(ies) not backed up` : ''}`,
    );
    if (!upkeep) report.log?.('info', 'No retention policy: every snapshot is kept');
    if (outcome.upkeepError !== null) {
      report.log?.('warning', `Snapshot ${outcome.snapshot.id.slice(0, 8)} is complete, but applying the retention policy failed: ${outcome.upkeepError}`);
    }
    if (outcome.upkeep) logUpkeep(outcome.upkeep, report);
    if (outcome.warnings > 0) {
      // As rsync's exit 23 fails a mirror or snapshots run: a backup missing what it could not read is not a good backup.
      throw new CairnError(
        'unavailable',
        'PARTIAL_TRANSFER',
        `Partial backup: snapshot ${outcome.snapshot.id.slice(0, 8)} was saved without ${outcome.warnings} entr(ies) that could not be read ` +
          `(${outcome.firstWarnings.join('; ')}${outcome.warnings > outcome.firstWarnings.length ? '; …' : ''}); the retention policy was not applied, so older snapshots stay`,
      );
    }
    return {
      totals: { files_transferred: outcome.files - outcome.filesUnchanged, bytes_transferred: outcome.bytesRead, files_deleted: 0 },
      snapshot: snapshotInfoOf(outcome.snapshot),
      removed: outcome.upkeep?.forget.remove.map((snapshot) => snapshot.id) ?? [],
    };
  }

  /**
   * A `prune` run: the job's retention over its own snapshots now (an empty policy forgets none),
   * then a prune of the repository, which also frees what snapshots deleted one by one left.
   * Returns the ids of the snapshots removed.
   */
  async prune(job: JobRecord, timezone: string, report: TaskReport): Promise<string[]> {
    const place = await this.placeOf(job);
    if (isEmptyPolicy(job.retention)) report.log?.('info', 'No retention policy: every snapshot is kept; pruning what no snapshot uses');
    const outcome = await runTask<UpkeepOutcome>({ ...place, op: 'prune', upkeep: upkeepOf(job, timezone) }, place.password, this.runOptions(), report);
    logUpkeep(outcome, report);
    return outcome.forget.remove.map((snapshot) => snapshot.id);
  }

  /**
   * A `verify` run: restic's structure check of the whole repository (which holds the request's
   * snapshot; null: the job's newest), and `percent` of its packs read back with every blob's MAC
   * and hash. `figures` receives the run's verify figures (a pack read counts as a file checked). Each problem is named in the log at error level.
   * @throws CairnError 409 `REPOSITORY_DAMAGED` naming the problems; `REPOSITORY_UNREACHABLE` (or
   *   the destination's own error, e.g. `DRIVE_NOT_MOUNTED`) when the store cannot be read.
   */
  async verify(job: JobRecord, request: VerifyRequest, report: TaskReport, figures: (verify: RunVerify) => void): Promise<void> {
    const { percent } = request;
    const place = await this.placeOf(job);
    const share = percent === 100 ? 'every pack' : `${percent}% of its packs, chosen at random`;
    report.log?.('info', `Verifying the repository: its structure, and reading ${share}`);
    const outcome = await runTask<VerifyOutcome>({ ...place, op: 'verify', percent, jobTag: jobTagOf(job.id) }, place.password, this.runOptions(), report);
    const count = (...kinds: string[]) => outcome.problems.filter((problem) => kinds.includes(problem.problem)).length;
    figures({
      snapshot_id: request.snapshot_id ?? outcome.snapshotId ?? '',
      files_checked: outcome.packsRead,
      bytes_read: outcome.bytesRead,
      mismatched: count('damaged', 'size', 'header'),
      missing: count('missing', 'not_in_index'),
      unreadable: count('unreadable'),
    });
    for (const hint of outcome.hints) report.log?.('info', `Hint: ${hint}`);
    for (const problem of outcome.problems) report.log?.('error', `Damaged: ${problem.message}`);
    if (outcome.problemCount > outcome.problems.length) report.log?.('error', `… and ${outcome.problemCount - outcome.problems.length} more problem(s) not named here`);
    if (outcome.problemCount > 0) {
      const named = outcome.problems.slice(0, 5).map((problem) => `${problem.subject} ${problem.id.slice(0, 12)} (${problem.problem})`);
      const more = outcome.problemCount > 5 ? ` and ${outcome.problemCount - 5} more` : '';
      throw new CairnError('conflict', 'REPOSITORY_DAMAGED', `Verify found ${outcome.problemCount} problem(s) in the repository: ${named.join(', ')}${more}`);
    }
    report.log?.(
      'info',
      `Verified the repository: ${outcome.snapshots} snapshot(s) and ${outcome.packs} pack(s) whole; ${outcome.packsRead} pack(s), ${outcome.bytesRead} byte(s) read back, all match`,
    );
  }

  /** A restore run of the snapshot `snapshot` (a full id) into `target`; `paths` are `<source name>/<path>` or null for all. */
  async restore(job: JobRecord, request: { snapshot: string; target: string; paths: string[] | null }, report: TaskReport): Promise<TransferTotals> {
    const place = await this.placeOf(job);
    return runTask<TransferTotals>({ ...place, op: 'restore', ...request }, place.password, this.runOptions(), report);
  }

  /** The job's snapshots (see belongsToJob) in its repository, newest first, with files and size. */
  async list(job: JobRecord): Promise<RepositorySnapshotInfo[]> {
    const place = await this.placeOf(job);
    this.refuseIfStopped();
    const listed = await this.reader.run<ListedSnapshot[]>({ ...place, op: 'list' });
    return listed
      .map(snapshotInfoOf)
      .filter((snapshot) => belongsToJob(snapshot, job.id))
      .sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (b.id < a.id ? -1 : 1));
  }

  /** One page of the folder `path` (parts below the snapshot's top) in the snapshot `snapshot`. */
  async tree(job: JobRecord, snapshot: string, query: { path: string[]; limit: number; offset: number }): Promise<{ entries: ListedEntry[]; total: number }> {
    const place = await this.placeOf(job);
    this.refuseIfStopped();
    return this.reader.run({ ...place, op: 'tree', snapshot, ...query });
  }

  /** Forgets one snapshot (its file only; the data it alone used stays until a prune). */
  async forget(job: JobRecord, snapshot: string): Promise<void> {
    const place = await this.placeOf(job);
    await runTask({ ...place, op: 'forget', snapshot }, place.password, this.runOptions(), {});
  }

  private refuseIfStopped(): void {
    if (this.stopped) throw daemonStopping();
  }

  private runOptions(): TaskOptions {
    return { hostKeys: this.deps.hostKeys, keys: this.keys, stopGraceMs: this.deps.stopGraceMs, log: this.deps.log };
  }

  private async placeOf(job: JobRecord): Promise<RepositoryPlace> {
    return { destinationType: job.destination_type, config: job.destination_config, secret: await this.deps.secretOf(job), password: this.deps.passwordOf(job) };
  }
}

/**
 * Master keys the engine opened repositories with, in the daemon's memory only (never stored, logged,
 * answered or exported), by `placeKeyOf` of the place (destination, credential and password: a
 * job with another password never gets this one's key), the `size` most recently used. A task
 * carries its place's key to the engine, which tries it before scrypt (repository-worker.ts
 * openIndexed). A job's password never changes, so nothing needs forgetting on an edit; a deleted
 * job's key stays until it falls out or the daemon restarts.
 */
class RememberedKeys {
  private readonly keys = new Map<string, RememberedKey>();

  constructor(private readonly size: number) {}

  /** The key remembered for the place, now the most recently used; null when none. */
  get(place: string): RememberedKey | null {
    const key = this.keys.get(place);
    if (!key) return null;
    this.keys.delete(place);
    this.keys.set(place, key);
    return key;
  }

  /** Remembers the place's key (null forgets it), dropping the least recently used past the bound. */
  set(place: string, key: RememberedKey | null): void {
    this.keys.delete(place);
    if (!key) return;
    this.keys.set(place, key);
    while (this.keys.size > this.size) this.keys.delete(this.keys.keys().next().value!);
  }
}

function upkeepOf(job: JobRecord, timezone: string): Upkeep {
  return { policy: job.retention, timezone, jobTag: jobTagOf(job.id) };
}

/** Logs what a retention did: which snapshots stay and why, which went, and what the prune freed. */
function logUpkeep(outcome: UpkeepOutcome, report: TaskReport): void {
  for (const { id, reasons } of outcome.forget.keep) report.log?.('info', `Keeping snapshot ${id.slice(0, 8)} (${reasons.map(describeReason).join(', ')})`);
  for (const { id } of outcome.forget.remove) report.log?.('info', `Removed snapshot ${id.slice(0, 8)}: no retention rule keeps it`);
  if (outcome.forget.remove.length === 0) report.log?.('info', `Retention: all ${outcome.forget.keep.length} snapshot(s) kept`);
  const pruned = outcome.prune;
  if (pruned) {
    report.log?.(
      'info',
      `Pruned: ${outcome.forget.remove.length} snapshot(s) removed, ${pruned.packsRemoved} pack(s) deleted, ${pruned.packsRepacked} repacked into ${pruned.packsWritten} new, ` +
        `${pruned.bytesFreed} byte(s) freed (${pruned.bytesBefore} → ${pruned.bytesAfter} bytes of packs)`,
    );
  }
}

/** How to start the engine's process from the single binary (`useRepositoryWorkerCommand`), or null: from source. */
let workerCommand: { program: string; args: string[] } | null = null;

/**
 * Makes repository tasks run as `program args…` (the single binary's hidden `repository-worker`
 * command, bin/sea-main.ts) instead of this module's sibling file, which the binary has no file of.
 * The binary's own Node flags (its SEA execArgv) apply to every start of it, the worker's too.
 */
export function useRepositoryWorkerCommand(program: string, args: string[]): void {
  workerCommand = { program, args };
}

/**
 * glibc settings of the engine's process. A fixed mmap threshold of 4 MiB: buffers above it (scrypt's
 * 32 MiB, the 8 MiB read buffer, large chunks) get a mapping of their own, unmapped when freed; by
 * default freeing scrypt's buffer raises the threshold to 32 MiB, after which all of those come from
 * the heap and stay resident for the rest of the run. Below it, blob-sized buffers are reused from
 * the heap: with 128 KiB every blob deciphered was a fresh mapping, page-faulted in (10k restore:
 * +0.45 s CPU, +20%, for ~8 MB less).
 */
export const ENGINE_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(4 * 1024 * 1024) };

/** The score the engine's process is given (the daemon's is lower): under memory pressure the kernel kills the engine, whose run then fails and says so, not the daemon. */
const WORKER_OOM_SCORE_ADJ = 500;

/**
 * A child process running the repository worker, `start` sent as its first message over the IPC
 * channel (secrets travel there, never in argv or the environment). From the binary it is the
 * binary's `repository-worker` command; from source (tsx), this module's sibling `.ts` file under
 * tsx's loader; from compiled JavaScript, the sibling `.js` file. Its oom_score_adj is raised to
 * WORKER_OOM_SCORE_ADJ (never lowered). Nothing user-supplied is in its argv.
 */
function startWorker(start: WorkerStart): ChildProcess {
  const self = import.meta.url;
  const [program, args] = workerCommand
    ? [workerCommand.program, workerCommand.args]
    : self.endsWith('.ts')
      ? [process.execPath, ['--import', import.meta.resolve('tsx/esm'), fileURLToPath(new URL('./repository-worker.ts', self))]]
      : [process.execPath, [fileURLToPath(new URL('./repository-worker.js', self))]];
  const env = { ...process.env, ...ENGINE_ENVIRONMENT };
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', env });
  child.once('close', () => closedWorkers.add(child));
  if (child.pid !== undefined) raiseOomScore(child.pid);
  send(child, { type: 'start', start });
  return child;
}

/** Raises a process's oom_score_adj to WORKER_OOM_SCORE_ADJ; where /proc says nothing (not Linux), nothing. */
function raiseOomScore(pid: number): void {
  const file = `/proc/${pid}/oom_score_adj`;
  try {
    if (Number(readFileSync(file, 'utf8')) < WORKER_OOM_SCORE_ADJ) writeFileSync(file, String(WORKER_OOM_SCORE_ADJ));
  } catch {
    // Not Linux, or gone already: its exit says so.
  }
}

/** Sends to a worker; a worker gone drops the message (its exit is what reports that). */
function send(child: ChildProcess, message: DaemonMessage): void {
  if (child.connected) child.send(message, undefined, {}, () => undefined);
}

/** Lines of a worker's stdout and stderr the daemon's log takes per process; the rest are counted. */
const OUTPUT_LINES_LOGGED = 50;
/** How much of one such line is kept. */
const OUTPUT_LINE_CHARS = 1000;

/**
 * Lines of a dying Node's output that say nothing of why: stack frames, native frames, V8's GC
 * trace and separators, Node's version footer.
 */
const NOISE = /^\s+at |^\s*\d+: 0x|^\[\d+:0x|^(-----|<---)|^Node\.js v\d|^\s*\^+\s*$/;

/**
 * Sends what a worker prints (it should print nothing: a crash, Node's own warnings or a fatal
 * "heap out of memory") to the daemon's log, secrets masked, at most OUTPUT_LINES_LOGGED lines;
 * returns the last line that says something (not a stack frame), for the message of a worker that died.
 */
function watchOutput(child: ChildProcess, name: string, secrets: string[], log: Logger | undefined): () => string | null {
  let said: string | null = null;
  let logged = 0;
  let dropped = 0;
  const take = (line: string) => {
    // Masked before it is cut, so that no cut leaves part of a secret to show.
    const masked = redact(line, secrets);
    const text = (masked.length > OUTPUT_LINE_CHARS ? `${masked.slice(0, OUTPUT_LINE_CHARS)}…` : masked).trimEnd();
    if (text === '') return;
    if (!NOISE.test(text)) said = text.trim();
    if (logged < OUTPUT_LINES_LOGGED) {
      logged++;
      log?.warn(`${name} process ${child.pid}: ${text}`);
    } else dropped++;
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      // An endless line is cut, not kept growing.
      if (partial.length > OUTPUT_LINE_CHARS * 4) {
        take(partial);
        partial = '';
      }
      for (const line of lines) take(line);
    });
    stream.on('end', () => {
      if (partial) take(partial);
      partial = '';
      if (dropped > 0) log?.warn(`${name} process ${child.pid}: ${dropped} more line(s) of output not logged`);
      dropped = 0;
    });
  }
  return () => said;
}

/** Workers that have exited and whose every message has been read ('close'). */
const closedWorkers = new WeakSet<ChildProcess>();

/**
 * Resolves once the process has exited and its output and messages are all read ('close', not
 * 'exit'): a lock it announced just before it was killed is then known, and removed with the rest.
 */
function exitOf(child: ChildProcess): Promise<void> {
  if (closedWorkers.has(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('close', () => resolve()));
}

/**
 * Why a worker that ended without answering did: killed by a signal (the kernel's OOM killer sends
 * SIGKILL, and a fatal V8 out-of-memory aborts), or an exit code; with the last line it printed.
 */
function deathOf(what: string, code: number | null, signal: NodeJS.Signals | null, lastSaid: string | null): CairnError {
  const said = lastSaid === null ? '' : `; it last said: ${lastSaid}`;
  // Not a bug of the run's to retry blindly (the same backup may run out of memory again), and never a success.
  if (signal) return new CairnError('unavailable', 'REPOSITORY_ENGINE_KILLED', `The ${what} process was killed (out of memory?) by ${signal}${said}`);
  return new CairnError('unavailable', 'REPOSITORY_ENGINE_DIED', `The ${what} process stopped unexpectedly (exit code ${code})${said}`);
}

/** How a worker's failure message becomes the error the caller gets, secrets masked. */
function errorOf(error: Extract<WorkerMessage, { type: 'failed' }>['error'], secrets: string[]): Error {
  return error.code && error.kind ? new CairnError(error.kind as ErrorKind, error.code, redact(error.message, secrets), { retryable: error.retryable }) : new Error(redact(error.message, secrets));
}

/** The texts masked in what a task's worker says: the password and the destination's secrets, longest first. */
function secretsOf(task: RepositoryTask, password: string): string[] {
  return [password, ...secretTextsOf(destinationOf(task.destinationType).secretFields, task.secret)].sort((a, b) => b.length - a.length);
}

/** The answer to a read the daemon's stop cut short, or made after it. */
function daemonStopping(): CairnError {
  return new CairnError('unavailable', 'DAEMON_STOPPING', 'The daemon is stopping; try again when it is back');
}

/**
 * One worker process kept for the API's reads (list, tree), started at the first and ended
 * READER_KEPT_MS after the last, or at daemon stop (`stop`); it keeps the repositories it opened (repository-worker.ts). Its
 * start (tsx and the registry's module graph from source) and each repository's scrypt are paid
 * once rather than per read, and still off the event loop. If it dies, its reads fail and the next
 * read starts another.
 */
class KeptReader {
  private worker: ChildProcess | null = null;
  private readonly pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void; secrets: string[]; place: string }>();
  private nextId = 0;
  private idle: NodeJS.Timeout | null = null;

  constructor(
    private readonly hostKeys: HostKeyPins,
    private readonly keys: RememberedKeys,
    private readonly log: Logger | undefined,
  ) {}

  run<T>(task: ReadTask): Promise<T> {
    const secrets = secretsOf(task, task.password);
    const place = placeKeyOf(task);
    const worker = this.worker ?? this.start(secrets);
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, secrets, place });
      send(worker, { type: 'task', id, task: { ...task, rememberedKey: this.keys.get(place) } });
    });
  }

  private start(secrets: string[]): ChildProcess {
    const worker = startWorker({ serve: true });
    // The daemon's own handles keep it running; a kept reader must not keep a CLI or a test alive.
    worker.unref();
    worker.channel?.unref();
    (worker.stdout as { unref?(): void } | null)?.unref?.();
    (worker.stderr as { unref?(): void } | null)?.unref?.();
    this.worker = worker;
    // Its output is masked with the first reader's secrets; the reads it serves later mask their own.
    const lastSaid = watchOutput(worker, 'The repository reader', secrets, this.log);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'host-key') {
        void this.hostKeys.check(message.host, message.fingerprint).then(
          (answer) => send(worker, { type: 'host-key', id: message.id, answer }),
          () => send(worker, { type: 'host-key', id: message.id, answer: 'mismatch' }),
        );
        return;
      }
      // Only for a place a read is waiting on: what the reader says is about those.
      if (message.type === 'key') {
        if ([...this.pending.values()].some((waiting) => waiting.place === message.place)) this.keys.set(message.place, message.key);
        return;
      }
      if ((message.type !== 'done' && message.type !== 'failed') || message.task === undefined) return;
      const waiting = this.pending.get(message.task);
      if (!waiting) return;
      this.pending.delete(message.task);
      if (message.type === 'done') waiting.resolve(message.result);
      else waiting.reject(errorOf(message.error, waiting.secrets));
      if (this.pending.size === 0) this.sleep();
    });
    const died = (error: CairnError) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.idle) clearTimeout(this.idle);
      this.idle = null;
      for (const waiting of this.pending.values()) waiting.reject(new CairnError(error.kind, error.code, redact(error.message, waiting.secrets)));
      this.pending.clear();
    };
    worker.on('error', (error) => died(new CairnError('unavailable', 'REPOSITORY_ENGINE_DIED', `The repository reader could not run: ${error.message}`)));
    // 'close', not 'exit': the answers it sent before it ended are all read by then.
    worker.on('close', (code, signal) => died(deathOf('repository reader', code, signal, lastSaid())));
    return worker;
  }

  /**
   * Ends the worker now: reads waiting for it reject with DAEMON_STOPPING, it closes its kept
   * repositories (an SFTP session ends as a logout, not a dropped link) and exits; one that takes
   * over READER_CLOSE_MS is killed. Resolves once it has exited.
   */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    for (const waiting of this.pending.values()) waiting.reject(daemonStopping());
    this.pending.clear();
    if (worker) await closeReader(worker);
  }

  /** Ends the worker once no read has come for READER_KEPT_MS. */
  private sleep(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      const worker = this.worker;
      this.worker = null;
      this.idle = null;
      if (worker) void closeReader(worker);
    }, READER_KEPT_MS);
    this.idle.unref();
  }
}

/**
 * Asks a kept reader to close its repositories and exit; kills it after READER_CLOSE_MS. Resolves
 * once it has exited, or READER_CLOSE_MS after the kill: a process stuck in an uninterruptible read
 * (a failing drive) outlives SIGKILL, and the daemon's stop must not wait on it.
 */
async function closeReader(worker: ChildProcess): Promise<void> {
  const exited = exitOf(worker);
  const killer = setTimeout(() => worker.kill('SIGKILL'), READER_CLOSE_MS);
  send(worker, { type: 'close' });
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 2 * READER_CLOSE_MS)))]);
  clearTimeout(killer);
  clearTimeout(giveUp);
}

/** What every task's worker is run with: the host key pins it asks about, the remembered master keys, the stop grace (see RepositoryRunnerDependencies), and the daemon's log for its output. */
interface TaskOptions {
  hostKeys: HostKeyPins;
  keys: RememberedKeys;
  stopGraceMs?: number;
  log?: Logger;
}

/**
 * Runs one task in a new worker process and resolves with its result. Log lines and errors have the
 * password and the destination's secrets masked. When `report.signal` aborts, the worker is asked
 * to stop (its lock released) and the promise rejects with the signal's reason; a worker that does
 * not stop within STOP_GRACE_MS (SHUTDOWN_GRACE_MS at daemon stop) is killed, and the lock
 * files it announced and did not remove are removed here before the promise settles: left, they
 * would look held until restic's stale rule or its 30 minutes say otherwise. A worker that ends
 * without answering (killed by the kernel's OOM killer, say) fails the task and says how it ended;
 * its locks are removed the same way.
 */
function runTask<T>(task: RepositoryTask, password: string, options: TaskOptions, report: TaskReport): Promise<T> {
  report.signal?.throwIfAborted();
  const { hostKeys } = options;
  const secrets = secretsOf(task, password);
  const place = placeKeyOf(task);
  return new Promise<T>((resolve, reject) => {
    const worker = startWorker({ ...task, rememberedKey: options.keys.get(place) });
    const lastSaid = watchOutput(worker, `The repository ${task.op}`, secrets, options.log);
    const heldLocks = new Set<string>();
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      report.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Its task is over either way: one that answered exits by itself (killed if it has not within
      // ANSWERED_EXIT_MS), one that holds locks is killed now so that they can be removed.
      const ended = exitOf(worker);
      if (heldLocks.size > 0) worker.kill('SIGKILL');
      else {
        const backstop = setTimeout(() => worker.kill('SIGKILL'), ANSWERED_EXIT_MS);
        backstop.unref();
        void ended.then(() => clearTimeout(backstop));
      }
      if (heldLocks.size === 0) return outcome();
      // Removed once it has surely stopped, so that no refresh of its own can follow the removal.
      // A process blocked in an uninterruptible system call (a read on a hung network mount) ends
      // only when the call returns, maybe never: the run does not wait for it past LOCK_REMOVAL_MS.
      // Its lock is then removed whenever it does end (it names a live process until then, which is the truth).
      const named = (ids: Iterable<string>) => [...ids].map((id) => id.slice(0, 8)).join(', ');
      let late = false;
      const deadline = setTimeout(() => {
        late = true;
        report.log?.('warning', `The stopped task's process has not ended (a system call that does not return, such as a read on a hung mount): its repository lock (${named(heldLocks)}) is removed when it does`);
        outcome();
      }, LOCK_REMOVAL_MS);
      // The locks it held when it ended: its last announcements are read by then.
      let left: string[] = [];
      void ended
        .then(() => removeLocks(task, (left = [...heldLocks]), hostKeys))
        .then(
          () => {
            if (!late && left.length > 0) report.log?.('info', `Removed the repository lock the stopped task held (${named(left)})`);
          },
          (error: unknown) => {
            if (!late) report.log?.('warning', `Could not remove the repository lock the stopped task held (${named(left)}): ${redact((error as Error)?.message ?? String(error), secrets)}`);
          },
        )
        .finally(() => {
          if (late) return;
          clearTimeout(deadline);
          outcome();
        });
    };
    const onAbort = () => {
      send(worker, { type: 'abort' });
      const grace = options.stopGraceMs ?? ((report.signal?.reason as AbortReason) === 'shutdown' ? SHUTDOWN_GRACE_MS : STOP_GRACE_MS);
      // Then killed: SIGKILL, since a task that did not stop when asked is not waited for again.
      // Settled here, not at its exit: a process blocked in an uninterruptible call exits only when the call returns.
      killTimer = setTimeout(() => {
        worker.kill('SIGKILL');
        settle(() => reject(report.signal!.reason));
      }, grace);
      killTimer.unref();
    };
    report.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'log':
          report.log?.(message.level, redact(message.message, secrets));
          break;
        case 'progress':
          report.progress?.(message.totals);
          break;
        case 'lock':
          if (message.held) heldLocks.add(message.id);
          else heldLocks.delete(message.id);
          break;
        case 'key':
          if (message.place === place) options.keys.set(place, message.key);
          break;
        case 'host-key':
          void hostKeys.check(message.host, message.fingerprint).then(
            (answer) => send(worker, { type: 'host-key', id: message.id, answer }),
            () => send(worker, { type: 'host-key', id: message.id, answer: 'mismatch' }),
          );
          break;
        case 'done':
          settle(() => resolve(message.result as T));
          break;
        case 'failed': {
          const { error } = message;
          if (report.signal?.aborted) settle(() => reject(report.signal!.reason));
          else settle(() => reject(errorOf(error, secrets)));
          break;
        }
      }
    });
    worker.on('error', (error) => settle(() => reject(report.signal?.aborted ? report.signal.reason : new Error(`The repository ${task.op} process could not run: ${redact(error.message, secrets)}`))));
    // 'close', not 'exit': every message it sent is read by then, so an answer is never taken for a death.
    worker.on('close', (code, signal) => settle(() => reject(report.signal?.aborted ? report.signal.reason : deathOf(task.op, code, signal, lastSaid()))));
  });
}

/** Removes the lock files `ids` from the task's repository, through a backend opened here for that; bounded by LOCK_REMOVAL_MS. */
async function removeLocks(place: RepositoryPlace, ids: string[], hostKeys: HostKeyPins): Promise<void> {
  if (!canHoldRepository(place.destinationType)) return;
  let timer: NodeJS.Timeout | undefined;
  const removal = (async () => {
    const backend = await openRepositoryBackend(place.destinationType, place.config, place.secret, hostKeys);
    try {
      for (const id of ids) await backend.remove(filePath('locks', id));
    } finally {
      await backend.close().catch(() => undefined);
    }
  })();
  removal.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the repository's store within ${LOCK_REMOVAL_MS / 1000} s`)), LOCK_REMOVAL_MS);
  });
  try {
    await Promise.race([removal, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
