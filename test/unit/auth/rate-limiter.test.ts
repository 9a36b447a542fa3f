import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOGIN_RATE_LIMIT, RateLimiter } from '../../../src/auth/rate-limiter.ts';

function limiterWithClock() {
  const clock = { now: 1_000_000 };
  return { clock, limiter: new RateLimiter(LOGIN_RATE_LIMIT, () => clock.now) };
}

function failTimes(limiter: RateLimiter, times: number): number {
  let lockout = 0;
  for (let i = 0; i < times; i++) lockout = limiter.recordFailure('client');
  return lockout;
}

test('four failures in a minute do not lock; the fifth locks for 60 s', () => {
  const { limiter } = limiterWithClock();
  assert.is(failTimes(limiter, 4), 0);
  assert.is(limiter.retryAfterSeconds('client'), 0);
  assert.is(failTimes(limiter, 1), 60);
  assert.is(limiter.retryAfterSeconds('client'), 60);
});

test('failures spread over more than a minute never lock', () => {
  const { limiter, clock } = limiterWithClock();
  for (let i = 0; i < 20; i++) {
    assert.is(limiter.recordFailure('client'), 0);
    clock.now += 16_000;
  }
});

test('each further lockout doubles, up to one hour', () => {
  const { limiter, clock } = limiterWithClock();
  const lockouts: number[] = [];
  for (let round = 0; round < 9; round++) {
    lockouts.push(failTimes(limiter, 5));
    clock.now += lockouts.at(-1)! * 1000;
    assert.is(limiter.retryAfterSeconds('client'), 0, 'the lockout ends on time');
  }
  assert.equal(lockouts, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
});

test('the wait counts down while locked', () => {
  const { limiter, clock } = limiterWithClock();
  failTimes(limiter, 5);
  clock.now += 45_500;
  assert.is(limiter.retryAfterSeconds('client'), 15);
});

test('a success clears failures and the doubling', () => {
  const { limiter, clock } = limiterWithClock();
  failTimes(limiter, 5);
  clock.now += 60_000;
  failTimes(limiter, 4);
  limiter.recordSuccess('client');
  assert.is(failTimes(limiter, 4), 0, 'the count started again');
  assert.is(failTimes(limiter, 1), 60, 'and so did the doubling');
});

test('clients are counted apart', () => {
  const { limiter } = limiterWithClock();
  failTimes(limiter, 5);
  assert.is(limiter.retryAfterSeconds('someone-else'), 0);
});

test.run();
