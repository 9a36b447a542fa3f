/** Runs rsync as its own process group, streaming its output line by line; stops the group on abort. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { CairnError } from '../../domain/errors.ts';

/** How long rsync gets to remove its temp file and exit after SIGTERM before the group is killed. */
export const KILL_AFTER_MS = 3000;

export interface RsyncHandlers {
  /** Each stdout line, as it arrives. */
  stdout(line: string): void;
  /** Each stderr line, as it arrives. */
  stderr(line: string): void;
}

export interface RsyncExit {
  /** rsync's exit code; null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** rsync outlived SIGKILL (stuck in the kernel, e.g. on a dead drive) and was left behind. */
  abandoned: boolean;
}

/**
 * Runs `rsync args…` and resolves once it has exited and every output line has been handed over.
 * When `signal` aborts, the whole process group (rsync forks a receiver) gets SIGTERM, then SIGKILL
 * after KILL_AFTER_MS; the promise resolves when the processes are gone, or KILL_AFTER_MS after
 * SIGKILL if they are not (`abandoned`), so a process stuck on a dead drive cannot hold a run forever.
 * Rejects with CairnError `RSYNC_MISSING` when rsync cannot be started.
 */
export async function runRsync(args: string[], signal: AbortSignal, handlers: RsyncHandlers): Promise<RsyncExit> {
  const child = spawn('rsync', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const linesDone = [readLines(child.stdout, handlers.stdout), readLines(child.stderr, handlers.stderr)];
  const exited = (once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>).then(async ([code, endedBy]) => {
    await Promise.all(linesDone);
    return { code, signal: endedBy, abandoned: false };
  });
  let killTimer: NodeJS.Timeout | undefined;
  let giveUp = () => {};
  const abandoned = new Promise<RsyncExit>((resolve) => (giveUp = () => resolve({ code: null, signal: 'SIGKILL', abandoned: true })));
  const stop = () => {
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      killTimer = setTimeout(giveUp, KILL_AFTER_MS);
    }, KILL_AFTER_MS);
  };
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  try {
    return await Promise.race([exited, abandoned]);
  } catch (error) {
    throw new CairnError('unavailable', 'RSYNC_MISSING', `Cannot start rsync: ${(error as Error).message}; is rsync installed?`, { cause: error });
  } finally {
    signal.removeEventListener('abort', stop);
    clearTimeout(killTimer);
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<unknown> {
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', onLine);
  return once(lines, 'close').catch(() => undefined);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already exited.
  }
}
