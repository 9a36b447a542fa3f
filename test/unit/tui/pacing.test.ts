import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, debounced, retrying, singleFlight, throttled, type Timers } from '../../../tui/pacing.ts';

/** A clock that moves only when the test says so. */
function fakeClock() {
  let now = 0;
  let nextId = 0;
  const due = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout(callback, ms) {
      due.set(++nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
  };
  /** Moves the clock forward, firing what falls due in order (and letting promises settle between). */
  async function advance(ms: number) {
    const end = now + ms;
    for (;;) {
      const [id, next] = [...due].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (next === undefined || next.at > end) break;
      due.delete(id!);
      now = next.at;
      next.callback();
      await settle();
    }
    now = end;
  }
  return { timers, advance, now: () => now, pending: () => due.size, waits: () => [...due.values()].map((timer) => timer.at - now) };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A task whose runs end when the test says. */
function controlledTask() {
  const finishers: Array<(error?: Error) => void> = [];
  let started = 0;
  const task = () =>
    new Promise<void>((resolve, reject) => {
      started += 1;
      finishers.push((error) => (error ? reject(error) : resolve()));
    });
  return { task, started: () => started, finish: async (error?: Error) => (finishers.shift()!(error), await settle()) };
}

test('the backoff waits 1 s, then doubles up to 30 s, and starts again after a success', () => {
  const backoff = new Backoff();
  assert.equal(Array.from({ length: 8 }, () => backoff.next()), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  backoff.reset();
  assert.is(backoff.next(), 1000);
});

test('a burst of calls runs the debounced function once, after the last call', async () => {
  const clock = fakeClock();
  let runs = 0;
  const settled = debounced(() => (runs += 1), 150, clock.timers);
  for (let i = 0; i < 10; i++) {
    settled();
    await clock.advance(50);
  }
  assert.is(runs, 0, 'nothing while keys keep coming');
  await clock.advance(100);
  assert.is(runs, 1);
  await clock.advance(1000);
  assert.is(runs, 1);
  settled();
  settled.cancel();
  await clock.advance(1000);
  assert.is(runs, 1, 'a cancelled call never runs');
});

test('asks made while a request is in flight cost one more request, not one each', async () => {
  const { task, started, finish } = controlledTask();
  const load = singleFlight(task);
  const first = load();
  const asked = [load(), load(), load(), load()];
  assert.is(started(), 1, 'one in flight');
  await finish();
  await first;
  assert.is(started(), 2, 'the asks made meanwhile share one further run');
  let answered = 0;
  for (const ask of asked) void ask.then(() => (answered += 1));
  await settle();
  assert.is(answered, 0, 'they are answered by the run that started after them');
  await finish();
  assert.is(answered, 4);
  assert.is(started(), 2);
  void load();
  assert.is(started(), 3, 'idle again: the next ask starts at once');
  await finish();
});

test('a failed run still lets the queued ask run, and its callers see the failure', async () => {
  const { task, started, finish } = controlledTask();
  const load = singleFlight(task);
  const first = load().catch((error: Error) => error.message);
  const second = load();
  await finish(new Error('unreachable'));
  assert.is(await first, 'unreachable');
  assert.is(started(), 2);
  await finish();
  await second;
});

test('while the daemon is unreachable, retries wait longer each time and stop at a success', async () => {
  const clock = fakeClock();
  let attempts = 0;
  let reachable = false;
  const errors: string[] = [];
  const load = retrying(
    async () => {
      attempts += 1;
      if (!reachable) throw new Error('unreachable');
    },
    { retryable: () => true, onError: (error) => errors.push((error as Error).message), timers: clock.timers },
  );
  await load();
  assert.is(attempts, 1);
  assert.equal(clock.waits(), [1000]);
  await clock.advance(10_000);
  assert.is(attempts, 4, 'at 1, 3 and 7 s: each wait twice the last');
  assert.equal(clock.waits(), [5000], 'the fourth retry is due at 15 s');
  reachable = true;
  await clock.advance(60_000);
  assert.is(attempts, 5);
  assert.is(clock.pending(), 0, 'a success ends the retries');
  assert.is(errors.length, 4);
  reachable = false;
  await load();
  assert.equal(clock.waits(), [1000], 'the success reset the backoff');
  load.stop();
  await clock.advance(60_000);
  assert.is(attempts, 6, 'stopped: no more retries');
});

test('an ask made while a retry waits runs at once and replaces that retry', async () => {
  const clock = fakeClock();
  let attempts = 0;
  const load = retrying(
    async () => {
      attempts += 1;
      throw new Error('server error');
    },
    { retryable: () => true, onError: () => undefined, timers: clock.timers },
  );
  await load();
  await load();
  assert.is(attempts, 2);
  assert.is(clock.pending(), 1, 'one retry waiting, not two');
  assert.equal(clock.waits(), [2000], 'and it waits longer');
});

test('an error no retry can mend (a lost session) is not retried', async () => {
  const clock = fakeClock();
  let attempts = 0;
  const load = retrying(
    async () => {
      attempts += 1;
      throw new Error('unauthorized');
    },
    { retryable: () => false, onError: () => undefined, timers: clock.timers },
  );
  await load();
  await clock.advance(60_000);
  assert.is(attempts, 1);
});

test('a throttled function runs at once, then at most once per interval however many calls come', async () => {
  const clock = fakeClock();
  let runs = 0;
  const call = throttled(() => (runs += 1), 3000, clock.timers, clock.now);
  call();
  assert.is(runs, 1, 'the first call runs at once');
  // A job_progress-like burst: ten calls a second for five seconds.
  for (let i = 0; i < 50; i++) {
    call();
    await clock.advance(100);
  }
  assert.is(runs, 2, 'one more run in the five seconds (at 3 s)');
  await clock.advance(3000);
  assert.is(runs, 3, 'the last call of the burst is not lost');
  assert.is(clock.pending(), 0);
  await clock.advance(10_000);
  assert.is(runs, 3, 'nothing runs by itself once the calls stop');
  call();
  assert.is(runs, 4, 'a call after a quiet interval runs at once');
});

test('a throttled call waiting for its turn can be cancelled', async () => {
  const clock = fakeClock();
  let runs = 0;
  const call = throttled(() => (runs += 1), 1000, clock.timers, clock.now);
  call();
  call();
  call.cancel();
  await clock.advance(5000);
  assert.is(runs, 1);
});

test.run();
