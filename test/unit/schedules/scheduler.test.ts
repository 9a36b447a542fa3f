import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeScheduleInput, type ScheduleRecord } from '../../../src/domain/schedules.ts';
import { Scheduler, type SchedulerOptions } from '../../../src/schedules/index.ts';
import { waitFor } from '../../trees.ts';

function schedule(id: number, rule: Parameters<typeof normalizeScheduleInput>[0]): ScheduleRecord {
  return { ...normalizeScheduleInput(rule), id, job_id: id, created_at: '2026-01-01T00:00:00.000Z' };
}
const dailyAtTwo = (id = 1, enabled = true) => schedule(id, { schedule_type: 'daily', hour: 2, minute: 0, enabled });

/**
 * A clock that reads `start` at its first reading and moves with real time from then, plus any jump
 * a test makes. Pinned at the first reading (the scheduler's first look), not at creation, so a slow
 * machine cannot carry the clock past a due time before the scheduler has planned it.
 */
function movableClock(start: string) {
  let offset: number | undefined;
  const now = () => {
    offset ??= new Date(start).getTime() - Date.now();
    return new Date(Date.now() + offset);
  };
  return {
    now,
    jump: (ms: number) => {
      now();
      offset! += ms;
    },
  };
}

/** A scheduler on a movable clock that records each fire with the clock's reading at that moment. */
function harness(start: string, list: () => readonly ScheduleRecord[], extra: Partial<SchedulerOptions> = {}) {
  const clock = movableClock(start);
  const fired: Array<{ id: number; at: string }> = [];
  const logs: string[] = [];
  const scheduler = new Scheduler({
    schedules: list,
    timezone: () => 'UTC',
    fire: (s) => fired.push({ id: s.id, at: clock.now().toISOString() }),
    now: clock.now,
    log: (message) => logs.push(message),
    ...extra,
  });
  return { clock, fired, logs, scheduler };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('fires a schedule when its time comes, once, and plans the next day', async () => {
  const { fired, scheduler } = harness('2026-01-05T01:59:59.900Z', () => [dailyAtTwo()]);
  scheduler.start();
  await waitFor('the fire', () => fired.length > 0);
  await sleep(100);
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  scheduler.stop();
  assert.equal(fired.map((f) => f.id), [1]);
  assert.ok(fired[0].at >= '2026-01-05T02:00:00.000Z', `fired at ${fired[0].at}`);
});

test('never fires early, even when the timer wakes before the clock reaches the due time', async () => {
  const { clock, fired, scheduler } = harness('2026-01-05T01:59:59.800Z', () => [dailyAtTwo()]);
  scheduler.start();
  // The timer is set for 200 ms from now; the clock now lags 600 ms, so it wakes 600 ms early.
  clock.jump(-600);
  await sleep(400);
  assert.equal(fired, [], 'not at the early wake-up');
  await waitFor('the fire once the clock reached the due time', () => fired.length > 0);
  scheduler.stop();
  assert.equal(fired.map((f) => f.id), [1]);
  assert.ok(fired[0].at >= '2026-01-05T02:00:00.000Z', `fired at ${fired[0].at}`);
});

test('runs missed while the daemon was down are not replayed at start', async () => {
  const { fired, scheduler } = harness('2026-01-05T12:00:00Z', () => [dailyAtTwo()]);
  scheduler.start();
  await sleep(20);
  assert.equal(fired, []);
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  scheduler.stop();
});

test('a clock jump over many due times fires each schedule once, then plans from the new time', async () => {
  const everyFiveMinutes = schedule(1, { schedule_type: 'custom', cron_expression: '*/5 * * * *' });
  const { clock, fired, scheduler } = harness('2026-01-05T01:59:59.950Z', () => [everyFiveMinutes, dailyAtTwo(2)]);
  scheduler.start();
  // As after a suspend: three hours pass on the wall clock before the 50 ms timer wakes. (And a
  // minute: a wake-up just before 05:00 would rightly fire the every-five-minutes one again at 05:00.)
  clock.jump(3 * 3600_000 + 60_000);
  await waitFor('both fires', () => fired.length >= 2);
  await sleep(100);
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-05T05:05:00.000Z');
  assert.is(scheduler.dueOf(2)?.toISOString(), '2026-01-06T02:00:00.000Z');
  scheduler.stop();
  assert.equal(fired.map((f) => f.id).sort(), [1, 2]);
});

test('a clock set back over a due time that has fired does not fire it again', async () => {
  const { clock, fired, logs, scheduler } = harness('2026-01-05T01:59:59.950Z', () => [dailyAtTwo()]);
  scheduler.start();
  await waitFor('the fire', () => fired.length > 0);
  // NTP steps the clock back: 02:00:00 comes round again 150 ms from now.
  clock.jump(Date.parse('2026-01-05T02:00:00.000Z') - clock.now().getTime() - 150);
  scheduler.refresh();
  await sleep(350);
  assert.is(fired.length, 1);
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  assert.ok(logs.some((line) => line.includes('clock went back')));
  scheduler.stop();
});

test('a clock set back by far (a wrong clock corrected) plans from the new time instead of waiting', () => {
  const { clock, scheduler } = harness('2030-06-01T12:00:00Z', () => [dailyAtTwo()]);
  scheduler.start();
  clock.jump(-4 * 365 * 86_400_000);
  scheduler.refresh();
  assert.is(scheduler.dueOf(1)?.toISOString().slice(0, 4), '2026');
  scheduler.stop();
});

test('refresh picks up new, changed, disabled and deleted schedules and a time zone change', () => {
  let list = [dailyAtTwo()];
  let timezone = 'UTC';
  const { scheduler } = harness('2026-01-05T12:00:00Z', () => list, { timezone: () => timezone });
  scheduler.start();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  timezone = 'Europe/Berlin';
  scheduler.refresh();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T01:00:00.000Z');
  list = [schedule(1, { schedule_type: 'daily', hour: 3, minute: 0 }), schedule(2, { schedule_type: 'weekly', hour: 4, minute: 0, day_of_week: 0 })];
  scheduler.refresh();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z', 'changed');
  assert.is(scheduler.dueOf(2)?.toISOString(), '2026-01-11T03:00:00.000Z', 'new');
  list = [dailyAtTwo(1, false)];
  scheduler.refresh();
  assert.is(scheduler.dueOf(1), undefined, 'disabled');
  assert.is(scheduler.dueOf(2), undefined, 'deleted');
  scheduler.stop();
});

test('a schedule added while running fires at its time', async () => {
  let list: ScheduleRecord[] = [];
  const { fired, scheduler } = harness('2026-01-05T01:59:59.900Z', () => list);
  scheduler.start();
  list = [dailyAtTwo()];
  scheduler.refresh();
  await waitFor('the fire', () => fired.length > 0);
  scheduler.stop();
  assert.equal(fired.map((f) => f.id), [1]);
});

test('a disabled schedule never fires', async () => {
  const { fired, scheduler } = harness('2026-01-05T01:59:59.900Z', () => [dailyAtTwo(1, false)]);
  scheduler.start();
  await sleep(200);
  scheduler.stop();
  assert.equal(fired, []);
  assert.is(scheduler.dueOf(1), undefined);
});

test('a stopped scheduler fires nothing', async () => {
  const { fired, scheduler } = harness('2026-01-05T01:59:59.900Z', () => [dailyAtTwo()]);
  scheduler.start();
  scheduler.stop();
  await sleep(200);
  assert.equal(fired, []);
});

test('a due time months away is planned without overflowing setTimeout', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const yearly = schedule(1, { schedule_type: 'custom', cron_expression: '0 2 1 1 *' });
  const { scheduler } = harness('2026-01-05T12:00:00Z', () => [yearly]);
  scheduler.start();
  await sleep(20);
  scheduler.stop();
  process.off('warning', onWarning);
  assert.equal(warnings, []);
});

test('a failing fire callback is logged and does not stop other schedules', async () => {
  const fired: number[] = [];
  const { logs, scheduler } = harness('2026-01-05T01:59:59.900Z', () => [dailyAtTwo(1), dailyAtTwo(2)], {
    fire: (s) => {
      if (s.id === 1) throw new Error('boom');
      fired.push(s.id);
    },
  });
  scheduler.start();
  await waitFor('the fire and the log line', () => fired.length > 0 && logs.length > 0);
  scheduler.stop();
  assert.equal(fired, [2]);
  assert.ok(logs.some((line) => line.includes('boom')));
});

test.run();
