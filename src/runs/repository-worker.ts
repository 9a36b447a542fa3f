/**
 * The repository engine in a child process of the daemon (started by repository-runs.ts: from the
 * binary as its hidden `repository-worker` command, from a checkout as this file under tsx): it
 * reads sources and writes restores with synchronous calls (repository/backup.ts says why), which
 * must not stall the daemon's event loop, and what it allocates is given back to the system when it
 * exits. It talks over the IPC channel only (structured clone): its first message from the daemon
 * is `start`, with one task or `serve`, secrets included (never in argv or the environment). It
 * builds the destination's backend itself through the registry, does one task, and answers with
 * messages: log lines and progress (at most every PROGRESS_EVERY_MS) on the way, then `done` or
 * `failed`, and exits. `abort` from the daemon (or the daemon gone: the channel closed) stops the
 * task through the engine's signal, so its lock is released and no file is left half written under
 * a final name. Host keys are checked by asking the daemon, which keeps the pins. Each lock file the
 * task writes or removes is announced (`lock`) before it is written and after it is gone, so that
 * the daemon can remove what a process it had to kill still held.
 * Started with `{ serve: true }` instead, it is the daemon's kept reader: it answers read tasks
 * (`task` messages, each answered by its id) until `close` (or killed), keeping each repository
 * it opened (its key derived once by scrypt) for REPOSITORY_KEPT_MS after its last use.
 */
import os from 'node:os';
import path from 'node:path';
import { isCairnError, invalid, notFound } from '../domain/errors.ts';
import type { LogLevel, TransferTotals } from '../domain/runs.ts';
import { openRepositoryBackend } from '../destinations/repository-backends.ts';
import type { HostKeyPins } from '../destinations/types.ts';
import type { RetentionPolicy } from '../domain/retention.ts';
import {
  backup,
  check,
  decodeTree,
  forget,
  filePath,
  findNode,
  HardLinkIndex,
  initRepository,
  listSnapshots,
  openRepository,
  openRepositoryWithKey,
  parseTime,
  prune,
  restore,
  withLock,
  type CheckProblem,
  type ClosableRepositoryBackend,
  type ForgetResult,
  type PruneResult,
  type RememberedKey,
  type Repository,
  type Snapshot,
  type TreeNode,
} from '../repository/index.ts';
import { placeKeyOf } from './repository-place.ts';
import { byCodeUnits } from '../domain/code-units.ts';

/** Progress messages at most this often: the run manager throttles too, but every message costs a copy. */
const PROGRESS_EVERY_MS = 250;
/** Unreadable entries named in the run's log; the rest are counted. */
const WARNINGS_NAMED = 100;
/** How long the kept reader keeps an opened repository (and its connection) after its last read. */
const REPOSITORY_KEPT_MS = 60_000;

/** Where the repository is: what the worker needs to open it. */
export interface RepositoryPlace {
  destinationType: string;
  config: Record<string, unknown>;
  secret: Record<string, string> | null;
  password: string;
  /**
   * The master key an earlier task opened this repository with (the daemon keeps it in memory under
   * `placeKeyOf` of this place, password included): tried first, the password when it does not open.
   */
  rememberedKey?: RememberedKey | null;
}

/** A job's retention, applied to its own snapshots (its tag) in the repository. */
export interface Upkeep {
  policy: RetentionPolicy;
  /** The settings' IANA zone, in which retention buckets are read. */
  timezone: string;
  jobTag: string;
}

/** One task for a worker. */
export type RepositoryTask = RepositoryPlace &
  (
    | { op: 'backup'; sources: string[]; tags: string[]; jobTag: string; upkeep: Upkeep | null }
    | { op: 'prune'; upkeep: Upkeep }
    | { op: 'verify'; percent: number; jobTag: string }
    | { op: 'restore'; snapshot: string; target: string; paths: string[] | null }
    | { op: 'list' }
    | { op: 'tree'; snapshot: string; path: string[]; limit: number; offset: number }
    | { op: 'forget'; snapshot: string }
  );

/** A snapshot as the daemon lists it: restic's fields plus what the worker counted in its trees. */
export interface ListedSnapshot extends Snapshot {
  files: number;
  size: number;
}

/** An entry of a folder in a snapshot, as browsing shows it. */
export interface ListedEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number | null;
  mtime: string;
}

export interface BackupOutcome {
  snapshot: ListedSnapshot;
  files: number;
  filesUnchanged: number;
  bytesRead: number;
  bytesAdded: number;
  /** Entries that exist but could not be read: the snapshot is partial and the run fails. */
  warnings: number;
  firstWarnings: string[];
  created: boolean;
  /** What the retention after the backup did (null: no policy, or it failed: see upkeepError). */
  upkeep: UpkeepOutcome | null;
  /** Why the retention after the backup failed; the backup itself worked. */
  upkeepError: string | null;
}

/** What forget decided and did, and the prune after it (null: nothing was forgotten, so nothing to free). */
export interface UpkeepOutcome {
  forget: ForgetResult;
  prune: PruneResult | null;
}

/** How many problems a verify names back to the daemon; the rest are counted. */
export const VERIFY_PROBLEMS_NAMED = 1000;

/** A verify's outcome: the check's figures and the problems it found (the first VERIFY_PROBLEMS_NAMED). */
export interface VerifyOutcome {
  /** The job's newest snapshot of its own (its tag; null: none yet). */
  snapshotId: string | null;
  packs: number;
  packsRead: number;
  bytesRead: number;
  snapshots: number;
  problems: CheckProblem[];
  problemCount: number;
  hints: string[];
}

/** The read tasks the kept reader answers: they write nothing, so a kept repository serves them. */
export type ReadTask = Extract<RepositoryTask, { op: 'list' | 'tree' }>;

/** What a worker is started with (its `start` message): one task, or `serve` to be the kept reader. */
export type WorkerStart = RepositoryTask | { serve: true };

/** Messages from the worker; `task` on `done` and `failed` is the kept reader's id of the task answered. */
export type WorkerMessage =
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'progress'; totals: TransferTotals }
  | { type: 'host-key'; id: number; host: string; fingerprint: string }
  /** `held`: the lock file `locks/<id>` is about to be written (or refreshed); false: it is removed. */
  | { type: 'lock'; id: string; held: boolean }
  /**
   * The master key the task opened the repository at `place` (`placeKeyOf`) with by its password (or
   * created it with), for the daemon to remember; null: forget the remembered one, it no longer opens it.
   */
  | { type: 'key'; place: string; key: RememberedKey | null }
  | { type: 'done'; task?: number; result: unknown }
  | { type: 'failed'; task?: number; error: { kind?: string; code?: string; message: string; retryable?: boolean; aborted: boolean } };

/** Messages to the worker: `start` first and once; `task` and `close` (close what is kept, then exit) go to the kept reader only. */
export type DaemonMessage =
  | { type: 'start'; start: WorkerStart }
  | { type: 'abort' }
  | { type: 'close' }
  | { type: 'host-key'; id: number; answer: 'pinned' | 'matched' | 'mismatch' }
  | { type: 'task'; id: number; task: ReadTask };

const controller = new AbortController();
/** Sends to the daemon; resolves once the message is handed to the channel. Nothing is sent once the daemon is gone. */
const post = (message: WorkerMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
const log = (level: LogLevel, message: string) => void post({ type: 'log', level, message });

/** Pins asked of the daemon, which holds the file (one writer). */
const hostKeyAnswers = new Map<number, (answer: 'pinned' | 'matched' | 'mismatch') => void>();
let hostKeyQuestions = 0;
const hostKeys: HostKeyPins = {
  check: (host, fingerprint) =>
    new Promise((resolve) => {
      const id = ++hostKeyQuestions;
      hostKeyAnswers.set(id, resolve);
      post({ type: 'host-key', id, host, fingerprint });
    }),
};

/** Exits once `last` (the task's answer) is handed to the channel, so that the daemon reads it before the exit. */
function exitAfter(last: Promise<void>): void {
  void last.finally(() => process.exit(0));
}

let started = false;
/** Whether this process runs one task (not the kept reader): the task's end ends the process. */
let tasked = false;
process.on('message', (message: DaemonMessage) => {
  if (message.type === 'start') {
    if (started) return;
    started = true;
    if ('serve' in message.start) return;
    tasked = true;
    const settled = main(message.start).then(
      (result) => post({ type: 'done', result }),
      (error: unknown) => post({ type: 'failed', error: failureOf(error) }),
    );
    exitAfter(settled);
  } else if (message.type === 'abort') controller.abort(new DOMException('The task was stopped', 'AbortError'));
  else if (message.type === 'host-key') {
    hostKeyAnswers.get(message.id)?.(message.answer);
    hostKeyAnswers.delete(message.id);
  } else if (message.type === 'close') {
    exitAfter(closeKept());
  } else if (message.type === 'task') {
    const id = message.id;
    serveRead(message.task).then(
      (result) => post({ type: 'done', task: id, result }),
      (error: unknown) => post({ type: 'failed', task: id, error: failureOf(error) }),
    );
  }
});
// The daemon gone (stopped, crashed, killed): a task stops as if aborted, releasing its lock, and
// the process ends with it; a kept reader closes its repositories and ends. Host-key questions
// left unanswered are refused, so that no connection waits forever.
process.on('disconnect', () => {
  controller.abort(new DOMException('The daemon is gone', 'AbortError'));
  for (const answer of hostKeyAnswers.values()) answer('mismatch');
  hostKeyAnswers.clear();
  if (!tasked) exitAfter(closeKept());
});

async function openBackend(task: RepositoryPlace): Promise<ClosableRepositoryBackend> {
  return openRepositoryBackend(task.destinationType, task.config, task.secret, hostKeys);
}

/**
 * The backend with its lock files announced to the daemon: before a lock is written (a worker
 * terminated mid-write may still leave it) and after one is removed. Everything else passes through.
 */
function announcingLocks(backend: ClosableRepositoryBackend): ClosableRepositoryBackend {
  const lockId = (file: string) => (file.startsWith('locks/') ? file.slice('locks/'.length) : null);
  return new Proxy(backend, {
    get(target, property) {
      if (property === 'write') {
        return async (file: string, ...rest: [Buffer]) => {
          const id = lockId(file);
          // Awaited: the daemon has the announcement before the file can exist.
          if (id !== null) await post({ type: 'lock', id, held: true });
          return target.write(file, ...rest);
        };
      }
      if (property === 'remove') {
        return async (file: string, ...rest: []) => {
          await target.remove(file, ...rest);
          const id = lockId(file);
          if (id !== null) post({ type: 'lock', id, held: false });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function noRepositoryAt(backend: ClosableRepositoryBackend) {
  return notFound('REPOSITORY_NOT_FOUND', `There is no repository at ${backend.where()} yet; run the job first`);
}

/**
 * Opens the repository with its index; for a backup, creates it when the folder holds none yet.
 * A remembered master key is tried first (no scrypt); the password opens it when there is none or it
 * no longer opens the repository there. A key found by the password (or made) is sent to the
 * daemon to remember; a remembered one that failed is sent as forgotten.
 */
async function openIndexed(backend: ClosableRepositoryBackend, place: RepositoryPlace, create: boolean): Promise<{ repo: Repository; created: boolean }> {
  const remember = (key: RememberedKey | null) => void post({ type: 'key', place: placeKeyOf(place), key });
  if (create && !(await backend.stat('config'))) {
    const repo = await initRepository(backend, place.password);
    log('info', `Created a new repository at ${backend.where()}`);
    remember(repo.rememberable());
    return { repo, created: true };
  }
  if (!create && !(await backend.stat('config'))) throw noRepositoryAt(backend);
  let repo = place.rememberedKey ? await openRepositoryWithKey(backend, place.rememberedKey) : null;
  if (repo) log('info', 'Opened the repository with the key remembered from an earlier run (no key derivation)');
  else {
    if (place.rememberedKey) {
      log('info', 'The remembered key does not open the repository here (replaced, or its key changed): opening it with the password');
      remember(null);
    }
    repo = await openRepository(backend, place.password);
    remember(repo.rememberable());
  }
  await repo.loadIndex();
  return { repo, created: false };
}

async function runBackup(repo: Repository, task: Extract<RepositoryTask, { op: 'backup' }>, created: boolean): Promise<BackupOutcome> {
  const hostname = os.hostname();
  const paths = [...task.sources].sort();
  // The parent is this job's own latest snapshot of the same sources: another job sharing the
  // repository never decides which of our files are read again.
  const parent = (await listSnapshots(repo)).filter((s) => s.tags?.includes(task.jobTag) && s.hostname === hostname && sameList([...s.paths].sort(), paths)).at(-1);
  if (parent) log('info', `Comparing with snapshot ${parent.id.slice(0, 8)} of ${parent.time}: unchanged files are not read again`);
  let last = 0;
  const result = await backup(repo, {
    paths,
    tags: task.tags,
    hostname,
    parent: parent?.id ?? null,
    signal: controller.signal,
    onProgress: (progress) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      post({ type: 'progress', totals: { files_transferred: progress.files - progress.filesUnchanged, bytes_transferred: progress.bytesRead, files_deleted: 0 } });
    },
  });
  post({ type: 'progress', totals: { files_transferred: result.files - result.filesUnchanged, bytes_transferred: result.bytesRead, files_deleted: 0 } });
  for (const warning of result.warnings.slice(0, WARNINGS_NAMED)) log('warning', `Not backed up (could not be read): ${warning}`);
  if (result.warnings.length > WARNINGS_NAMED) log('warning', `… and ${result.warnings.length - WARNINGS_NAMED} more entries not backed up`);
  for (const gone of result.vanished.slice(0, WARNINGS_NAMED)) log('info', `Vanished while backing up: ${gone}`);
  const snapshot = (await listSnapshots(repo)).find((s) => s.id === result.snapshotId)!;
  const counted = await treeCounter(repo)(result.tree);
  // The snapshot is saved: a retention that fails after it is the run's warning, not its failure.
  let upkeep: UpkeepOutcome | null = null;
  let upkeepError: string | null = null;
  // A partial snapshot must not push out the older, whole ones: no retention after it.
  if (task.upkeep && result.warnings.length === 0) {
    try {
      upkeep = await runUpkeep(repo, task.upkeep, false);
    } catch (error) {
      if (controller.signal.aborted) throw error;
      upkeepError = (error as Error)?.message ?? String(error);
    }
  }
  return {
    upkeep,
    upkeepError,
    snapshot: { ...snapshot, ...counted },
    files: result.files,
    filesUnchanged: result.filesUnchanged,
    bytesRead: result.bytesRead,
    bytesAdded: result.bytesAdded,
    warnings: result.warnings.length,
    firstWarnings: result.warnings.slice(0, 3),
    created,
  };
}

/**
 * Restores into `target` as every restore lands: each of the snapshot's paths in `<target>/<its
 * name>`, and `paths` (`<name>/<path inside>`) picking parts of them.
 */
async function runRestore(repo: Repository, task: Extract<RepositoryTask, { op: 'restore' }>): Promise<TransferTotals> {
  const snapshot = await findListed(repo, task.snapshot);
  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  // The snapshot's paths name the folders the restore writes (`<target>/<basename>`); the file could
  // have been written by any client holding the password, so a path that is not plain is refused.
  for (const source of snapshot.paths) {
    const name = path.posix.basename(source);
    if (!path.posix.isAbsolute(source) || path.posix.normalize(source) !== source || name === '' || name === '.' || name === '..') {
      throw invalid('REPOSITORY_BAD_NAME', `Snapshot ${snapshot.id.slice(0, 8)} names the path ${JSON.stringify(source)}, which a restore cannot use safely: refused.`);
    }
  }
  const byName = new Map(snapshot.paths.map((source) => [path.posix.basename(source), source]));
  const wanted = new Map<string, string[] | undefined>();
  if (task.paths === null) for (const name of byName.keys()) wanted.set(name, undefined);
  else {
    for (const asked of task.paths) {
      const [name, ...rest] = asked.split('/').filter((part) => part !== '' && part !== '.');
      if (rest.includes('..')) throw invalid('INVALID_PATH', `"${asked}" leads out of its folder with "..": name a path inside the snapshot.`);
      const source = byName.get(name);
      if (source === undefined) throw notFound('RESTORE_PATH_NOT_FOUND', `"${asked}" is not in snapshot ${snapshot.id.slice(0, 8)}: its top folders are ${[...byName.keys()].join(', ')}`);
      if (rest.length === 0) wanted.set(name, undefined);
      else if (!wanted.has(name) || wanted.get(name) !== undefined) wanted.set(name, [...(wanted.get(name) ?? []), path.posix.join(source, ...rest)]);
    }
  }
  // One for the run: a file linked from two of the snapshot's paths comes back linked, as restic restores it.
  const hardLinks = new HardLinkIndex();
  for (const [name, include] of wanted) {
    const result = await restore(repo, { snapshot: snapshot.id, root: byName.get(name)!, target: path.join(task.target, name), include, hardLinks, signal: controller.signal });
    totals.files_transferred += result.files;
    totals.bytes_transferred += result.bytes;
    post({ type: 'progress', totals });
  }
  return totals;
}

/** Counts the files and their sizes below a tree, each distinct tree read once (snapshots share most). */
function treeCounter(repo: Repository): (treeId: string) => Promise<{ files: number; size: number }> {
  const counted = new Map<string, { files: number; size: number }>();
  const count = async (treeId: string): Promise<{ files: number; size: number }> => {
    const known = counted.get(treeId);
    if (known) return known;
    const total = { files: 0, size: 0 };
    for (const node of decodeTree(await repo.loadBlob(Buffer.from(treeId, 'hex'), `tree ${treeId.slice(0, 12)}`))) {
      if (node.type === 'file') {
        total.files++;
        total.size += node.size ?? 0;
      } else if (node.type === 'dir' && node.subtree) {
        const below = await count(node.subtree);
        total.files += below.files;
        total.size += below.size;
      }
    }
    counted.set(treeId, total);
    return total;
  };
  return count;
}

/** Every snapshot with its files and size, oldest first. */
async function runList(repo: Repository): Promise<ListedSnapshot[]> {
  const count = treeCounter(repo);
  const listed: ListedSnapshot[] = [];
  for (const snapshot of await listSnapshots(repo)) listed.push({ ...snapshot, ...(await count(snapshot.tree)) });
  return listed;
}

/** One page of a folder in a snapshot; the top lists the snapshot's paths by name, as restores lay them out. */
async function runTree(repo: Repository, task: Extract<RepositoryTask, { op: 'tree' }>): Promise<{ entries: ListedEntry[]; total: number }> {
  const snapshot = await findListed(repo, task.snapshot);
  let nodes: TreeNode[];
  if (task.path.length === 0) {
    nodes = [];
    for (const source of snapshot.paths) nodes.push({ ...(await findNode(repo, snapshot.tree, source)), name: path.posix.basename(source) });
  } else {
    const source = snapshot.paths.find((candidate) => path.posix.basename(candidate) === task.path[0]);
    if (source === undefined) throw notFound('PATH_NOT_FOUND', `"${task.path.join('/')}" is not in the snapshot`);
    const node = await findNode(repo, snapshot.tree, path.posix.join(source, ...task.path.slice(1))).catch((error: unknown) => {
      throw isCairnError(error) && error.code === 'REPOSITORY_PATH_NOT_FOUND' ? notFound('PATH_NOT_FOUND', `"${task.path.join('/')}" is not in the snapshot`) : error;
    });
    if (node.type !== 'dir') throw invalid('NOT_A_FOLDER', `"${task.path.join('/')}" in the snapshot is not a folder`);
    nodes = node.subtree ? decodeTree(await repo.loadBlob(Buffer.from(node.subtree, 'hex'), `folder ${task.path.join('/')}`)) : [];
  }
  nodes.sort((a, b) => byCodeUnits(a.name, b.name));
  const entries = nodes.slice(task.offset, task.offset + task.limit).map(entryOf);
  return { entries, total: nodes.length };
}

function entryOf(node: TreeNode): ListedEntry {
  const type = node.type === 'file' || node.type === 'dir' || node.type === 'symlink' ? node.type : 'other';
  const size = type === 'file' ? (node.size ?? 0) : type === 'symlink' ? Buffer.byteLength(node.linktarget ?? '') : null;
  const mtime = node.mtime ? new Date(Number(parseTime(node.mtime) / 1_000_000n)).toISOString() : new Date(0).toISOString();
  return { name: node.name, type, size, mtime };
}

/**
 * The job's retention over its own snapshots (`forget`, its tag only), then `prune` to free what
 * they alone used: after a backup only when forget removed something (a prune reads every tree),
 * always when asked for (it also frees what deleted snapshots left). An empty policy forgets nothing.
 */
async function runUpkeep(repo: Repository, upkeep: Upkeep, alwaysPrune: boolean): Promise<UpkeepOutcome> {
  const forgotten = await forget(repo, upkeep.policy, { jobTag: upkeep.jobTag, now: Date.now(), timeZone: upkeep.timezone });
  if (forgotten.remove.length === 0 && !alwaysPrune) return { forget: forgotten, prune: null };
  log('info', `Pruning the repository: ${forgotten.remove.length} snapshot(s) forgotten, freeing the data no snapshot uses any more`);
  const pruned = await prune(repo, { signal: controller.signal });
  return { forget: forgotten, prune: pruned };
}

/**
 * The structure check always, and `percent` of the packs read back blob by blob. Damage comes back
 * as problems (the daemon fails the run naming them); a store that cannot be read throws
 * REPOSITORY_UNREACHABLE, no verdict on the repository.
 */
async function runVerify(repo: Repository, task: Extract<RepositoryTask, { op: 'verify' }>): Promise<VerifyOutcome> {
  const newest = (await listSnapshots(repo)).filter((s) => s.tags?.includes(task.jobTag)).at(-1);
  let last = 0;
  const result = await check(repo, {
    readDataPercent: task.percent,
    signal: controller.signal,
    onProgress: (progress) => {
      const now = Date.now();
      if (progress.step !== 'read' || now - last < PROGRESS_EVERY_MS) return;
      last = now;
      log('info', `Reading packs: ${progress.done} of ${progress.total}`);
    },
  });
  return {
    snapshotId: newest?.id ?? null,
    packs: result.packs,
    packsRead: result.packsRead,
    bytesRead: result.bytesRead,
    snapshots: result.snapshots,
    problems: result.errors.slice(0, VERIFY_PROBLEMS_NAMED),
    problemCount: result.errors.length,
    hints: result.hints.slice(0, 20),
  };
}

/** Removes one snapshot file under an exclusive lock, as `restic forget` does; its data stays until a prune. */
async function runForget(repo: Repository, task: Extract<RepositoryTask, { op: 'forget' }>): Promise<void> {
  await withLock(repo, true, async () => {
    const snapshot = await findListed(repo, task.snapshot);
    await repo.backend.remove(filePath('snapshots', snapshot.id));
  });
}

/** The snapshot with exactly this id (ids come from the daemon's listing, never a prefix guess). */
async function findListed(repo: Repository, id: string): Promise<Snapshot> {
  const snapshot = (await listSnapshots(repo)).find((candidate) => candidate.id === id);
  if (!snapshot) throw notFound('SNAPSHOT_NOT_FOUND', `There is no snapshot ${id.slice(0, 8)} in the repository (forgotten since?)`);
  return snapshot;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** A repository the kept reader opened: reads of it run one after another (each reloads its index). */
interface KeptRepository {
  opened: Promise<{ backend: ClosableRepositoryBackend; repo: Repository }>;
  queue: Promise<unknown>;
  closer: NodeJS.Timeout | null;
}

/** The kept reader's repositories, by a hash of where they are and the password that opens them. */
const kept = new Map<string, KeptRepository>();

/** Forgets a kept repository and closes its backend; resolves once closed (never rejects). */
function dropKept(key: string, entry: KeptRepository): Promise<void> {
  if (kept.get(key) !== entry) return Promise.resolve();
  kept.delete(key);
  if (entry.closer) clearTimeout(entry.closer);
  return entry.opened.then(({ backend }) => backend.close()).catch(() => undefined);
}

/**
 * One read task in the kept reader. The repository is opened (scrypt, index) at its first read and
 * kept; later reads reload only its index, so they see what backups added since.
 */
async function serveRead(task: ReadTask): Promise<unknown> {
  const key = placeKeyOf(task);
  let entry = kept.get(key);
  const fresh = entry === undefined;
  if (!entry) {
    const opened = openBackend(task).then(async (backend) => {
      try {
        return { backend, repo: (await openIndexed(backend, task, false)).repo };
      } catch (error) {
        await backend.close().catch(() => undefined);
        throw error;
      }
    });
    entry = { opened, queue: Promise.resolve(), closer: null };
    kept.set(key, entry);
  }
  const current = entry;
  if (current.closer) clearTimeout(current.closer);
  current.closer = null;
  const run = current.queue.then(async () => {
    const { backend, repo } = await current.opened;
    if (!fresh) {
      // Still there? A drive unplugged or a folder moved lists as empty, which must not read as "no snapshots".
      if (!(await backend.stat('config'))) throw noRepositoryAt(backend);
      await repo.reloadIndex();
    }
    return task.op === 'list' ? runList(repo) : runTree(repo, task);
  });
  current.queue = run.catch(() => undefined);
  try {
    return await run;
  } catch (error) {
    // A question with a wrong answer (no such path) leaves the repository kept; anything else (a
    // dropped connection, a changed key, a missing repository, a refused credential, which the server
    // may accept again once fixed there) drops it, and a kept one is tried once afresh, as the read
    // would have run before it was kept.
    const wrongQuestion = isCairnError(error) && (error.kind === 'invalid' || error.kind === 'not_found') && error.code !== 'REPOSITORY_NOT_FOUND' && error.code !== 'AUTHENTICATION_FAILED';
    if (wrongQuestion) throw error;
    void dropKept(key, current);
    // A kept repository whose config vanished is tried afresh too: opening it again through the
    // destination tells a drive or folder that is away (503) from a place with no repository yet (404).
    if (!fresh) return serveRead(task);
    throw error;
  } finally {
    if (kept.get(key) === current) {
      if (current.closer) clearTimeout(current.closer);
      current.closer = setTimeout(() => void dropKept(key, current), REPOSITORY_KEPT_MS);
      current.closer.unref();
    }
  }
}

/** Closes every kept repository (its connection), as the kept reader is told to stop. */
async function closeKept(): Promise<void> {
  await Promise.all([...kept.entries()].map(([key, entry]) => dropKept(key, entry)));
}

function failureOf(error: unknown): Extract<WorkerMessage, { type: 'failed' }>['error'] {
  const base = { message: (error as Error)?.message ?? String(error), aborted: controller.signal.aborted };
  return isCairnError(error) ? { ...base, kind: error.kind, code: error.code, retryable: error.retryable } : base;
}

async function main(task: RepositoryTask): Promise<unknown> {
  const backend = announcingLocks(await openBackend(task));
  try {
    const { repo, created } = await openIndexed(backend, task, task.op === 'backup');
    switch (task.op) {
      case 'backup':
        return await runBackup(repo, task, created);
      case 'restore':
        return await runRestore(repo, task);
      case 'list':
        return await runList(repo);
      case 'tree':
        return await runTree(repo, task);
      case 'forget':
        return await runForget(repo, task);
      case 'prune':
        return await runUpkeep(repo, task.upkeep, true);
      case 'verify':
        return await runVerify(repo, task);
    }
  } finally {
    await backend.close().catch(() => undefined);
  }
}

// Started by hand (no IPC channel), there is no daemon to work for.
if (!process.send) {
  process.stderr.write('cairn: repository-worker is started by the daemon only\n');
  process.exit(2);
}
