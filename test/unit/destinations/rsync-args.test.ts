/** The rsync command line the local destination builds: one argv entry per value, never a shell string. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isFatLike } from '../../../src/destinations/local/mounts.ts';
import { rsyncArguments } from '../../../src/destinations/local/rsync-args.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';

const defaults: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

test('by default: archive mode, UTF-8 names, itemized output with totals, whole-transfer progress with rsync’s incremental recursion (its memory does not grow with the tree), rsync’s own temp-then-rename, contents of the source into the target', () => {
  const args = rsyncArguments({ source: '/home/u/docs', target: '/mnt/b/cairn/docs', options: defaults, fatLike: false });
  assert.equal(args, [
    '-a',
    '--8-bit-output',
    '--out-format=%i|%l|%b|%n%L',
    '--stats',
    '--info=progress2',
    '--',
    '/home/u/docs/',
    '/mnt/b/cairn/docs/',
  ]);
});

test('a snapshot copy links against the previous one and lists every entry, unchanged ones too (-ii)', () => {
  const args = rsyncArguments({ source: '/home/u/docs', target: '/mnt/b/w/docs', options: defaults, fatLike: false, linkDest: '/mnt/b/s1/docs', listUnchanged: true });
  assert.equal(args, ['-a', '--8-bit-output', '--out-format=%i|%l|%b|%n%L', '--stats', '-ii', '--info=progress2', '--link-dest=/mnt/b/s1/docs/', '--', '/home/u/docs/', '/mnt/b/w/docs/']);
});

test('every sync option maps to its flag, each exclude pattern is one argument whatever it holds, and a dry run is marked', () => {
  const args = rsyncArguments({
    source: '/s',
    target: '/t',
    options: {
      delete_extraneous: true,
      exclude_patterns: ['*.tmp', 'a b/', '--delete-everything', `it's "x"`, '; rm -rf /'],
      bandwidth_limit_kbps: 500,
      dry_run: true,
      verbosity: 'quiet',
    },
    fatLike: false,
  });
  assert.equal(args, [
    '-a',
    '--8-bit-output',
    '--out-format=%i|%l|%b|%n%L',
    '--stats',
    '--delete',
    '--exclude=*.tmp',
    '--exclude=a b/',
    '--exclude=--delete-everything',
    `--exclude=it's "x"`,
    '--exclude=; rm -rf /',
    '--bwlimit=500',
    '--dry-run',
    '--',
    '/s/',
    '/t/',
  ]);
});

test('FAT, exFAT and NTFS targets get -rltD with a 1 s modify window instead of -a', () => {
  const args = rsyncArguments({ source: '/s', target: '/t', options: defaults, fatLike: true });
  assert.equal(args.slice(0, 2), ['-rltD', '--modify-window=1']);
  assert.not.ok(args.includes('-a'));
});

test('FAT, exFAT and NTFS (kernel or FUSE) count as FAT-like; ext4, btrfs, xfs and unknown do not', () => {
  for (const fstype of ['vfat', 'msdos', 'exfat', 'ntfs', 'ntfs3', 'fuseblk']) assert.ok(isFatLike(fstype), fstype);
  for (const fstype of ['ext4', 'btrfs', 'xfs', 'tmpfs', '']) assert.not.ok(isFatLike(fstype), fstype);
});

test('a bandwidth limit of 0 or null means unlimited', () => {
  for (const limit of [0, null]) {
    const args = rsyncArguments({ source: '/s', target: '/t', options: { ...defaults, bandwidth_limit_kbps: limit }, fatLike: false });
    assert.not.ok(args.some((arg) => arg.startsWith('--bwlimit')), `limit ${limit}`);
  }
});

test('folders named like options, with spaces or quotes stay paths after "--", each with one trailing slash', () => {
  const args = rsyncArguments({ source: '/home/u/-rf --delete', target: `/mnt/b/it's "x"/`, options: defaults, fatLike: false });
  assert.equal(args.slice(-3), ['--', '/home/u/-rf --delete/', `/mnt/b/it's "x"/`]);
});

test.run();
