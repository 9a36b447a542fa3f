/** The audit log file: appended, bounded, and read back after a crash tore its last line. */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuditLog, AUDIT_FILE, type NewAuditEntry } from '../../../src/audit/index.ts';
import { tempDir } from '../../helpers.ts';

const entry = (action: string): NewAuditEntry => ({
  action,
  outcome: 'success',
  status: 200,
  actor: 'admin',
  actor_type: 'session',
  address: '127.0.0.1',
  method: 'PUT',
  path: '/api/settings',
  target_id: null,
});

const failOnError = (error: unknown) => {
  throw error;
};

test('entries are on disk, readable only by the owner, and read back in order', async () => {
  const file = path.join(tempDir(), AUDIT_FILE);
  const log = await AuditLog.open(file, () => 100, failOnError);
  await log.record(entry('one'));
  await log.record(entry('two'));
  assert.is(statSync(file).mode & 0o777, 0o600);
  const reopened = await AuditLog.open(file, () => 100, failOnError);
  assert.equal(reopened.query({ limit: 10, offset: 0 }).entries.map((e) => [e.id, e.action]), [[2, 'two'], [1, 'one']]);
});

test('a line torn by a crash is skipped and the entries around it survive', async () => {
  const file = path.join(tempDir(), AUDIT_FILE);
  const log = await AuditLog.open(file, () => 100, failOnError);
  await log.record(entry('before'));
  appendFileSync(file, '{"id":2,"at":"2026-');
  const reopened = await AuditLog.open(file, () => 100, failOnError);
  await reopened.record(entry('after'));
  const actions = (await AuditLog.open(file, () => 100, failOnError)).query({ limit: 10, offset: 0 }).entries.map((e) => e.action);
  assert.equal(actions, ['after', 'before']);
});

test('the file never holds much more than the limit, and keeps the newest', async () => {
  const file = path.join(tempDir(), AUDIT_FILE);
  const log = await AuditLog.open(file, () => 100, failOnError);
  for (let i = 0; i < 350; i++) void log.record(entry(`action ${i}`));
  await log.flush();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.ok(lines.length <= 110, `${lines.length} lines`);
  assert.is(new Set(lines).size, lines.length, 'no line twice');
  const reopened = await AuditLog.open(file, () => 100, failOnError);
  const { entries, total } = reopened.query({ limit: 1000, offset: 0 });
  assert.is(total, 100);
  assert.is(entries[0].action, 'action 349');
  assert.is(entries[99].action, 'action 250');
});

test.run();
