/**
 * Repository locks (`locks/<id>`), restic's protocol: a sealed JSON file saying who holds it and
 * whether it is exclusive. Backups take a shared lock, prune and the like an exclusive one. A lock
 * older than 30 minutes, or from a process on this host that is gone, is stale: the next lock taken
 * removes it (as `restic unlock` would); a held
 * lock is refreshed every 5 minutes, as restic does, so that it never looks stale while in use.
 * The daemon runs each repository task in a process of its own, so restic's rule judges Cairn's
 * locks too: a task killed before it released its lock leaves a pid that is gone. (Cairn's older
 * locks, from tasks run as threads of the daemon, also name the thread, `cairn_tid`: still read, so
 * that such a lock whose thread is gone is stale; no longer written.)
 * Cairn's locks also name the machine and its boot (`cairn_machine`, `cairn_boot`: hashes of systemd's
 * machine-id and the kernel's boot id): a pid or thread only means something on the box and boot
 * that wrote it. Two boxes with one hostname (every appliance is `cairn`) sharing a repository must
 * never judge each other's locks by pid; a lock from an earlier boot of this box is gone for sure.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { filePath } from './backend.ts';
import { locked } from './errors.ts';
import type { Repository } from './repository.ts';

const STALE_MS = 30 * 60_000;
const REFRESH_MS = 5 * 60_000;

interface LockJSON {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid?: number;
  gid?: number;
  /** Cairn's own, in locks of older versions only: the Linux thread id of the holder within `pid`. */
  cairn_tid?: number;
  /** Cairn's own: which machine wrote it (a hash of /etc/machine-id), when it can tell. */
  cairn_machine?: string;
  /** Cairn's own: which boot of that machine (a hash of the kernel's boot id). */
  cairn_boot?: string;
}

/** This box's and this boot's identity as locks record it; null parts where the system does not say. */
const IDENTITY = { machine: identityHash('/etc/machine-id'), boot: identityHash('/proc/sys/kernel/random/boot_id') };

/** A short hash of a system id file (the id itself is not ours to publish on a cloud store), or null. */
function identityHash(file: string): string | null {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return id ? createHash('sha256').update(`cairn repository lock\n${id}`).digest('hex').slice(0, 32) : null;
  } catch {
    return null;
  }
}

/** A lock this process holds; `release` removes it (safe to call more than once). */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes a lock: writes ours, then looks at everyone else's. Another live exclusive lock (or any
 * live lock when we want exclusive) removes ours again and throws REPOSITORY_LOCKED.
 */
export async function acquireLock(repo: Repository, exclusive: boolean): Promise<HeldLock> {
  let id = await repo.writeUnpacked('locks', lockJSON(exclusive));
  try {
    await checkOthers(repo, id, exclusive);
  } catch (error) {
    await repo.backend.remove(filePath('locks', id));
    throw error;
  }
  let released = false;
  const timer = setInterval(() => {
    void (async () => {
      const fresh = await repo.writeUnpacked('locks', lockJSON(exclusive));
      const old = id;
      id = fresh;
      await repo.backend.remove(filePath('locks', old));
      if (released) await repo.backend.remove(filePath('locks', fresh));
    })().catch(() => undefined);
  }, REFRESH_MS);
  timer.unref();
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await repo.backend.remove(filePath('locks', id));
    },
  };
}

/** Runs `work` under a lock, released however `work` ends. */
export async function withLock<T>(repo: Repository, exclusive: boolean, work: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(repo, exclusive);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

function lockJSON(exclusive: boolean): LockJSON {
  const user = os.userInfo();
  return {
    time: new Date().toISOString(),
    exclusive,
    hostname: os.hostname(),
    username: user.username,
    pid: process.pid,
    uid: user.uid,
    gid: user.gid,
    ...(IDENTITY.machine && IDENTITY.boot ? { cairn_machine: IDENTITY.machine, cairn_boot: IDENTITY.boot } : {}),
  };
}

async function checkOthers(repo: Repository, ours: string, exclusive: boolean): Promise<void> {
  for (const id of await repo.list('locks')) {
    if (id === ours) continue;
    let lock: LockJSON;
    try {
      lock = (await repo.readUnpacked('locks', id)) as LockJSON;
    } catch (error) {
      // A lock removed while we listed is no lock; one we cannot read is not ours to judge.
      if ((error as { code?: string }).code === 'REPOSITORY_FILE_MISSING') continue;
      throw error;
    }
    if (isStale(lock)) {
      // restic's own rule (what `restic unlock` removes): left by a process that died on this host,
      // or not refreshed for 30 minutes; and an older Cairn's, left by a worker thread of a live
      // process that is gone. Removed, so that after a crash of ours nobody needs `restic unlock`; a live lock,
      // restic's or another box's, is never touched.
      await repo.backend.remove(filePath('locks', id)).catch(() => undefined);
      continue;
    }
    if (lock.exclusive || exclusive) {
      throw locked(`${repo.backend.where()} is locked${lock.exclusive ? ' exclusively' : ''} by ${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${lock.time}; try again when it is done.`);
    }
  }
}

function isStale(lock: LockJSON): boolean {
  if (Date.now() - Date.parse(lock.time) > STALE_MS) return true;
  if (lock.hostname !== os.hostname()) return false;
  if (typeof lock.cairn_machine === 'string' && IDENTITY.machine && IDENTITY.boot) {
    // Another box of the same name: its pids are not ours to look up. Left to the 30 minutes.
    if (lock.cairn_machine !== IDENTITY.machine) return false;
    // This box, an earlier boot: nothing of that boot still runs.
    if (lock.cairn_boot !== IDENTITY.boot) return true;
  }
  try {
    process.kill(lock.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isThreadGone(lock);
}

/**
 * Whether the lock names a thread its live process no longer has: a repository worker thread of an
 * older Cairn, terminated before it released its lock. Only a positive "the process is listed and the thread is not" counts;
 * anything unsure (no /proc, no thread named) leaves the lock live, as restic would.
 */
function isThreadGone(lock: LockJSON): boolean {
  const tid = lock.cairn_tid;
  if (typeof tid !== 'number' || !Number.isSafeInteger(tid) || tid <= 0 || !Number.isSafeInteger(lock.pid) || lock.pid <= 0) return false;
  return existsSync(`/proc/${lock.pid}/task`) && !existsSync(`/proc/${lock.pid}/task/${tid}`);
}
