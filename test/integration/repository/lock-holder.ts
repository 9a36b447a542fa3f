/**
 * Run in a worker thread by locks.test.ts: opens the repository at `workerData.dir`, takes a lock
 * (`workerData.exclusive`), says `held` with its id, and keeps it until the thread is terminated,
 * as a repository task's worker does when the daemon has to terminate it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { acquireLock, LocalBackend, openRepository } from '../../../src/repository/index.ts';

const { dir, password, exclusive } = workerData as { dir: string; password: string; exclusive: boolean };
const repo = await openRepository(new LocalBackend(dir), password);
await acquireLock(repo, exclusive);
parentPort!.postMessage('held');
// The port keeps the thread alive, holding the lock, until it is terminated.
parentPort!.on('message', () => undefined);
