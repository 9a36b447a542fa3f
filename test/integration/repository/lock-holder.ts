/**
 * Run as a process of its own by locks.test.ts, as the daemon runs a repository task: opens the
 * repository at argv[2] (the password on stdin's first line), takes a lock (exclusive when argv[3]
 * is `exclusive`), prints `held`, and keeps it until the process is killed.
 */
import { once } from 'node:events';
import { acquireLock, LocalBackend, openRepository } from '../../../src/repository/index.ts';

const [dir, mode] = process.argv.slice(2);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
await once(process.stdin, 'end');
const repo = await openRepository(new LocalBackend(dir), input.split('\n')[0]);
await acquireLock(repo, mode === 'exclusive');
process.stdout.write('held\n');
// Kept alive, holding the lock, until it is killed.
setInterval(() => undefined, 60_000);
