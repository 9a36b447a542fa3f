/**
 * The snapshot engine's pure parts: snapshot names in a time zone (and back to the instant), the
 * manifest's order and format with awkward names, and which filesystems can hold hard links.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { filesystemOfMagic, hardLinkSupport, requireHardLinks, snapshotBaseName, snapshotTimeOf } from '../../../src/history/index.ts';
import { comparePaths, ManifestReader, ManifestWriter } from '../../../src/history/drive-snapshots/manifest-file.ts';
import { walkFiles } from '../../../src/history/drive-snapshots/manifest-build.ts';
import { uniqueName } from '../../../src/history/drive-snapshots/names.ts';
import { tempDir } from '../../helpers.ts';

test('a snapshot is named by its local time and offset, and the name gives back the instant', () => {
  const cases: Array<[string, string, string]> = [
    ['2026-12-05T02:15:00Z', 'Europe/Berlin', '2026-12-05T031500+0100'],
    ['2026-07-05T02:15:09Z', 'Europe/Berlin', '2026-07-05T041509+0200'],
    ['2026-03-08T06:59:59Z', 'America/New_York', '2026-03-08T015959-0500'],
    ['2026-03-08T07:00:00Z', 'America/New_York', '2026-03-08T030000-0400'],
    ['2026-12-31T23:59:59.999Z', 'UTC', '2026-12-31T235959+0000'],
    ['2026-06-01T00:00:00Z', 'Asia/Kolkata', '2026-06-01T053000+0530'],
  ];
  for (const [iso, zone, name] of cases) {
    assert.is(snapshotBaseName(new Date(iso), zone), name, `${iso} in ${zone}`);
    assert.is(snapshotTimeOf(name), Math.floor(Date.parse(iso) / 1000) * 1000, name);
    assert.is(snapshotTimeOf(`${name}-3`), Math.floor(Date.parse(iso) / 1000) * 1000);
    assert.not.match(name, /:/);
  }
  for (const other of ['.incomplete-2026-12-05T031500+0100', '2026-02-30T031500+0100', 'photos', '2026-12-05T031500', '2026-12-05T031500+0100/..']) {
    assert.is(snapshotTimeOf(other), null, other);
  }
  assert.is(uniqueName('a', new Set(['a', 'a-1'])), 'a-2');
});

test('manifest order is rsync`s order: a folder`s files by code point, then its folders (named as with a trailing /)', async () => {
  const root = tempDir();
  const names = ['a/b/x', 'a.c', 'a/b/c', 'a-b', 'ab', 'A', 'z', 'é', 'tab\there', 'new\nline', 'a b/q', 'a.b/c', 'aa/e', 'aa/b/d', '\u{1D11E}', '\uFB00'];
  for (const name of names) {
    mkdirSync(path.join(root, path.dirname(name)), { recursive: true });
    writeFileSync(path.join(root, name), name);
  }
  writeFileSync(path.join(root, '.cairn-manifest'), 'not listed');
  const walked: string[] = [];
  for await (const files of walkFiles(root, new AbortController().signal)) walked.push(...files);
  assert.equal(walked, [...walked].sort(comparePaths));
  const expected = ['A', 'a-b', 'a.c', 'ab', 'new\nline', 'tab\there', 'z', 'é', '\uFB00', '\u{1D11E}', 'a b/q', 'a.b/c', 'a/b/c', 'a/b/x', 'aa/e', 'aa/b/d'];
  assert.equal(walked, expected);
  // The order is rsync's own: its full listing (-ii) of the same tree names the files in it.
  const listing = execFileSync('rsync', ['-a', '-ii', '--8-bit-output', '--out-format=%i|%n', `${root}/`, `${tempDir()}/`], { encoding: 'utf8' });
  const listed = listing.split('\n').filter((line) => line.startsWith('>f')).map((line) => line.slice(12));
  // rsync writes a newline as \#012 (such a name makes the snapshot walk its tree instead).
  assert.ok(listed.includes('new\\#012line'));
  const printable = expected.filter((name) => !name.includes('\n')).concat('.cairn-manifest').sort(comparePaths);
  assert.equal(listed.filter((name) => !name.includes('\\#')), printable);
});

test('the manifest round-trips names with tabs, newlines, quotes and backslashes, streamed through its buffer', async () => {
  const file = path.join(tempDir(), 'manifest');
  const writer = await ManifestWriter.create(file);
  const entries = Array.from({ length: 5000 }, (_, i) => ({
    path: `dir/${i}\t"q"\\\n${'é'.repeat(i % 7)}`,
    size: i,
    mtimeNs: `${1_700_000_000_000_000_000n + BigInt(i)}`,
    ino: `${2n ** 60n + BigInt(i)}`,
    sha256: i.toString(16).padStart(64, '0'),
  }));
  for (const entry of entries) {
    writer.add(entry);
    await writer.flushIfFull();
  }
  await writer.finish();
  assert.ok((await readFile(file, 'utf8')).startsWith('cairn-manifest 2\n'));
  const reader = new ManifestReader(file);
  const read = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) read.push(entry);
  assert.equal(read, entries);
});

test('vfat, exfat and the kernel NTFS drivers are refused by their statfs magic; ext4, btrfs, xfs are not', () => {
  // This kernel has no vfat module (/proc/filesystems), so a real FAT mount cannot be made here.
  assert.equal(filesystemOfMagic(0x4d44), { name: 'vfat (FAT)', hardLinks: false });
  assert.equal(filesystemOfMagic(0x2011bab0), { name: 'exfat', hardLinks: false });
  assert.equal(filesystemOfMagic(0x5346544e), { name: 'ntfs', hardLinks: false });
  assert.equal(filesystemOfMagic(0x7366746e), { name: 'ntfs3', hardLinks: false });
  assert.equal(filesystemOfMagic(0xef53), { name: 'ext2/ext3/ext4', hardLinks: true });
  assert.equal(filesystemOfMagic(0x9123683e), { name: 'btrfs', hardLinks: true });
  assert.equal(filesystemOfMagic(0x58465342), { name: 'xfs', hardLinks: true });
  assert.is(filesystemOfMagic(0x65735546).hardLinks, null, 'FUSE: only a real link tells (ntfs-3g links, exfat-fuse does not)');
  assert.is(filesystemOfMagic(-0x6edc97c2).name, 'btrfs', 'a negative f_type (signed 32-bit) is read as unsigned');
});

test('a folder on a filesystem with hard links passes, leaving nothing behind', async () => {
  const dir = tempDir();
  const answer = await hardLinkSupport(dir);
  assert.ok(answer.supported, JSON.stringify(answer));
  await requireHardLinks(dir);
  assert.equal((await import('node:fs')).readdirSync(dir), []);
});

test.run();
