/** The entry counts a local job remembers in its state file for the next run's progress share. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { previousEntryCount, readEntryCounts, rememberEntryCount } from '../../../src/destinations/entry-counts.ts';
import { tempDir } from '../../helpers.ts';

test('a count is remembered per source, beside the others of the job, and read back; sources no longer in the job are dropped', async () => {
  const file = path.join(tempDir(), 'sent-files', 'job-3.json');
  assert.is(await previousEntryCount(file, '/home/u/photos'), null, 'nothing before the first run');
  await rememberEntryCount(file, '/home/u/photos', 1_000_001, ['/home/u/photos', '/home/u/docs']);
  await rememberEntryCount(file, '/home/u/docs', 42, ['/home/u/photos', '/home/u/docs']);
  assert.is(await previousEntryCount(file, '/home/u/photos'), 1_000_001);
  assert.is(await previousEntryCount(file, '/home/u/docs'), 42);
  await rememberEntryCount(file, '/home/u/docs', 43, ['/home/u/docs']);
  assert.equal(await readEntryCounts(file), { '/home/u/docs': 43 });
  assert.is(readFileSync(file, 'utf8').split('\n').length, 2, 'one line');
  assert.is(statSync(file).mode & 0o777, 0o600);
});

test('a missing, damaged or foreign state file (a remote job’s record before the job moved to a drive) holds no count, and is replaced', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'job-1.json');
  for (const content of ['', '{"cairn_local_entries":1,"sources":', 'not json\n', '{"cairn_local_entries":2,"sources":{"/s":5}}\n', '{"cairn_local_entries":1,"sources":{"/s":-1,"/t":"7","/u":1.5}}\n']) {
    writeFileSync(file, content);
    assert.equal(await readEntryCounts(file), {}, content);
  }
  // A remote record: a header line, then a line per file, far larger than anything read here.
  const remote = [JSON.stringify({ cairn_sent_files: 2, destination: 'sftp://u@h/p' }), ...Array.from({ length: 50_000 }, (_, i) => `"photos/${i}.jpg"\t${i}\t${i}`)].join('\n');
  writeFileSync(file, remote);
  assert.equal(await readEntryCounts(file), {});
  await rememberEntryCount(file, '/s', 7, ['/s']);
  assert.equal(await readEntryCounts(file), { '/s': 7 });
  assert.equal(await readEntryCounts(path.join(dir, 'missing', 'job-2.json')), {});
});

test.run();
