/**
 * Retries for every destination (STYLE.md §5; restic's retry backend is the model): a sync or a
 * restore that fails with a retryable CairnError (a server that dropped the connection, a drive
 * that was busy) is run again after a pause, each attempt said in the run log. Both are incremental,
 * so an attempt again only sends what the last one did not. A cancel ends the waiting at once.
 * Connection tests are not retried: someone is waiting for the answer.
 */
import { isCairnError } from '../domain/errors.ts';
import type { LogLevel } from '../domain/runs.ts';
import type { Destination } from './types.ts';

/** Pauses before the second and third attempts. */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000];

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

async function withAttempts<T>(delays: readonly number[], signal: AbortSignal, log: (level: LogLevel, message: string) => void, attempt: () => Promise<T>): Promise<T> {
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted || !isCairnError(error) || !error.retryable || tried >= delays.length) throw error;
      const seconds = Math.round(delays[tried] / 1000);
      log('warning', `Attempt ${tried + 1} of ${delays.length + 1} failed: ${error.message}; trying again in ${seconds} s`);
      await pause(delays[tried], signal);
      log('info', `Attempt ${tried + 2} of ${delays.length + 1}`);
    }
  }
}

/** The destination with retryable failures of `sync` and `restore` tried again after `delays`. */
export function retrying<Config>(destination: Destination<Config>, delays: readonly number[] = RETRY_DELAYS_MS): Destination<Config> {
  return {
    ...destination,
    sync: (context) => withAttempts(delays, context.signal, context.log, () => destination.sync(context)),
    restore: (context) => withAttempts(delays, context.signal, context.log, () => destination.restore(context)),
  };
}
