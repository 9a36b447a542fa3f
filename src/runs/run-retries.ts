/**
 * Retries of a run (issue 15): a backup or restore that fails with a retryable CairnError (a server
 * that dropped the connection, refused it or was busy) is run again whole after a pause, up to the
 * job's `retry_attempts` times, each attempt and its error said in the run's log. Every destination
 * is incremental, so an attempt again only sends what the last one did not. The pause ends at once
 * when the run is cancelled (or the daemon stops), rejecting with the signal's reason.
 *
 * This is the only place Cairn retries a run: the run knows the job's options, its log, its
 * trigger (verify and prune are never retried) and its whole work (a snapshot run's rsync too),
 * none of which a wrapper around one destination call could see.
 */
import { isCairnError } from '../domain/errors.ts';
import type { SyncOptions } from '../domain/jobs.ts';
import type { LogLevel } from '../domain/runs.ts';

/** The longest pause between two attempts, whatever the options or a server's Retry-After say. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** Each pause is this many times the one before (30 s, 2 min, 8 min … with the default). */
export const RETRY_BACKOFF_FACTOR = 4;

/** How often and after how long a run is tried again. */
export interface RetryPolicy {
  /** Attempts after the first (0: none). */
  retries: number;
  /** The pause before each retry, in order (`retries` entries). */
  delaysMs: number[];
}

/** The policy a job's options ask for: `retry_attempts` retries, the first after `retry_delay_seconds`, each next one RETRY_BACKOFF_FACTOR times longer. */
export function retryPolicyOf(options: Required<Pick<SyncOptions, 'retry_attempts' | 'retry_delay_seconds'>>): RetryPolicy {
  const delaysMs: number[] = [];
  for (let index = 0; index < options.retry_attempts; index++) {
    delaysMs.push(Math.min(options.retry_delay_seconds * 1000 * RETRY_BACKOFF_FACTOR ** index, MAX_RETRY_DELAY_MS));
  }
  return { retries: options.retry_attempts, delaysMs };
}

/** True when trying again later may work: a retryable CairnError. */
export function isRetryable(error: unknown): boolean {
  return isCairnError(error) && error.retryable;
}

/**
 * Runs `attempt` until it resolves, a failure is not retryable, the signal aborts, or the policy's
 * retries are used up; then rejects with the last failure (or the signal's reason). Before each
 * retry it logs the failure and the pause (warning), waits (at least a server's `retryAfter`), and
 * logs the new attempt's number (info).
 */
export async function withRetries<T>(policy: RetryPolicy, signal: AbortSignal, log: (level: LogLevel, message: string) => void, attempt: () => Promise<T>): Promise<T> {
  const total = policy.retries + 1;
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted || tried >= policy.retries || !isRetryable(error)) throw error;
      const delay = pauseFor(policy.delaysMs[tried], error);
      log('warning', `Attempt ${tried + 1} of ${total} failed: ${(error as Error).message}; trying again in ${describeDelay(delay)}`);
      await pause(delay, signal);
      log('info', `Attempt ${tried + 2} of ${total}`);
    }
  }
}

/** The policy's pause, or longer when the server said when to come back. */
function pauseFor(delay: number, error: unknown): number {
  const asked = isCairnError(error) && error.retryAfter ? error.retryAfter * 1000 : 0;
  return Math.min(Math.max(delay, asked), MAX_RETRY_DELAY_MS);
}

function describeDelay(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
