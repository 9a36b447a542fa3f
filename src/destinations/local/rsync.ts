/** Runs one rsync copy as a child process group, streaming its output; stops it when the signal aborts. */
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import type { SyncOptions } from '../types.ts';
import { OUT_FORMAT } from './rsync-output.ts';

/** How long rsync gets to clean up after SIGTERM before it is killed. */
const KILL_AFTER_MS = 5000;

export interface RsyncCopy {
  /** Folder whose contents are copied (without trailing slash). */
  source: string;
  /** Folder that becomes a copy of it. */
  target: string;
  /** Where rsync keeps files while they are written, so none is ever seen half-written under its name. */
  tempDir: string | null;
  options: SyncOptions;
  /** Target filesystem lacks owners/permissions and has coarse timestamps (FAT, exFAT, NTFS). */
  fatLike: boolean;
}

/** rsync's argv for a copy; every value is its own argument, nothing passes through a shell. */
export function rsyncArguments(copy: RsyncCopy): string[] {
  const { options } = copy;
  const args = copy.fatLike ? ['-rltD', '--modify-window=1'] : ['-a'];
  args.push(`--out-format=${OUT_FORMAT}`, '--stats');
  if (options.delete_extraneous) args.push('--delete');
  for (const pattern of options.exclude_patterns) args.push(`--exclude=${pattern}`);
  if (options.bandwidth_limit_kbps) args.push(`--bwlimit=${options.bandwidth_limit_kbps}`);
  if (options.dry_run) args.push('--dry-run');
  if (copy.tempDir) args.push(`--temp-dir=${copy.tempDir}`);
  args.push('--', `${copy.source}/`, `${copy.target}/`);
  return args;
}

export interface RsyncResult {
  code: number;
  stderr: string[];
}

/**
 * Runs rsync, handing each stdout line to `onLine`. Resolves with the exit code and stderr lines.
 * When `signal` aborts, rsync's process group gets SIGTERM (then SIGKILL), and the promise resolves
 * once it has exited.
 */
export function runRsync(args: string[], signal: AbortSignal, onLine: (line: string) => void, onError: (line: string) => void): Promise<RsyncResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('rsync', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    let killTimer: NodeJS.Timeout | null = null;
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
        killTimer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), KILL_AFTER_MS);
      } catch {
        // already gone
      }
    };
    signal.addEventListener('abort', stop, { once: true });
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      if (stderr.length < 10_000) stderr.push(line);
      onError(line);
    });
    child.on('error', reject);
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', stop);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code: code ?? (killedBy ? 20 : 1), stderr });
    });
  });
}
