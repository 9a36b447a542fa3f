/**
 * Locks of repository worker threads: a lock left by a thread that is gone, in a process that
 * still runs (a daemon whose task worker was terminated), is stale and the next lock removes it;
 * a live thread's lock is honoured by Cairn and by restic; restic's own lock from this host, which
 * names no thread, stays live while its process runs.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, initRepository, LocalBackend, openRepository, type Repository } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { restic } from './restic.ts';

const PASSWORD = 'threads hold locks';
const repoDir = path.join(tempDir('cairn-locks-'), 'repo');
const HOLDER = new URL('./lock-holder.ts', import.meta.url).href;

async function opened(): Promise<Repository> {
  return openRepository(new LocalBackend(repoDir), PASSWORD);
}

async function lockFiles(): Promise<string[]> {
  return fs.readdir(path.join(repoDir, 'locks'));
}

/** A worker thread of this process holding a lock on the repository (tsx registered in it, as the daemon's workers do). */
async function lockingThread(exclusive: boolean): Promise<Worker> {
  const loader = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(HOLDER)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { dir: repoDir, password: PASSWORD, exclusive } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the locking thread exited (${code}) before it held its lock`)));
  });
  return worker;
}

test.before(async () => {
  await initRepository(new LocalBackend(repoDir), PASSWORD);
});

// Each test starts with no lock, whatever the one before left.
test.after.each(async () => {
  for (const file of await lockFiles()) await fs.rm(path.join(repoDir, 'locks', file));
});

test('a lock left by a thread that is gone, in this live process, is stale: the next exclusive lock removes it', async () => {
  const thread = await lockingThread(true);
  const [left] = await lockFiles();
  assert.ok(left, 'the thread holds a lock');
  await thread.terminate();
  assert.equal(await lockFiles(), [left], 'terminated, the thread could not release its lock');
  const repo = await opened();
  const ours = await acquireLock(repo, true);
  const files = await lockFiles();
  assert.is(files.length, 1, `locks: ${files.join(', ')}`);
  assert.is.not(files[0], left, 'the dead thread`s lock was removed');
  await ours.release();
  assert.equal(await lockFiles(), []);
});

test('a live thread`s exclusive lock is honoured: Cairn and restic are both refused', async () => {
  const thread = await lockingThread(true);
  try {
    const error = await acquireLock(await opened(), false).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_LOCKED', String(error));
    assert.match(error.message, `pid ${process.pid}`);
    const check = await restic(repoDir, PASSWORD, ['check']);
    assert.is.not(check.code, 0, check.stdout);
    assert.match(check.stderr, /already locked/);
    assert.match(check.stderr, String(process.pid));
  } finally {
    await thread.terminate();
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
