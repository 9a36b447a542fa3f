import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeScheduleInput, type StoredSchedule } from '../../../src/domain/schedules.ts';
import { Scheduler } from '../../../src/schedules/index.ts';

function schedule(id: number, rule: Parameters<typeof normalizeScheduleInput>[0]): StoredSchedule {
  return { ...normalizeScheduleInput(rule), id, job_id: id, created_at: '2026-01-01T00:00:00Z' };
}

/** A clock that starts at `start` and moves with real time plus any jump the test makes. */
function movableClock(start: string) {
  let offset = new Date(start).getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset), jump: (ms: number) => (offset += ms) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('fires a schedule when its time comes, once', async () => {
  const clock = movableClock('2026-01-05T01:59:59.700Z');
  const fired: number[] = [];
  const scheduler = new Scheduler({ schedules: () => [schedule(1, { schedule_type: 'daily', hour: 2, minute: 0 })], timezone: () => 'UTC', fire: (s) => fired.push(s.id), now: clock.now });
  scheduler.start();
  await sleep(600);
  scheduler.stop();
  assert.equal(fired, [1]);
});

test('runs missed while the daemon was down are not replayed at start', async () => {
  const clock = movableClock('2026-01-05T12:00:00Z');
  const fired: number[] = [];
  const scheduler = new Scheduler({ schedules: () => [schedule(1, { schedule_type: 'daily', hour: 2, minute: 0 })], timezone: () => 'UTC', fire: (s) => fired.push(s.id), now: clock.now });
  scheduler.start();
  await sleep(100);
  scheduler.stop();
  assert.equal(fired, []);
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
});

test('a clock jump over many due times fires each schedule once, then plans from the new now', async () => {
  const clock = movableClock('2026-01-05T12:00:00Z');
  const fired: number[] = [];
  const scheduler = new Scheduler({ schedules: () => [schedule(1, { schedule_type: 'custom', cron_expression: '*/5 * * * *' })], timezone: () => 'UTC', fire: (s) => fired.push(s.id), now: clock.now });
  scheduler.start();
  clock.jump(3 * 3600_000);
  scheduler.refresh();
  // The timer planned before the jump wakes within a minute at the latest; force the wake-up instead.
  (scheduler as unknown as { tick(): void }).tick();
  await sleep(50);
  scheduler.stop();
  assert.equal(fired, [1]);
  assert.ok(scheduler.dueOf(1)!.getTime() > clock.now().getTime());
});

test('refresh picks up new, changed, disabled and deleted schedules and time zone changes', () => {
  const clock = movableClock('2026-01-05T12:00:00Z');
  let list = [schedule(1, { schedule_type: 'daily', hour: 2, minute: 0 })];
  let timezone = 'UTC';
  const scheduler = new Scheduler({ schedules: () => list, timezone: () => timezone, fire: () => undefined, now: clock.now });
  scheduler.start();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  timezone = 'Europe/Berlin';
  scheduler.refresh();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T01:00:00.000Z');
  list = [schedule(1, { schedule_type: 'daily', hour: 3, minute: 0 }), schedule(2, { schedule_type: 'daily', hour: 4, minute: 0, enabled: false })];
  scheduler.refresh();
  assert.is(scheduler.dueOf(1)?.toISOString(), '2026-01-06T02:00:00.000Z');
  assert.is(scheduler.dueOf(2), undefined, 'a disabled schedule is never planned');
  list = [];
  scheduler.refresh();
  assert.is(scheduler.dueOf(1), undefined);
  scheduler.stop();
});

test('a stopped scheduler fires nothing', async () => {
  const clock = movableClock('2026-01-05T01:59:59.800Z');
  const fired: number[] = [];
  const scheduler = new Scheduler({ schedules: () => [schedule(1, { schedule_type: 'daily', hour: 2, minute: 0 })], timezone: () => 'UTC', fire: (s) => fired.push(s.id), now: clock.now });
  scheduler.start();
  scheduler.stop();
  await sleep(400);
  assert.equal(fired, []);
});

test.run();
