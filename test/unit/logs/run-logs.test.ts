import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOG_LEVELS, type LogLevel } from '../../../src/domain/runs.ts';
import { MAX_MESSAGE_CHARS, RunLogs } from '../../../src/logs/index.ts';
import { tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

/** Line i (1-based) of a test log: every 5th a warning, every 7th an error, the rest info. */
function levelOf(i: number): LogLevel {
  if (i % 7 === 0) return 'error';
  return i % 5 === 0 ? 'warning' : 'info';
}

async function writeLog(logs: RunLogs, runId: number, count: number): Promise<void> {
  const writer = logs.open(runId);
  for (let i = 1; i <= count; i++) writer.append(levelOf(i), `line ${i}`);
  await writer.close();
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ids = (entries: Array<{ id: number }>) => entries.map((entry) => entry.id);

/** What any reader may rely on, however the log was treated: ids 1..total in order, levels that add up. */
async function assertConsistent(logs: RunLogs, runId: number): Promise<number> {
  const all = await logs.read(runId, { offset: 0, limit: 1_000_000 });
  assert.equal(ids(all.entries), range(1, all.total), 'ids are 1..total, in order, none missing');
  let sum = 0;
  for (const level of LOG_LEVELS) {
    const page = await logs.read(runId, { offset: 0, limit: 1_000_000, level });
    assert.equal(page.entries, all.entries.filter((entry) => entry.level === level), `the ${level} entries are those of the whole log`);
    sum += page.total;
  }
  assert.is(sum, all.total, 'the level totals add up to the total');
  return all.total;
}

const files = (dir: string, runId: number) => ({
  data: path.join(dir, `${runId}.jsonl`),
  all: path.join(dir, `${runId}.all.idx`),
  level: (level: LogLevel) => path.join(dir, `${runId}.${level}.idx`),
});

test('entries come back in order with ids 1..n and the contract fields', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(7);
  const appended = range(1, 10).map((i) => writer.append(levelOf(i), `line ${i}`));
  await writer.close();
  const { entries, total } = await logs.read(7, { offset: 0, limit: 1000 });
  assert.is(total, 10);
  assert.equal(entries, appended, 'what append returned is what is stored');
  assert.equal(ids(entries), range(1, 10));
  assert.equal(entries.map((e) => e.message), range(1, 10).map((i) => `line ${i}`));
  assert.equal(Object.keys(entries[0]).sort(), ['id', 'level', 'message', 'run_id', 'timestamp']);
  assert.is(entries[0].run_id, 7);
  assert.is(new Date(entries[0].timestamp).toISOString(), entries[0].timestamp, 'an ISO UTC timestamp');
});

test('offset and limit page through the log, and the total is the whole log', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 25);
  assert.equal(await logs.read(1, { offset: 10, limit: 5 }).then((page) => [ids(page.entries), page.total]), [[11, 12, 13, 14, 15], 25]);
  assert.equal(ids((await logs.read(1, { offset: 23, limit: 5 })).entries), [24, 25], 'the last page is short');
  assert.equal(await logs.read(1, { offset: 30, limit: 5 }), { entries: [], total: 25 }, 'past the end is empty');
  assert.equal(await logs.read(1, { offset: 0, limit: 0 }), { entries: [], total: 25 }, 'a limit of 0 only counts');
});

test('a level filter pages through that level only, with its own total', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 100);
  const expectedWarnings = range(1, 100).filter((i) => levelOf(i) === 'warning');
  const warnings = await logs.read(1, { offset: 0, limit: 1000, level: 'warning' });
  assert.is(warnings.total, expectedWarnings.length);
  assert.equal(ids(warnings.entries), expectedWarnings);
  const page = await logs.read(1, { offset: 2, limit: 3, level: 'warning' });
  assert.equal(ids(page.entries), expectedWarnings.slice(2, 5), 'offset and limit count warnings only');
  assert.is(page.total, expectedWarnings.length);
  assert.is((await logs.read(1, { offset: 0, limit: 1, level: 'error' })).total, 14);
  assert.equal(await logs.read(2, { offset: 0, limit: 10, level: 'error' }), { entries: [], total: 0 });
  await assertConsistent(logs, 1);
});

test('a level no entry has reads as empty', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  writer.append('info', 'all is well');
  await writer.close();
  assert.equal(await logs.read(1, { offset: 0, limit: 10, level: 'error' }), { entries: [], total: 0 });
});

test('tail gives the last entries in order', async () => {
  const logs = new RunLogs(tempDir());
  await writeLog(logs, 1, 30);
  assert.equal(ids(await logs.tail(1, 3)), [28, 29, 30]);
  assert.equal(ids(await logs.tail(1, 100)), range(1, 30), 'asking for more than there is gives all');
  assert.equal(await logs.tail(1, 0), []);
  assert.equal(await logs.tail(99, 3), [], 'a run without a log has no tail');
});

test('reading while the writer still buffers returns everything appended', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  for (let i = 1; i <= 100; i++) writer.append(levelOf(i), `buffered ${i}`);
  assert.equal(ids((await logs.read(1, { offset: 0, limit: 1000 })).entries), range(1, 100));
  assert.is((await logs.read(1, { offset: 0, limit: 1000, level: 'error' })).total, 14);
  writer.append('info', 'one more');
  assert.equal(ids(await logs.tail(1, 1)), [101], 'tail too');
  await writer.close();
});

test('appended lines reach the disk on their own, without a flush or close', async () => {
  const dir = tempDir();
  const writer = new RunLogs(dir).open(1);
  writer.append('info', 'on its way');
  // Data first, then its index: a reader that knows nothing of the writer sees the line once both are written.
  const elsewhere = await waitFor('a fresh reader to see the line', async () => {
    const read = await new RunLogs(dir).read(1, { offset: 0, limit: 10 });
    return read.total > 0 ? read : null;
  }, 5000);
  assert.equal(elsewhere.entries.map((entry) => entry.message), ['on its way']);
  assert.match(readFileSync(files(dir, 1).data, 'utf8'), /"on its way"/);
  await writer.close();
});

test('a log is created in a private folder with private files', async () => {
  const dir = path.join(tempDir(), 'logs');
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 10);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  for (const file of [files(dir, 1).data, files(dir, 1).all, files(dir, 1).level('error')]) {
    assert.is(statSync(file).mode & 0o777, 0o600, file);
  }
});

test('opening a run that is open gives the same writer', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  assert.is(logs.open(1), writer);
  writer.append('info', 'one');
  assert.is(logs.open(1).append('info', 'two')!.id, 2);
  await logs.close();
});

test('reopening a log, also after a restart, continues its numbering', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 3);
  const writer = logs.open(1);
  assert.is(writer.append('error', 'after reopening')!.id, 4);
  await writer.close();
  const restarted = new RunLogs(dir);
  assert.is(restarted.open(1).append('info', 'after a restart')!.id, 5);
  await restarted.close();
  assert.equal((await restarted.read(1, { offset: 0, limit: 10 })).entries.slice(3).map((e) => [e.id, e.message]), [
    [4, 'after reopening'],
    [5, 'after a restart'],
  ]);
  await assertConsistent(restarted, 1);
});

test('opening a run whose writer is still closing continues after it', async () => {
  const logs = new RunLogs(tempDir());
  const first = logs.open(1);
  first.append('info', 'first writer');
  const closing = first.close();
  const second = logs.open(1);
  assert.is.not(second, first);
  assert.is(second.append('info', 'second writer')!.id, 2);
  await closing;
  await logs.close();
  assert.equal((await logs.read(1, { offset: 0, limit: 10 })).entries.map((e) => e.message), ['first writer', 'second writer']);
});

test('appending to a closed writer throws', async () => {
  const writer = new RunLogs(tempDir()).open(1);
  await writer.close();
  assert.throws(() => writer.append('info', 'too late'), /closed/);
  await writer.close();
});

test('unicode survives; line breaks become spaces and control characters a replacement mark', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  writer.append('info', 'photos/日本/résumé 😀.jpg');
  writer.append('info', 'two\nlines\r\nand\rmore\u2028here');
  writer.append('info', 'bell\u0007 escape\u001b[31m csi\u009b nul\u0000 tab\tkept');
  await writer.close();
  const [unicode, flattened, controls] = (await logs.read(1, { offset: 0, limit: 10 })).entries;
  assert.is(unicode.message, 'photos/日本/résumé 😀.jpg');
  assert.is(flattened.message, 'two lines and more here');
  assert.is(controls.message, 'bell\uFFFD escape\uFFFD[31m csi\uFFFD nul\uFFFD tab\tkept');
});

test('huge messages are cut and marked, never in the middle of a character', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  writer.append('info', 'x'.repeat(MAX_MESSAGE_CHARS * 100));
  writer.append('info', 'y'.repeat(MAX_MESSAGE_CHARS - 1) + '😀'.repeat(10));
  writer.append('info', 'z'.repeat(MAX_MESSAGE_CHARS));
  await writer.close();
  const [huge, emoji, justFits] = (await logs.read(1, { offset: 0, limit: 10 })).entries;
  assert.ok(huge.message.length < MAX_MESSAGE_CHARS + 20);
  assert.ok(huge.message.startsWith('x'.repeat(MAX_MESSAGE_CHARS)));
  assert.match(huge.message, /\[truncated\]$/);
  assert.not.match(emoji.message, /[\ud800-\udbff](?![\udc00-\udfff])/, 'no half of a surrogate pair is left');
  assert.match(emoji.message, /\[truncated\]$/);
  assert.is(justFits.message, 'z'.repeat(MAX_MESSAGE_CHARS), 'a message at the limit is kept whole');
});

test('remove deletes every file of the run, even while it is open, and a missing run reads as empty', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 50);
  await writeLog(logs, 2, 5);
  logs.open(1).append('info', 'still buffered');
  await logs.remove(1);
  assert.equal(readdirSync(dir).filter((name) => name.startsWith('1.')), [], 'no file of run 1 is left');
  assert.equal(await logs.read(1, { offset: 0, limit: 10 }), { entries: [], total: 0 });
  assert.is((await logs.read(2, { offset: 0, limit: 10 })).total, 5, 'other runs are untouched');
  await logs.remove(1);
  await logs.remove(404);
  assert.is(logs.open(1).append('info', 'a new log')!.id, 1, 'a removed run starts over');
  await logs.close();
});

test('a run with no log, in a folder that does not exist yet, reads as empty', async () => {
  const logs = new RunLogs(path.join(tempDir(), 'not-yet'));
  assert.equal(await logs.read(1, { offset: 0, limit: 1000 }), { entries: [], total: 0 });
  assert.equal(await logs.read(1, { offset: 0, limit: 1000, level: 'warning' }), { entries: [], total: 0 });
  assert.equal(await logs.tail(1, 10), []);
});

test('a half-written last line and a torn index record are ignored, then repaired on reopening', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 10);
  const { data, all } = files(dir, 1);
  truncateSync(data, statSync(data).size - 15);
  appendFileSync(all, Buffer.from([1, 2, 3]));

  const read = await logs.read(1, { offset: 0, limit: 100 });
  assert.equal([ids(read.entries), read.total], [range(1, 9), 9]);
  assert.equal(ids(await logs.tail(1, 2)), [8, 9]);

  const writer = logs.open(1);
  assert.is(writer.append('info', 'resumed')!.id, 10);
  await writer.close();
  assert.is(await assertConsistent(logs, 1), 10);
  assert.ok(readFileSync(data, 'utf8').endsWith('"resumed"}\n'), 'no half line left in the middle');
});

test('index records pointing past the data or full of garbage are ignored, then repaired on reopening', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 20);
  const { all, level } = files(dir, 1);
  const garbage = Buffer.alloc(36);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 97 + 13) & 0xff;
  appendFileSync(all, garbage);
  appendFileSync(level('error'), garbage);

  assert.equal(ids((await logs.read(1, { offset: 0, limit: 100 })).entries), range(1, 20));
  assert.is((await logs.read(1, { offset: 0, limit: 100, level: 'error' })).total, 2);

  logs.open(1).append('error', 'after the crash');
  await logs.close();
  assert.is(await assertConsistent(logs, 1), 21);
  assert.equal(ids((await logs.read(1, { offset: 0, limit: 100, level: 'error' })).entries), [7, 14, 21]);
});

test('zeros a power cut leaves at the end of an index do not cost the log', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 20);
  appendFileSync(files(dir, 1).all, Buffer.alloc(24));
  appendFileSync(files(dir, 1).level('info'), Buffer.alloc(24));

  assert.equal(ids((await logs.read(1, { offset: 0, limit: 100 })).entries), range(1, 20));
  assert.is(logs.open(1).append('info', 'after the power cut')!.id, 21);
  await logs.close();
  assert.is(await assertConsistent(logs, 1), 21);
});

test('lines a power cut left as zeros in the data are skipped, then cut on reopening', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 20);
  const { data } = files(dir, 1);
  const content = readFileSync(data);
  const lastTwo = content.lastIndexOf('\n', content.lastIndexOf('\n', content.length - 2) - 1) + 1;
  content.fill(0, lastTwo);
  writeFileSync(data, content);

  const read = await logs.read(1, { offset: 0, limit: 100 });
  assert.equal(ids(read.entries), range(1, 18), 'the damaged lines are left out, not thrown on');
  assert.is(logs.open(1).append('info', 'after the power cut')!.id, 19);
  await logs.close();
  assert.is(await assertConsistent(logs, 1), 19);
});

test('lines written but never indexed, and level records ahead of the log, are dropped on reopening', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir);
  await writeLog(logs, 1, 7);
  const { data, all, level } = files(dir, 1);
  const indexBefore = readFileSync(all);
  const errorsBefore = readFileSync(level('error'));
  const writer = logs.open(1);
  writer.append('error', 'written, indexed for its level, but not committed');
  await writer.close();
  // The crash came after the data and the level index were written, before the all index was.
  writeFileSync(all, indexBefore);
  appendFileSync(data, '{"id":9,"run_id":1,"timestamp":"2024-01-01T00:00:00.000Z","level":"info","message":"never indexed"}\n');

  assert.equal(ids((await logs.read(1, { offset: 0, limit: 100 })).entries), range(1, 7));
  assert.is(logs.open(1).append('warning', 'resumed')!.id, 8);
  await logs.close();
  assert.is(await assertConsistent(logs, 1), 8);
  assert.equal(readFileSync(level('error')), errorsBefore, 'the uncommitted error record is gone');
  assert.not.match(readFileSync(data, 'utf8'), /never indexed|not committed/);
});

test('a log that can no longer be written does not break the run: appends go on and close reports why', async () => {
  const dir = path.join(tempDir(), 'logs');
  const logs = new RunLogs(dir);
  const writer = logs.open(1);
  writer.append('info', 'before');
  await writer.flush();
  rmSync(dir, { recursive: true });
  writer.append('info', 'the folder is gone');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is(writer.append('info', 'still numbered')!.id, 3);
  assert.equal(await logs.read(1, { offset: 0, limit: 10 }), { entries: [], total: 0 }, 'reading does not throw');
  try {
    await writer.close();
    assert.unreachable('close should report the failed write');
  } catch (error) {
    assert.instance(error, Error);
  }
  assert.ok(!existsSync(dir));
});

test('100,000 lines: the last page and a sparse level read back right', async () => {
  const logs = new RunLogs(tempDir());
  const writer = logs.open(1);
  for (let i = 1; i <= 100_000; i++) writer.append(i % 1000 === 0 ? 'warning' : 'info', `photos/2024/album-${i % 97}/IMG_${i}.jpg`);
  await writer.close();
  const last = await logs.read(1, { offset: 99_000, limit: 1000 });
  assert.equal([last.entries.length, last.entries[0].id, last.entries[999].id, last.total], [1000, 99_001, 100_000, 100_000]);
  const warnings = await logs.read(1, { offset: 90, limit: 1000, level: 'warning' });
  assert.equal(ids(warnings.entries), range(91, 100).map((i) => i * 1000));
  assert.is(warnings.total, 100);
});

test('a log kept to its limit: info stops there, problems go on to twice it, and the last line says what was left out', async () => {
  const dir = tempDir();
  const logs = new RunLogs(dir, { maxBytes: 20_000 });
  const writer = logs.open(3);
  const kept = { info: 0, warning: 0, error: 0 };
  // ~150-byte lines: names of files, as a run at `normal` writes them.
  for (let i = 1; i <= 500; i++) if (writer.append('info', `sent photos/2024/album/IMG_${String(i).padStart(5, '0')}.jpg`)) kept.info++;
  assert.ok(kept.info > 50 && kept.info < 500, `some info lines kept, then no more (${kept.info})`);
  for (let i = 1; i <= 10; i++) if (writer.append('error', `could not read photos/locked-${i}`)) kept.error++;
  assert.is(kept.error, 10, 'errors after the names are still kept');
  assert.is(writer.append('info', 'one more name'), null, 'info past the limit is refused');
  for (let i = 1; i <= 500; i++) if (writer.append('warning', `vanished photos/tmp-${i}`)) kept.warning++;
  assert.ok(kept.warning > 50 && kept.warning < 500, `warnings kept up to twice the limit (${kept.warning})`);
  await writer.close();

  const total = await assertConsistent(logs, 3);
  assert.is(total, kept.info + kept.error + kept.warning + 1, 'every kept line and the closing one');
  const size = statSync(files(dir, 3).data).size;
  assert.ok(size <= 2 * 20_000 + 400, `the file stays within twice the limit and one line (${size} bytes)`);
  const [last] = await logs.tail(3, 1);
  assert.is(last.level, 'warning');
  assert.match(last.message, new RegExp(`limit of 0 MB .*: ${501 - kept.info + 500 - kept.warning} later lines \\(${501 - kept.info} info, ${500 - kept.warning} warnings\\) were not kept`));
});

test("a run's outcome line is kept even past twice the limit, before the line that counts what was left out", async () => {
  const logs = new RunLogs(tempDir(), { maxBytes: 5_000 });
  const writer = logs.open(4);
  for (let i = 1; i <= 200; i++) writer.append('warning', `vanished photos/tmp-${i}`);
  assert.is(writer.append('error', 'Failed: the drive was removed'), null, 'an ordinary error past twice the limit is not kept');
  const last = writer.append('error', 'Failed: the drive was removed', { last: true });
  assert.ok(last, 'the outcome line is kept');
  await writer.close();
  const [outcome, closing] = await logs.tail(4, 2);
  assert.equal([outcome.level, outcome.message], ['error', 'Failed: the drive was removed']);
  assert.match(closing.message, /\(\d+ warnings, 1 errors\) were not kept/, 'the ordinary error is counted as left out');
});

test('a log under its limit gets no closing line', async () => {
  const logs = new RunLogs(tempDir(), { maxBytes: 20_000 });
  await writeLog(logs, 1, 20);
  const [last] = await logs.tail(1, 1);
  assert.is(last.message, 'line 20');
});

test.run();
