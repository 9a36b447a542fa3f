/** rsync's exit codes as sentences, and the files its error lines name, as the run log names them. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitCodeMeaning, exitCodeMessage, fileNamedIn, nameForLog, RsyncProblems, SomeNames, type CopyPlaces } from '../../../src/destinations/local/rsync-errors.ts';

const places: CopyPlaces = { name: 'photos', source: '/home/u/photos', target: '/mnt/b/cairn/photos' };

test('exit codes read as sentences a user can act on', () => {
  assert.match(exitCodeMessage(1), /syntax or usage/);
  assert.match(exitCodeMessage(2), /protocol/);
  assert.match(exitCodeMessage(3), /select the files or folders/);
  assert.match(exitCodeMessage(11), /destination full/);
  assert.match(exitCodeMessage(12), /data stream/);
  assert.match(exitCodeMessage(20), /signal/);
  assert.match(exitCodeMessage(23), /partial transfer/);
  assert.match(exitCodeMessage(24), /vanished/);
  assert.match(exitCodeMessage(25), /deletion limit/);
  assert.match(exitCodeMessage(30), /timed out/);
  assert.match(exitCodeMessage(35), /timed out/);
  assert.match(exitCodeMessage(99), /exit code 99/);
  assert.not.ok(exitCodeMeaning(11).retryable, 'a full or failing drive does not free itself; a retry rewrites the same bytes');
  assert.not.ok(exitCodeMeaning(1).retryable, 'a usage error will not fix itself');
});

test('a broken stream (12) is retried when the other rsync was killed, not when it died of a full or failing drive', () => {
  // As rsync 3.5 answers its receiver killed with SIGKILL mid-copy (measured): nothing names a cause.
  const killed = new RsyncProblems(places);
  for (const line of ['rsync: connection unexpectedly closed (23 bytes received so far) [sender]', 'rsync error: error in rsync protocol data stream (code 12) at io.c(285) [sender=3.5.0]']) killed.add(line);
  assert.ok(exitCodeMeaning(12, killed.lastError).retryable);
  assert.match(exitCodeMeaning(12, killed.lastError).message, /other rsync process stopped/);
  // A full drive reported as 12 (the sender's broken pipe ends the copy): the receiver's line names it.
  for (const cause of [
    'rsync: [receiver] write failed on "/mnt/b/cairn/photos/big": No space left on device (28)',
    'rsync: [receiver] mkstemp "/mnt/b/cairn/photos/.a.jpg.Xy12" failed: Read-only file system (30)',
    'rsync: [receiver] write failed on "/mnt/b/cairn/photos/big": Input/output error (5)',
  ]) {
    const full = new RsyncProblems(places);
    for (const line of [cause, 'rsync: [sender] write error: Broken pipe (32)', 'rsync error: error in rsync protocol data stream (code 12) at io.c(848) [sender=3.2.7]']) full.add(line);
    assert.equal(exitCodeMeaning(12, full.lastError), exitCodeMeaning(11), cause);
    assert.not.ok(exitCodeMeaning(12, full.lastError).retryable, cause);
  }
});

test('a partial transfer (23) names the files that failed, not the vanished ones, each once', () => {
  const problems = new RsyncProblems(places);
  const stderr = [
    'rsync: [sender] send_files failed to open "/home/u/photos/secret.db": Permission denied (13)',
    'file has vanished: "/home/u/photos/tmp/cache.bin"',
    'cannot delete non-empty directory: report.txt',
    'could not make way for new regular file: report.txt',
    'rsync: [receiver] mkstemp "2024/.it\'s "q".txt.Ab12Cd" failed: Invalid argument (22)',
    'rsync: [generator] failed to set times on "/mnt/b/cairn/photos/2024/a.jpg": Operation not permitted (1)',
    'rsync: [generator] failed to set times on "/mnt/b/cairn/photos/2024/a.jpg": Operation not permitted (1)',
    'rsync: [receiver] rename "/mnt/b/cairn/photos/2024/.b.txt.XyZ123" -> "2024/b.txt": No space left on device (28)',
    'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]',
  ];
  const levels = stderr.map((line) => problems.add(line));
  assert.equal(levels, ['error', 'warning', 'warning', 'error', 'error', 'error', 'error', 'error', 'error']);
  assert.equal(problems.failed.list(), ['photos/secret.db', 'photos/report.txt', `photos/2024/it's "q".txt`, 'photos/2024/a.jpg', 'photos/2024/b.txt']);
  assert.equal(problems.vanished.list(), ['photos/tmp/cache.bin']);
  assert.match(problems.lastError!, /rename/, 'the closing "rsync error: … (code 23)" line is not the interesting one');
});

test('the error quoted in a failure is its cause, not the broken pipe that follows it', () => {
  const problems = new RsyncProblems(places);
  problems.add('rsync: [receiver] write failed on "/mnt/b/cairn/photos/big.bin": No space left on device (28)');
  problems.add('rsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.5.0]');
  problems.add('rsync: [sender] write error: Broken pipe (32)');
  assert.match(problems.lastError!, /No space left on device/);
  const onlySummary = new RsyncProblems(places);
  onlySummary.add('rsync error: received SIGINT, SIGTERM, or SIGHUP (code 20) at rsync.c(713) [sender=3.5.0]');
  assert.match(onlySummary.lastError!, /SIGTERM/, 'with nothing better, the summary line');
});

test('error lines without a file name name none', () => {
  for (const line of ['rsync: [Receiver] write error: Broken pipe (32)', 'rsync error: received SIGINT, SIGTERM, or SIGHUP (code 20) at rsync.c(713)', 'IO error encountered -- skipping file deletion']) {
    assert.is(fileNamedIn(line), null, line);
  }
  assert.is(fileNamedIn('ERROR: 2024/a.jpg failed verification -- update discarded.'), '2024/a.jpg');
});

test('paths are named relative to the destination root whether rsync printed the source, the target or a relative name', () => {
  assert.is(nameForLog('/home/u/photos/a b/c.jpg', places), 'photos/a b/c.jpg');
  assert.is(nameForLog('/mnt/b/cairn/photos/x/../y.txt', places), 'photos/y.txt');
  assert.is(nameForLog('/mnt/b/cairn/photos/.', places), 'photos/');
  assert.is(nameForLog('2024/-rf.txt', places), 'photos/2024/-rf.txt');
  assert.is(nameForLog('/mnt/b/cairn/photos/2024/.c.txt.aB3dE5', places), 'photos/2024/c.txt', 'a temp file is named by the file it was for');
  assert.is(nameForLog('/elsewhere/z', places), '/elsewhere/z');
});

test('long lists are cut to the first few and "and N more"', () => {
  const names = new SomeNames();
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'a']) names.add(name);
  assert.is(names.count, 7);
  assert.is(names.describe(), 'a, b, c, d, e and 2 more');
  const few = new SomeNames();
  few.add('only.txt');
  assert.is(few.describe(), 'only.txt');
  const bounded = new SomeNames(3);
  for (let i = 0; i < 10; i++) bounded.add(`f${i}`);
  assert.is(bounded.count, 10);
  assert.is(bounded.list().length, 3, 'memory stays bounded however many files fail');
  assert.is(bounded.describe(), 'f0, f1, f2 and 7 more');
});

test.run();
