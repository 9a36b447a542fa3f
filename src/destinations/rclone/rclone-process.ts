/**
 * One rclone command, run to its end: its JSON log lines (`--use-json-log`) handed over as they come,
 * a cancel (the signal) answered with SIGTERM and, if it has not gone 5 s later, SIGKILL.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { requireRclone } from './rclone-binary.ts';
import type { RcloneSetup } from './rclone-config.ts';

/** One line of rclone's JSON log. */
export interface RcloneLogLine {
  level: string;
  msg: string;
  object?: string;
  size?: number;
  skipped?: string;
  stats?: RcloneStats;
}

/** rclone's accounting, as its stats lines carry it (cumulative for the command). */
export interface RcloneStats {
  bytes: number;
  transfers: number;
  deletes: number;
  errors: number;
  transferring?: Array<{ name: string }>;
}

export interface RcloneOutcome {
  code: number | null;
  /** What rclone wrote to standard output (listings). */
  stdout: string;
  /** Lines of level error (rclone's own words), in order. */
  errors: RcloneLogLine[];
  stats: RcloneStats | null;
}

const KILL_AFTER_MS = 5_000;

/** Starts rclone; `stdout` is returned for commands that stream (cat). */
export function startRclone(setup: RcloneSetup, args: string[], signal: AbortSignal, input?: Readable): { stdout: Readable; done: Promise<number | null>; stderr: Readable } {
  const child = spawn(requireRclone(), [...args, ...setup.args], { env: setup.env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input) input.pipe(child.stdin!);
  let killer: NodeJS.Timeout | null = null;
  const stop = () => {
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  };
  signal.addEventListener('abort', stop, { once: true });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      signal.removeEventListener('abort', stop);
      if (killer) clearTimeout(killer);
      resolve(code);
    });
  });
  return { stdout: child.stdout!, stderr: child.stderr!, done };
}

/** Runs rclone to its end, passing each JSON log line to `onLine`; never rejects for rclone's own failures. */
export async function runRclone(setup: RcloneSetup, args: string[], signal: AbortSignal, onLine: (line: RcloneLogLine) => void = () => undefined, input?: Readable): Promise<RcloneOutcome> {
  const child = startRclone(setup, ['--use-json-log', ...args], signal, input);
  const outcome: RcloneOutcome = { code: null, stdout: '', errors: [], stats: null };
  let pending = '';
  const take = (text: string) => {
    if (text.trim() === '') return;
    let line: RcloneLogLine;
    try {
      line = JSON.parse(text);
    } catch {
      // rclone prints a few things (usage errors) before its logger is set up: keep them as errors.
      line = { level: 'error', msg: text.trim() };
    }
    if (line.stats) outcome.stats = line.stats;
    if (line.level === 'error' || line.level === 'critical') outcome.errors.push(line);
    onLine(line);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(take);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (outcome.stdout += chunk));
  outcome.code = await child.done;
  take(pending);
  return outcome;
}
