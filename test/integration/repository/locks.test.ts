/**
 * Locks of repository tasks, each run in a process of its own: a lock left by a task process that
 * was killed is stale by restic's rule (its pid is gone) and the next lock removes it; a live task's
 * lock is honoured by Cairn and by restic; restic's own lock from this host stays live while its
 * process runs. An older Cairn's lock naming a thread that is gone, in a process that still runs
 * (a daemon whose task thread was terminated), is still read as stale.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, initRepository, LocalBackend, openRepository, type Repository } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { restic } from './restic.ts';

const PASSWORD = 'processes hold locks';
const repoDir = path.join(tempDir('cairn-locks-'), 'repo');
const HOLDER = new URL('./lock-holder.ts', import.meta.url).pathname;

async function opened(): Promise<Repository> {
  return openRepository(new LocalBackend(repoDir), PASSWORD);
}

async function lockFiles(): Promise<string[]> {
  return fs.readdir(path.join(repoDir, 'locks'));
}

/** A process holding a lock on the repository, as the daemon's task processes do (tsx's loader, the password on stdin). */
async function lockingProcess(exclusive: boolean): Promise<ChildProcess> {
  const holder = spawn(process.execPath, ['--import', import.meta.resolve('tsx/esm'), HOLDER, repoDir, exclusive ? 'exclusive' : 'shared'], { stdio: ['pipe', 'pipe', 'inherit'] });
  holder.stdin!.end(`${PASSWORD}\n`);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`the locking process exited (${code}) before it held its lock`)));
  });
  return holder;
}

async function kill(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return;
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
}

test.before(async () => {
  await initRepository(new LocalBackend(repoDir), PASSWORD);
});

// Each test starts with no lock, whatever the one before left.
test.after.each(async () => {
  for (const file of await lockFiles()) await fs.rm(path.join(repoDir, 'locks', file));
});

test('a lock left by a task process that was killed is stale: the next exclusive lock removes it', async () => {
  const holder = await lockingProcess(true);
  const [left] = await lockFiles();
  assert.ok(left, 'the process holds a lock');
  await kill(holder);
  assert.equal(await lockFiles(), [left], 'killed, the process could not release its lock');
  const repo = await opened();
  const ours = await acquireLock(repo, true);
  const files = await lockFiles();
  assert.is(files.length, 1, `locks: ${files.join(', ')}`);
  assert.is.not(files[0], left, 'the dead process`s lock was removed');
  await ours.release();
  assert.equal(await lockFiles(), []);
});

test('a live task process`s exclusive lock is honoured: Cairn and restic are both refused', async () => {
  const holder = await lockingProcess(true);
  try {
    const error = await acquireLock(await opened(), false).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_LOCKED', String(error));
    assert.match(error.message, `pid ${holder.pid}`);
    const check = await restic(repoDir, PASSWORD, ['check']);
    assert.is.not(check.code, 0, check.stdout);
    assert.match(check.stderr, /already locked/);
    assert.match(check.stderr, String(holder.pid));
  } finally {
    await kill(holder);
  }
});

test('an older Cairn`s lock naming a thread that is gone, in this live process, is stale', async () => {
  // As a daemon that ran its tasks in threads wrote it: this box and boot, a live pid, a thread it no longer has.
  const left = await foreignLock({ machine: identityHash('/etc/machine-id'), boot: identityHash('/proc/sys/kernel/random/boot_id'), tid: 2 ** 22 + 7 });
  const ours = await acquireLock(await opened(), true);
  const files = await lockFiles();
  assert.not.ok(files.includes(left), 'the gone thread`s lock was removed');
  assert.is(files.length, 1);
  await ours.release();
});

test('a lock names no thread any more: restic`s fields and the box`s identity only', async () => {
  const repo = await opened();
  const ours = await acquireLock(repo, false);
  try {
    const [id] = await lockFiles();
    const lock = (await repo.readUnpacked('locks', id)) as Record<string, unknown>;
    assert.is(lock.pid, process.pid);
    assert.is(lock.cairn_tid, undefined);
    assert.is(lock.cairn_boot, identityHash('/proc/sys/kernel/random/boot_id'));
  } finally {
    await ours.release();
  }
});

test('restic`s lock from this host names no thread: it stays live while its process runs', async () => {
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const repo = await opened();
    // As restic writes it: this host, a live pid, no thread.
    const id = await repo.writeUnpacked('locks', { time: new Date().toISOString(), exclusive: true, hostname: os.hostname(), username: 'root', pid: holder.pid, uid: 0, gid: 0 });
    const error = await acquireLock(repo, false).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_LOCKED', String(error));
    assert.equal(await lockFiles(), [id], 'restic`s live lock is left alone');
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const ours = await acquireLock(repo, false);
    await ours.release();
    assert.equal(await lockFiles(), [], 'once its process is gone, it is stale by restic`s rule');
  } finally {
    holder.kill('SIGKILL');
  }
});

/** A Cairn lock as another writer left it: this hostname and this live pid, with the given identity. */
async function foreignLock(identity: { machine: string; boot: string; tid?: number }): Promise<string> {
  const repo = await opened();
  return repo.writeUnpacked('locks', {
    time: new Date().toISOString(),
    exclusive: true,
    hostname: os.hostname(),
    username: 'root',
    pid: process.pid,
    ...(identity.tid ? { cairn_tid: identity.tid } : {}),
    cairn_machine: identity.machine,
    cairn_boot: identity.boot,
  });
}

const identityHash = (file: string) => createHash('sha256').update(`cairn repository lock\n${readFileSync(file, 'utf8').trim()}`).digest('hex').slice(0, 32);

test('another box of the same hostname: its pid and thread mean nothing here, so its lock is honoured', async () => {
  // Judged by pid and thread on this box, this lock would be stale (this process has no such thread).
  await foreignLock({ machine: 'f'.repeat(32), boot: 'e'.repeat(32), tid: 2 ** 22 + 7 });
  const error = await acquireLock(await opened(), true).catch((e) => e);
  assert.is(error?.code, 'REPOSITORY_LOCKED', 'the other box still holds it');
  assert.is((await lockFiles()).length, 1, 'its lock is left alone, ours taken back');
});

test('this box, an earlier boot: the lock is stale even though its pid now names a live process', async () => {
  const left = await foreignLock({ machine: identityHash('/etc/machine-id'), boot: 'e'.repeat(32) });
  const ours = await acquireLock(await opened(), true);
  const files = await lockFiles();
  assert.not.ok(files.includes(left), 'the earlier boot`s lock was removed');
  assert.is(files.length, 1);
  await ours.release();
});

test.run();
