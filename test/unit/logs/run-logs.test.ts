import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_MESSAGE_CHARS, RunLogs } from '../../../src/logs/index.ts';
import { tempDir } from '../../helpers.ts';

const levels = ['info', 'info', 'warning', 'info', 'error'] as const;

async function writeLog(logs: RunLogs, runId: number, count: number): Promise<void> {
  const writer = await logs.open(runId);
  for (let i = 1; i <= count; i++) writer.append(levels[i % levels.length], `line ${i}`);
  await writer.close();
}

test('entries come back in order with ids 1..n and the contract fields', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 7, 10);
  const { entries, total } = await logs.read(7, { offset: 0, limit: 1000 });
  assert.is(total, 10);
  assert.equal(entries.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(entries.map((e) => e.message), Array.from({ length: 10 }, (_, i) => `line ${i + 1}`));
  assert.equal(Object.keys(entries[0]).sort(), ['id', 'level', 'message', 'run_id', 'timestamp']);
  assert.is(entries[0].run_id, 7);
});

test('offset and limit page through the log', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 25);
  const page = await logs.read(1, { offset: 10, limit: 5 });
  assert.equal(page.entries.map((e) => e.id), [11, 12, 13, 14, 15]);
  assert.equal((await logs.read(1, { offset: 23, limit: 5 })).entries.map((e) => e.id), [24, 25]);
  assert.equal((await logs.read(1, { offset: 30, limit: 5 })).entries, []);
});

test('a level filter pages through that level only, with its own total', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 50);
  const warnings = await logs.read(1, { offset: 0, limit: 1000, level: 'warning' });
  assert.is(warnings.total, 10);
  assert.ok(warnings.entries.every((e) => e.level === 'warning'));
  const page = await logs.read(1, { offset: 2, limit: 3, level: 'warning' });
  assert.equal(page.entries.map((e) => e.id), warnings.entries.slice(2, 5).map((e) => e.id));
  assert.is((await logs.read(1, { offset: 0, limit: 1, level: 'error' })).total, 10);
});

test('tail gives the last entries in order', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 30);
  assert.equal((await logs.tail(1, 3)).map((e) => e.id), [28, 29, 30]);
  assert.equal((await logs.tail(1, 100)).length, 30);
  assert.equal(await logs.tail(99, 3), []);
});

test('reading while the writer still buffers returns everything appended', async () => {
  const logs = new RunLogs(tempDir());
  const writer = await logs.open(1);
  for (let i = 0; i < 100; i++) writer.append('info', `buffered ${i}`);
  assert.is((await logs.read(1, { offset: 0, limit: 1000 })).total, 100);
  await writer.close();
});

test('reopening a log continues its numbering', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 3);
  const writer = await logs.open(1);
  assert.is(writer.append('error', 'after restart').id, 4);
  await writer.close();
  assert.equal((await logs.read(1, { offset: 0, limit: 10 })).entries.map((e) => e.message).at(-1), 'after restart');
});

test('unicode survives; newlines and control characters are flattened; huge messages are cut', async () => {
  const logs = new RunLogs(tempDir());
  const writer = await logs.open(1);
  writer.append('info', 'photos/日本/résumé 😀.jpg');
  writer.append('info', 'two\nlines\rand\u0007bell\ttab');
  writer.append('info', 'x'.repeat(MAX_MESSAGE_CHARS * 2));
  await writer.close();
  const [unicode, flattened, huge] = (await logs.read(1, { offset: 0, limit: 10 })).entries;
  assert.is(unicode.message, 'photos/日本/résumé 😀.jpg');
  assert.is(flattened.message, 'two lines and\uFFFDbell\ttab');
  assert.ok(huge.message.length < MAX_MESSAGE_CHARS + 20);
  assert.match(huge.message, /\[truncated\]$/);
});

test('remove deletes every file of the run, and a missing run reads as empty', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 5);
  await logs.remove(1);
  assert.not.ok(existsSync(path.join(dir, '1.jsonl')));
  assert.not.ok(existsSync(path.join(dir, '1.all.idx')));
  assert.equal(await logs.read(1, { offset: 0, limit: 10 }), { entries: [], total: 0 });
  await logs.remove(1);
});

test('a log cut short by a crash reads without error and is repaired before appending', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 10);
  const data = path.join(dir, '1.jsonl');
  truncateSync(data, statSync(data).size - 15); // the last line is now half there
  appendFileSync(path.join(dir, '1.all.idx'), Buffer.from([1, 2, 3])); // and a torn index record

  const read = await logs.read(1, { offset: 0, limit: 100 });
  assert.is(read.total, 9);
  assert.equal(read.entries.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const writer = await logs.open(1);
  assert.is(writer.append('info', 'resumed').id, 10);
  await writer.close();
  const after = await logs.read(1, { offset: 0, limit: 100 });
  assert.equal(after.entries.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.is(after.entries[9].message, 'resumed');
  assert.ok(readFileSync(data, 'utf8').endsWith('"resumed"}\n'), 'no half line left in the middle');
  const errors = await logs.read(1, { offset: 0, limit: 100, level: 'error' });
  assert.ok(errors.entries.every((e) => e.level === 'error' && e.id <= 10));
});

test('100,000 lines: the last page is read without scanning the file', async () => {
  const logs = new RunLogs(tempDir());
  const writer = await logs.open(1);
  for (let i = 1; i <= 100_000; i++) writer.append(i % 1000 === 0 ? 'warning' : 'info', `photos/2024/album-${i % 97}/IMG_${i}.jpg`);
  await writer.close();
  const last = await logs.read(1, { offset: 99_000, limit: 1000 });
  assert.is(last.entries.length, 1000);
  assert.is(last.entries[999].id, 100_000);
  const warnings = await logs.read(1, { offset: 90, limit: 1000, level: 'warning' });
  assert.equal(warnings.entries.map((e) => e.id), Array.from({ length: 10 }, (_, i) => (91 + i) * 1000));
});

test.run();
