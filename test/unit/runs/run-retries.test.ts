/**
 * A run's retries: the pauses a job's options ask for, each attempt in the log, the last failure the
 * run's, nothing retried that cannot get better, and a cancel that ends the pause at once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CairnError } from '../../../src/domain/errors.ts';
import { withOptionDefaults } from '../../../src/domain/jobs.ts';
import type { LogLevel } from '../../../src/domain/runs.ts';
import { MAX_RETRY_DELAY_MS, retryPolicyOf, withRetries } from '../../../src/runs/run-retries.ts';

const unreachable = () => new CairnError('unavailable', 'DESTINATION_UNREACHABLE', 'The server closed the connection', { retryable: true });

/** An attempt that fails its first `failures` calls with `error`, then answers 'done'. */
function flaky(failures: number, error: () => Error) {
  let calls = 0;
  return {
    attempt: async () => {
      calls += 1;
      if (calls <= failures) throw error();
      return 'done';
    },
    calls: () => calls,
  };
}

function recorder() {
  const lines: Array<[LogLevel, string]> = [];
  return { lines, log: (level: LogLevel, message: string) => lines.push([level, message]) };
}

test('by default a run is tried twice more, after 30 s and then 2 min; jobs stored before the options get the same', () => {
  const stored = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' as const };
  assert.equal(retryPolicyOf(withOptionDefaults(stored)), { retries: 2, delaysMs: [30_000, 120_000] });
  assert.equal(retryPolicyOf({ retry_attempts: 0, retry_delay_seconds: 30 }), { retries: 0, delaysMs: [] });
  const many = retryPolicyOf({ retry_attempts: 10, retry_delay_seconds: 600 });
  assert.is(many.delaysMs.length, 10);
  assert.ok(many.delaysMs.every((delay) => delay <= MAX_RETRY_DELAY_MS), 'no pause longer than an hour');
});

test('a retryable failure is tried again, each attempt and its error in the log, and the last try counts', async () => {
  const flakyRun = flaky(2, unreachable);
  const { lines, log } = recorder();
  const outcome = await withRetries({ retries: 2, delaysMs: [10, 10] }, new AbortController().signal, log, flakyRun.attempt);
  assert.is(outcome, 'done');
  assert.is(flakyRun.calls(), 3);
  assert.equal(lines, [
    ['warning', 'Attempt 1 of 3 failed: The server closed the connection; trying again in 0 s'],
    ['info', 'Attempt 2 of 3'],
    ['warning', 'Attempt 2 of 3 failed: The server closed the connection; trying again in 0 s'],
    ['info', 'Attempt 3 of 3'],
  ]);
});

test('after the last attempt the failure is the run\'s; a failure that cannot get better is not tried again', async () => {
  const always = flaky(99, unreachable);
  const error = await withRetries({ retries: 2, delaysMs: [10, 10] }, new AbortController().signal, () => undefined, always.attempt).catch((failure) => failure);
  assert.is(error.code, 'DESTINATION_UNREACHABLE');
  assert.is(always.calls(), 3);

  for (const refusal of [
    () => new CairnError('invalid', 'SOURCE_NAMES_CLASH', 'two sources share a name'),
    () => new CairnError('unavailable', 'DRIVE_NOT_MOUNTED', 'The drive is not mounted'),
    () => new Error('a bug'),
  ]) {
    const once = flaky(99, refusal);
    await withRetries({ retries: 2, delaysMs: [10, 10] }, new AbortController().signal, () => undefined, once.attempt).catch(() => undefined);
    assert.is(once.calls(), 1, refusal().message);
  }
});

test('a server that says when to come back is waited for at least that long', async () => {
  const busy = flaky(1, () => new CairnError('rate_limited', 'RATE_LIMITED', 'slow down', { retryable: true, retryAfter: 1 }));
  const { lines, log } = recorder();
  const started = Date.now();
  await withRetries({ retries: 1, delaysMs: [10] }, new AbortController().signal, log, busy.attempt);
  assert.ok(Date.now() - started >= 950, 'the Retry-After second was waited');
  assert.match(lines[0][1], /trying again in 1 s$/);
});

test('a cancel during the pause ends the run at once, with the cancel', async () => {
  const always = flaky(99, unreachable);
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort('cancelled'), 200);
  const outcome = await withRetries({ retries: 2, delaysMs: [60_000, 60_000] }, controller.signal, () => undefined, always.attempt).catch((failure) => failure);
  assert.is(outcome, 'cancelled');
  assert.ok(Date.now() - started < 5_000, 'not after the minute-long pause');
  assert.is(always.calls(), 1);
});

test.run();
