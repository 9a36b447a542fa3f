/**
 * A tree's inode and device numbers as restic reads them: exact integers. JS numbers hold 2^53
 * exactly; overlayfs puts its layer in an inode's high bits, and restic, reading a tree whose inodes
 * were rounded, would restore two different files with links > 1 as hard links of one.
 */
import { lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTree, encodeTree, Names, nodeFromStat } from '../../../src/repository/tree.ts';
import { tempDir } from '../../helpers.ts';

function statWith(inode: bigint, device: bigint) {
  const file = path.join(tempDir('cairn-tree-numbers-'), 'a "quoted" name');
  writeFileSync(file, 'x');
  const stat = lstatSync(file, { bigint: true });
  Object.assign(stat, { ino: inode, dev: device, nlink: 2n });
  return stat;
}

test('an inode over 2^53 is written with all its digits; the tree reads back as the stat does', () => {
  const inode = 2n ** 60n + 1n; // as a JS number: 2^60, the same as the inode 2^60 + 2 reads
  const node = nodeFromStat('a "quoted" name', statWith(inode, 2049n), new Names());
  const text = encodeTree([node]).toString();
  assert.match(text, /"inode":1152921504606846977,"device_id":2049,/);
  assert.not.match(text, /exact/);
  const [read] = decodeTree(Buffer.from(text));
  assert.is(read.name, 'a "quoted" name');
  // Read back rounded, as nodeFromStat holds it: the unchanged-file check compares like with like.
  assert.is(read.inode, node.inode);
  assert.is(read.links, 2);
});

test('a device number over 2^53 too; numbers within 2^53 are written as before', () => {
  const big = nodeFromStat('big', statWith(7n, 2n ** 55n + 3n), new Names());
  assert.match(encodeTree([big]).toString(), /"inode":7,"device_id":36028797018963971,/);
  const small = nodeFromStat('small', statWith(123456n, 64768n), new Names());
  assert.is(small.exact, undefined);
  assert.match(encodeTree([small]).toString(), /"inode":123456,"device_id":64768,/);
});

test.run();
