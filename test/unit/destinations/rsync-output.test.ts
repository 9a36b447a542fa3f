/** Reading rsync's stdout: itemized lines into totals and log lines, --stats into rsync's own totals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countItem, describeItem, parseItemLine, parseProgressLine, parseStatsLine, printable, type RsyncStats } from '../../../src/destinations/local/rsync-output.ts';

const zero = () => ({ files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });

test('sent files count with their length; links, folders, deletions of folders and attribute-only changes do not', () => {
  const totals = zero();
  const lines = [
    'cd+++++++++|4096|0|./',
    '>f+++++++++|3|46|a.txt',
    '>f.st......|100|143|sub/b c.txt',
    'cL+++++++++|5|0|link -> a.txt',
    'cd+++++++++|4096|0|emptydir/',
    'cS+++++++++|0|0|fifo',
    '*deleting  |0|0|old.txt',
    '*deleting  |0|0|olddir/',
    '*deleting  |0|0|old-link',
    '.f...p.....|9|0|perm-only.txt',
    '.d..t......|4096|0|sub/',
  ];
  const items = lines.map((line) => parseItemLine(line)!);
  for (const item of items) countItem(totals, item);
  assert.equal(totals, { files_transferred: 2, bytes_transferred: 103, files_deleted: 2 });
  assert.equal(
    items.map((item) => item.kind),
    ['dir', 'file', 'file', 'link', 'dir', 'special', 'deleted', 'deleted', 'deleted', 'file', 'dir'],
  );
});

test('a dry run lists files with 0 bytes sent, yet they count with their length as would-be transfers', () => {
  const totals = zero();
  countItem(totals, parseItemLine('>f+++++++++|5000|0|résumé.txt')!);
  assert.equal(totals, { files_transferred: 1, bytes_transferred: 5000, files_deleted: 0 });
});

test('names with pipes, arrows, quotes, unicode and a leading dash come through whole', () => {
  assert.is(parseItemLine('>f+++++++++|1|44|a|b -> c.txt')!.name, 'a|b -> c.txt');
  assert.is(parseItemLine(`>f+++++++++|1|44|it's "q".txt`)!.name, `it's "q".txt`);
  assert.is(parseItemLine('>f+++++++++|1|44|-rf.txt')!.name, '-rf.txt');
  assert.is(parseItemLine('>f+++++++++|1|44|日本.txt')!.name, '日本.txt');
});

test('lines that are not itemized changes are not items', () => {
  for (const line of ['', 'created directory /mnt/b/photos', 'Number of files: 6 (reg: 2, dir: 3, link: 1)', 'sent 5,482 bytes  received 158 bytes  11,280.00 bytes/sec']) {
    assert.is(parseItemLine(line), null, line);
  }
});

test('entries listed only because every entry was asked for (-ii) are unchanged; an unchanged hf line is a file linked from --link-dest', () => {
  const linked = parseItemLine('hf         |2|0|a.txt')!;
  assert.equal([linked.kind, linked.unchanged, linked.linked, linked.changed], ['file', true, true, false]);
  const same = parseItemLine('.f         |2|0|b.txt')!;
  assert.equal([same.unchanged, same.linked], [true, false]);
  const folder = parseItemLine('cd         |4096|0|a/')!;
  assert.equal([folder.unchanged, folder.linked], [true, false]);
  for (const line of ['>f+++++++++|4|47|a/new', '>f.s.......|8|52|a/x', 'cf...p.....|2|0|b/y', '.f...p.....|9|0|perm-only.txt', '*deleting  |0|0|old.txt']) {
    const item = parseItemLine(line)!;
    assert.equal([item.unchanged, item.linked], [false, false], line);
  }
});

test('quiet logs no file, normal logs sent files and deletions relative to the destination root, verbose logs every item', () => {
  const file = parseItemLine('>f+++++++++|3|46|2024/a.txt')!;
  const link = parseItemLine('cL+++++++++|5|0|2024/latest -> a.txt')!;
  const dir = parseItemLine('cd+++++++++|4096|0|2024/')!;
  const top = parseItemLine('.d..t......|4096|0|./')!;
  const gone = parseItemLine('*deleting  |0|0|old.txt')!;
  const same = parseItemLine('.f...p.....|9|0|perm-only.txt')!;
  assert.is(describeItem(file, 'photos', 'quiet'), null);
  assert.is(describeItem(gone, 'photos', 'quiet'), null);
  assert.is(describeItem(file, 'photos', 'normal'), 'photos/2024/a.txt');
  assert.is(describeItem(link, 'photos', 'normal'), 'photos/2024/latest -> a.txt');
  assert.is(describeItem(gone, 'photos', 'normal'), 'deleted photos/old.txt');
  assert.is(describeItem(dir, 'photos', 'normal'), null);
  assert.is(describeItem(same, 'photos', 'normal'), null);
  assert.is(describeItem(dir, 'photos', 'verbose'), 'photos/2024/');
  assert.is(describeItem(top, 'photos', 'verbose'), 'photos/');
  assert.is(describeItem(same, 'photos', 'verbose'), 'photos/perm-only.txt');
});

test('--stats lines give rsync totals and its list’s size, digit groups and all; deleted folders are not deleted files', () => {
  const stats: RsyncStats = {};
  const block = [
    'Number of files: 3 (reg: 2, dir: 1)',
    'Number of created files: 2 (reg: 2)',
    'Number of deleted files: 4 (reg: 2, dir: 1, link: 1)',
    'Number of regular files transferred: 1,234',
    'Total file size: 9,999,999 bytes',
    'Total transferred file size: 5,242,880 bytes',
    'Literal data: 5,242,880 bytes',
  ];
  const recognised = block.filter((line) => parseStatsLine(line, stats));
  assert.equal(stats, { entries: 3, filesTransferred: 1234, bytesTransferred: 5_242_880, filesDeleted: 3 });
  assert.is(recognised.length, 4);
  const many: RsyncStats = {};
  parseStatsLine('Number of files: 1,000,001 (reg: 990,000, dir: 10,001)', many);
  assert.equal(many, { entries: 1_000_001 }, 'the whole list, for the next run’s share (list-share.ts)');
  const none: RsyncStats = {};
  parseStatsLine('Number of deleted files: 0', none);
  assert.equal(none, { filesDeleted: 0 });
});

test('control characters cannot reach a terminal through a log line', () => {
  assert.is(printable('evil\u001b]0;pwned\u0007name\n.txt'), 'evil\\#033]0;pwned\\#007name\\#012.txt');
  assert.is(printable('new\\#012line.txt'), 'new\\#012line.txt', 'what rsync already escaped stays as it is');
  assert.is(printable('日本 résumé.txt'), '日本 résumé.txt');
});

// rsync 3.2's stdout with --info=progress2 (here once its list is complete), as it arrives: progress rewritten with \r, item lines after \n.
const PROGRESS_OUTPUT =
  'cd+++++++++|4096|0|./\n\r         32,768   0%    0.00kB/s    0:00:00  \r        100,000   0%   64.12MB/s    0:00:00 (xfr#1, to-chk=230/233)\n' +
  '>f+++++++++|100000|100055|a/f1\n\r      1,100,000   2%  203.56MB/s    0:00:00 (xfr#2, to-chk=229/233)\n>f+++++++++|1000000|1000163|a/f10\n' +
  '\r     46,500,692 100%   71.32MB/s    0:00:00 (xfr#230, to-chk=0/233)\n';

test('whole-transfer progress lines give bytes, rsync’s percent and the list entries left; other lines are not progress', () => {
  const lines = PROGRESS_OUTPUT.split(/\r|\n/);
  const progress = lines.map(parseProgressLine).filter((line) => line !== null);
  assert.equal(progress, [
    { bytes: 32768, percent: 0 },
    { bytes: 100000, percent: 0, toCheck: { left: 230, of: 233, final: true } },
    { bytes: 1100000, percent: 2, toCheck: { left: 229, of: 233, final: true } },
    { bytes: 46500692, percent: 100, toCheck: { left: 0, of: 233, final: true } },
  ]);
  for (const line of ['>f+++++++++|100000|100055|a/f1', '', 'Number of files: 233 (reg: 230, dir: 3)', 'sent 503,523 bytes  received 54 bytes  1,007,154.00 bytes/sec']) {
    assert.is(parseProgressLine(line), null, line);
  }
  // A growing list (incremental recursion) is marked, and a locale's separators do not matter.
  assert.equal(parseProgressLine("  1.234.567  12%  ???  0:01:02 (xfr#3, ir-chk=1000/5000)"), { bytes: 1234567, percent: 12, toCheck: { left: 1000, of: 5000, final: false } });
});

test.run();
