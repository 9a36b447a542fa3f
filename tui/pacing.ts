/**
 * How often the terminal UI may ask the daemon for something: a debouncer for bursts of keys, a
 * single flight per kind of request, and an exponential backoff while the daemon is unreachable.
 * Pure timing, no blessed and no HTTP, so it is unit-tested on a fake clock.
 */

/** The timer functions the helpers use; tests pass a fake clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Waits between attempts to reach the daemon: `firstMs`, then twice that after each further
 * failure, never more than `maxMs`; `reset()` after a success starts again at `firstMs`.
 */
export class Backoff {
  private failures = 0;

  constructor(
    readonly firstMs = 1000,
    readonly maxMs = 30_000,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.failures);
    // Stops counting once at the cap, so the power never overflows.
    if (delay < this.maxMs) this.failures += 1;
    return delay;
  }

  /** The daemon answered: the next failure waits `firstMs` again. */
  reset(): void {
    this.failures = 0;
  }
}

/** A function that runs later; `cancel()` drops a call that has not run yet. */
export interface Deferred {
  (): void;
  cancel(): void;
}

/**
 * `fn` once, `ms` after the last call of a burst: ten calls 50 ms apart with `ms` = 150 run `fn`
 * once, 150 ms after the tenth.
 */
export function debounced(fn: () => void, ms: number, timers: Timers = realTimers): Deferred {
  let pending: unknown = null;
  const call = () => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = timers.setTimeout(() => {
      pending = null;
      fn();
    }, ms);
  };
  call.cancel = () => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = null;
  };
  return call;
}

/**
 * `task` with at most one run in flight. A call while it runs starts nothing in parallel: every
 * such call shares one further run, started when the current one ends (so a refresh asked during a
 * refresh still sees the newest state, and N asks during one run cost one request, not N). The
 * promise a call gets settles with the first run that started after the call.
 */
export function singleFlight(task: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const run: Promise<void> = task().finally(() => {
      if (current === run) current = null;
    });
    current = run;
    return run;
  };
  return () => {
    if (current === null) return start();
    queued ??= current
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return start();
      });
    return queued;
  };
}

/** What `retrying` needs: when to give up on an error, and the pace of attempts. */
export interface RetryOptions {
  /** True for an error that a later attempt may not see (daemon unreachable, 5xx). */
  retryable(error: unknown): boolean;
  /** Told of every failed attempt, retried or not. */
  onError(error: unknown): void;
  backoff?: Backoff;
  timers?: Timers;
}

/** A task that retries by itself; `stop()` drops a pending retry for good. */
export interface Retrying {
  (): Promise<void>;
  stop(): void;
}

/**
 * `task` as a single flight (see `singleFlight`) that, after a retryable failure, runs again by
 * itself once the backoff's next delay has passed; a success resets the backoff. A call made while
 * a retry waits runs at once and replaces that retry (it is the owner asking, or an event).
 */
export function retrying(task: () => Promise<void>, options: RetryOptions): Retrying {
  const backoff = options.backoff ?? new Backoff();
  const timers = options.timers ?? realTimers;
  let retry: unknown = null;
  let stopped = false;
  const flight = singleFlight(async () => {
    try {
      await task();
      backoff.reset();
    } catch (error) {
      options.onError(error);
      if (!stopped && options.retryable(error) && retry === null) {
        retry = timers.setTimeout(() => {
          retry = null;
          void call();
        }, backoff.next());
      }
    }
  });
  const call = (() => {
    if (stopped) return Promise.resolve();
    if (retry !== null) timers.clearTimeout(retry);
    retry = null;
    return flight();
  }) as Retrying;
  call.stop = () => {
    stopped = true;
    if (retry !== null) timers.clearTimeout(retry);
    retry = null;
  };
  return call;
}

/**
 * `fn` at most once per `ms`: a call when the last run was `ms` or longer ago runs at once; calls
 * sooner than that share one run at the end of the interval (so the last call is never lost, and a
 * burst of events costs one run per interval).
 */
export function throttled(fn: () => void, ms: number, timers: Timers = realTimers, now: () => number = Date.now): Deferred {
  let last = -Infinity;
  let pending: unknown = null;
  const run = () => {
    pending = null;
    last = now();
    fn();
  };
  const call = () => {
    if (pending !== null) return;
    const wait = last + ms - now();
    if (wait <= 0) run();
    else pending = timers.setTimeout(run, wait);
  };
  call.cancel = () => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = null;
  };
  return call;
}
