import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rsyncArguments } from '../../../src/destinations/local/rsync.ts';
import { countItem, describeItem, exitCodeMessage, filesNamedIn, listSome, parseItemLine, vanishedFiles } from '../../../src/destinations/local/rsync-output.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';

const defaults: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

test('argv: archive mode, itemized output, source contents into the target, nothing else by default', () => {
  const args = rsyncArguments({ source: '/home/u/docs', target: '/mnt/b/docs', tempDir: '/mnt/b/.cairn-partial', options: defaults, fatLike: false });
  assert.equal(args, ['-a', '--out-format=%i|%l|%n%L', '--stats', '--temp-dir=/mnt/b/.cairn-partial', '--', '/home/u/docs/', '/mnt/b/docs/']);
});

test('argv: every sync option maps to its flag, each pattern its own argument', () => {
  const args = rsyncArguments({
    source: '/s',
    target: '/t',
    tempDir: null,
    options: { delete_extraneous: true, exclude_patterns: ['*.tmp', 'a b/', '--delete-everything'], bandwidth_limit_kbps: 500, dry_run: true, verbosity: 'quiet' },
    fatLike: false,
  });
  assert.ok(args.includes('--delete'));
  assert.ok(args.includes('--exclude=*.tmp'));
  assert.ok(args.includes('--exclude=a b/'));
  assert.ok(args.includes('--exclude=--delete-everything'), 'a pattern that looks like a flag stays a pattern');
  assert.ok(args.includes('--bwlimit=500'));
  assert.ok(args.includes('--dry-run'));
  assert.not.ok(args.some((arg) => arg.startsWith('--temp-dir')));
});

test('argv: FAT-like targets get -rltD with a 1 s modify window instead of -a; 0 means no bandwidth limit', () => {
  const args = rsyncArguments({ source: '/s', target: '/t', tempDir: null, options: { ...defaults, bandwidth_limit_kbps: 0 }, fatLike: true });
  assert.equal(args.slice(0, 2), ['-rltD', '--modify-window=1']);
  assert.not.ok(args.includes('-a'));
  assert.not.ok(args.some((arg) => arg.startsWith('--bwlimit')));
});

test('itemized lines become items and totals', () => {
  const totals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  const lines = ['>f+++++++++|3|a.txt', '>f.st......|100|sub/b c.txt', 'cL+++++++++|5|link -> a.txt', 'cd+++++++++|4096|emptydir/', '*deleting  |0|old.txt', '*deleting  |0|olddir/', '.f...p.....|9|perm-only.txt'];
  const items = lines.map((line) => parseItemLine(line)!);
  for (const item of items) countItem(totals, item);
  assert.equal(totals, { files_transferred: 2, bytes_transferred: 103, files_deleted: 1 });
  assert.equal(items.map((item) => item.kind), ['file', 'file', 'link', 'dir', 'deleted', 'deleted', 'file']);
  assert.is(parseItemLine('Number of files: 6 (reg: 2, dir: 3, link: 1)'), null);
  assert.is(parseItemLine(''), null);
});

test('verbosity decides which items become log lines', () => {
  const file = parseItemLine('>f+++++++++|3|2024/a.txt')!;
  const dir = parseItemLine('cd+++++++++|4096|2024/')!;
  const gone = parseItemLine('*deleting  |0|old.txt')!;
  assert.is(describeItem(file, 'photos', 'quiet'), null);
  assert.is(describeItem(file, 'photos', 'normal'), 'photos/2024/a.txt');
  assert.is(describeItem(gone, 'photos', 'normal'), 'deleted photos/old.txt');
  assert.is(describeItem(dir, 'photos', 'normal'), null);
  assert.is(describeItem(dir, 'photos', 'verbose'), 'photos/2024/');
});

test('error text names the files of a partial transfer and the vanished ones', () => {
  const stderr = [
    'rsync: [sender] send_files failed to open "/src/secret.db": Permission denied (13)',
    'file has vanished: "/src/tmp/cache.bin"',
    'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]',
  ];
  assert.equal(filesNamedIn(stderr), ['/src/secret.db', '/src/tmp/cache.bin']);
  assert.equal(vanishedFiles(stderr), ['/src/tmp/cache.bin']);
  assert.is(listSome(['a', 'b', 'c', 'd', 'e', 'f', 'g']), 'a, b, c, d, e and 2 more');
});

test('exit codes read as sentences', () => {
  assert.match(exitCodeMessage(23), /partial transfer/);
  assert.match(exitCodeMessage(11), /destination full/);
  assert.match(exitCodeMessage(99), /exit code 99/);
});

test.run();
