import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultNotifyRules, type AlertState, type NotifyRules } from '../../../src/domain/notifications.ts';
import { afterBackup, afterVerify, checkOverdue, checkSpace, REPEAT_MS, runKindOf } from '../../../src/notifications/alert-rules.ts';
import { composeAlert, durationWords, localTime } from '../../../src/notifications/messages.ts';

const rules = suite('alert rules');

const fresh = (): AlertState => ({
  job_id: 1,
  failing: false,
  last_success_at: null,
  failure_alerted_at: null,
  overdue_alerted_at: null,
  space_alerted_at: null,
  damage_alerted_at: null,
});
const RULES: NotifyRules = { ...defaultNotifyRules(), channel_ids: [1], overdue_hours: 24 };
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;

rules('a verify run that finds damage alerts once, again a day later while unresolved, and a clean verify clears it', () => {
  let state = fresh();
  const events: string[] = [];
  const step = (status: 'completed' | 'failed', when: Date) => {
    const outcome = afterVerify(state, status, RULES, when);
    state = outcome.state;
    events.push(...outcome.alerts.map((alert) => alert.event));
  };
  step('failed', at(0));
  step('failed', at(HOUR));
  step('failed', at(REPEAT_MS - 1));
  assert.equal(events, ['verify_damage']);
  step('failed', at(REPEAT_MS));
  assert.equal(events, ['verify_damage', 'verify_damage']);
  step('completed', at(REPEAT_MS + HOUR));
  step('failed', at(REPEAT_MS + 2 * HOUR));
  assert.equal(events, ['verify_damage', 'verify_damage', 'verify_damage'], 'damage found again after a clean verify is news');
});

rules('run kinds: restore and prune runs say nothing about backups; verify runs are about damage', () => {
  assert.equal(['manual', 'scheduled', 'device', 'restore', 'prune', 'verify'].map(runKindOf), ['backup', 'backup', 'backup', 'other', 'other', 'verify']);
});

rules('switched-off rules send nothing but still remember the state, so switching on later does not replay old news', () => {
  const off: NotifyRules = { ...RULES, on_failure: false, on_recovery: false };
  const failed = afterBackup(fresh(), 'failed', off, at(0));
  assert.equal(failed.alerts, []);
  assert.is(failed.state.failing, true);
  const again = afterBackup(failed.state, 'failed', RULES, at(HOUR));
  assert.equal(again.alerts, [], 'still the same failure, announced-time kept');
  const recovered = afterBackup(failed.state, 'completed', off, at(HOUR));
  assert.equal(recovered.alerts, []);
  assert.is(recovered.state.failing, false);
});

rules('an overdue job that succeeds again is a recovery; overdue counts from the last success', () => {
  const overdue = checkOverdue(fresh(), T0, RULES, at(25 * HOUR));
  assert.equal(overdue.alerts.map((alert) => alert.event), ['overdue']);
  assert.is(checkOverdue(fresh(), T0, RULES, at(23 * HOUR)).alerts.length, 0);
  assert.is(checkOverdue(fresh(), T0, { ...RULES, overdue_hours: null }, at(1000 * HOUR)).alerts.length, 0, 'null switches it off');
  const back = afterBackup(overdue.state, 'completed', RULES, at(26 * HOUR));
  assert.equal(back.alerts.map((alert) => alert.event), ['recovery']);
  assert.is(back.state.overdue_alerted_at, null);
});

rules('space: at or above the threshold alerts once a day; below it clears', () => {
  const first = checkSpace(fresh(), 95, RULES, at(0));
  assert.equal(first.alerts.map((alert) => alert.event), ['space_low']);
  assert.is(checkSpace(first.state, 96, RULES, at(HOUR)).alerts.length, 0);
  const cleared = checkSpace(first.state, 50, RULES, at(2 * HOUR));
  assert.is(cleared.state.space_alerted_at, null);
  assert.is(checkSpace(cleared.state, 91, RULES, at(3 * HOUR)).alerts.length, 1);
  assert.is(checkSpace(fresh(), 89, RULES, at(0)).alerts.length, 0);
});

rules('messages carry the job, what happened, the error, the time in the settings zone and the box', () => {
  assert.is(localTime(new Date('2026-07-01T12:00:00Z'), 'Europe/Berlin'), '2026-07-01 14:00:00 CEST');
  assert.is(localTime(new Date('2026-12-01T00:30:00Z'), 'America/New_York'), '2026-11-30 19:30:00 GMT-5');
  assert.equal([1, 47, 48, 24 * 14 + 5].map(durationWords), ['1 hour', '47 hours', '2 days', '14 days']);
  const message = composeAlert({ event: 'failure', job: { id: 3, name: 'Photos' }, error: 'rsync: disk full', at: new Date('2026-07-01T12:00:00Z'), timezone: 'Europe/Berlin', box: 'pi-attic' });
  assert.is(message.title, 'Backup "Photos" failed');
  assert.is(message.text, 'The backup job "Photos" failed on pi-attic.\nError: rsync: disk full\n\nTime: 2026-07-01 14:00:00 CEST\nBox: pi-attic');
  const plain = composeAlert({ event: 'overdue', job: { id: 3, name: 'Cloud' }, error: null, at: T0, timezone: 'UTC', box: 'b', overdueHours: 30, drive: null });
  assert.is(plain.title, 'Backup "Cloud" is overdue');
});

rules.run();
