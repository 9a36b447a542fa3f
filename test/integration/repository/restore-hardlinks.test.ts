/**
 * Hard links come back as hard links, as restic's restore makes them: a file with three names in
 * two folders, an empty file with two, and a file whose other name is outside the backed-up folder
 * (a plain file then). Cairn's restore and restic's own agree, of Cairn's snapshot and of one
 * restic wrote; a restore of some of the names links those it restores, and one name alone is a
 * plain file. Two files whose inode numbers JavaScript reads as one (over 2^53) stay two. A name
 * whose first (restored in an earlier batch) was removed or replaced before its link is made gets
 * its content written instead: never a link to a symlink's target or another file.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, promises as fs, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, restore, type Repository } from '../../../src/repository/index.ts';
import { BATCH_FILES } from '../../../src/repository/restore-content.ts';
import { findSnapshot, saveSnapshot } from '../../../src/repository/snapshots.ts';
import { decodeTree, type TreeNode } from '../../../src/repository/tree.ts';
import { tempDir } from '../../helpers.ts';
import { summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'hard links';
const work = tempDir('cairn-hardlinks-');
const source = path.join(work, 'source');
const repoDir = path.join(work, 'repo');
const BIG = randomBytes(3 * 1024 * 1024 + 5);
const PAST = new Date('2022-05-06T07:08:09.250Z');
let snapshotId = '';
let sourceSummary: Awaited<ReturnType<typeof summarize>>;

async function opened(dir = repoDir): Promise<Repository> {
  const repo = await openRepository(new LocalBackend(dir), PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** The names below `root` (relative) grouped by inode, only groups of two or more, sorted: what `ls -i` shows a user. */
async function linkGroups(root: string): Promise<string[][]> {
  const byInode = new Map<bigint, string[]>();
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const { ino } = await fs.stat(full, { bigint: true });
    byInode.set(ino, [...(byInode.get(ino) ?? []), path.relative(root, full)]);
  }
  return [...byInode.values()].filter((names) => names.length > 1).map((names) => names.sort()).sort();
}

const GROUPS = [
  ['a/big second.bin', 'a/big.bin', 'b/big third.bin'],
  ['a/empty', 'b/empty again'],
];

/** The restored tree under `root` is the source's: bytes, modes, mtimes, links; the half-outside file a plain file. */
async function assertRestored(root: string): Promise<void> {
  assert.equal(await summarize(root), sourceSummary);
  assert.equal(await linkGroups(root), GROUPS);
  const big = await fs.stat(path.join(root, 'a/big.bin'));
  assert.is(big.nlink, 3);
  assert.is(big.mode & 0o7777, 0o640);
  assert.is(big.mtime.getTime(), PAST.getTime());
  assert.is(big.uid, 1234);
  assert.is((await fs.stat(path.join(root, 'half outside.txt'))).nlink, 1);
}

test('a file with three names in two folders restores as one inode, as restic restores it', async () => {
  await fs.mkdir(path.join(source, 'a'), { recursive: true });
  await fs.mkdir(path.join(source, 'b'));
  await fs.writeFile(path.join(source, 'a/big.bin'), BIG);
  await fs.chmod(path.join(source, 'a/big.bin'), 0o640);
  await fs.chown(path.join(source, 'a/big.bin'), 1234, 1234);
  await fs.utimes(path.join(source, 'a/big.bin'), PAST, PAST);
  await fs.link(path.join(source, 'a/big.bin'), path.join(source, 'a/big second.bin'));
  await fs.link(path.join(source, 'a/big.bin'), path.join(source, 'b/big third.bin'));
  await fs.writeFile(path.join(source, 'a/empty'), '');
  await fs.link(path.join(source, 'a/empty'), path.join(source, 'b/empty again'));
  await fs.writeFile(path.join(source, 'half outside.txt'), 'my other name is not backed up\n');
  await fs.link(path.join(source, 'half outside.txt'), path.join(work, 'outside name.txt'));
  await fs.writeFile(path.join(source, 'b/plain.txt'), 'no links\n');
  sourceSummary = await summarize(source);

  const repo = await initRepository(new LocalBackend(repoDir), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
  await repo.loadIndex();
  snapshotId = (await backup(repo, { paths: [source] })).snapshotId;

  const target = path.join(work, 'by cairn');
  const result = await restore(await opened(), { snapshot: snapshotId, target });
  await assertRestored(path.join(target, source));
  // Every name is a file restored; the linked content is written once.
  assert.is(result.files, 7);
  assert.is(result.bytes, BIG.length + 'my other name is not backed up\n'.length + 'no links\n'.length);

  const byRestic = path.join(work, 'by restic');
  await resticOk(repoDir, PASSWORD, ['restore', snapshotId, '--target', byRestic]);
  await assertRestored(path.join(byRestic, source));
});

test('a restore of some names links those it restores; one name alone is a plain file', async () => {
  const target = path.join(work, 'some');
  await restore(await opened(), { snapshot: snapshotId, target, include: [path.join(source, 'a'), path.join(source, 'b/plain.txt')] });
  const root = path.join(target, source);
  assert.equal(await linkGroups(root), [['a/big second.bin', 'a/big.bin']]);
  assert.is((await fs.stat(path.join(root, 'a/big.bin'))).nlink, 2);
  assert.is((await fs.stat(path.join(root, 'a/empty'))).nlink, 1);

  const alone = path.join(work, 'alone');
  const result = await restore(await opened(), { snapshot: snapshotId, target: alone, include: [path.join(source, 'b/big third.bin')] });
  const third = path.join(alone, source, 'b/big third.bin');
  assert.is((await fs.stat(third)).nlink, 1);
  assert.ok(readFileSync(third).equals(BIG));
  assert.is(result.files, 1);
  assert.is(result.bytes, BIG.length);
});

test('a snapshot restic wrote with hard links restores through Cairn with the same links', async () => {
  const resticRepo = path.join(work, 'restic repo');
  await resticOk(resticRepo, PASSWORD, ['init']);
  await resticOk(resticRepo, PASSWORD, ['backup', source]);
  const target = path.join(work, 'from restic');
  await restore(await opened(resticRepo), { snapshot: 'latest', target });
  await assertRestored(path.join(target, source));
});

test('two files whose inode numbers read the same in JavaScript (over 2^53) are not linked: each keeps its bytes', async () => {
  // As restic writes them, exact in the JSON (an overlayfs inode carries its layer in the high bits).
  const repo = await opened();
  const snapshot = await findSnapshot(repo, snapshotId);
  let nodes = decodeTree(await repo.loadBlob(Buffer.from(snapshot.tree, 'hex'), 'root'));
  for (const part of [...source.split('/').filter(Boolean), 'b']) nodes = decodeTree(await repo.loadBlob(Buffer.from(nodes.find((n) => n.name === part)!.subtree!, 'hex'), part));
  const plain = nodes.find((n) => n.name === 'plain.txt')!;
  const third = nodes.find((n) => n.name === 'big third.bin')!;
  const file = (name: string, inode: string, node: TreeNode) =>
    `{"name":"${name}","type":"file","mode":420,"mtime":"2024-01-02T03:04:05Z","uid":0,"gid":0,"inode":${inode},"device_id":66,"size":${node.size},"links":2,"content":${JSON.stringify(node.content)}}`;
  assert.is(Number('9223372036854775809'), Number('9223372036854776000'), 'the two inode numbers read the same');
  const tree = `{"nodes":[${file('one', '9223372036854775809', third)},${file('two', '9223372036854776000', plain)}]}\n`;
  const { id } = await repo.saveBlob('tree', Buffer.from(tree));
  await repo.flush();
  const collided = await saveSnapshot(repo, { time: new Date().toISOString(), tree: id.toString('hex'), paths: ['/collided'], hostname: 'test' });

  const target = path.join(work, 'collided');
  await restore(await opened(), { snapshot: collided, target });
  assert.ok(readFileSync(path.join(target, 'one')).equals(BIG), 'one has its own bytes');
  assert.ok(readFileSync(path.join(target, 'two')).equals(Buffer.from('no links\n')), 'two has its own bytes');
  assert.is((await fs.stat(path.join(target, 'two'))).nlink, 1);
  const byRestic = path.join(work, 'collided by restic');
  await resticOk(repoDir, PASSWORD, ['restore', collided, '--target', byRestic]);
  assert.ok(readFileSync(path.join(byRestic, 'two')).equals(Buffer.from('no links\n')), 'restic agrees');
});

/** A local repository that runs `hook` before each data pack read until it answers true. */
class HookedBackend extends LocalBackend {
  hook: (() => boolean) | null = null;
  override async readInto(file: string, offset: number, into: Buffer): Promise<void> {
    if (file.startsWith('data/') && this.hook?.()) this.hook = null;
    return super.readInto(file, offset, into);
  }
}

test('a link whose first name was written in an earlier batch, then removed or replaced, gets its content written: nothing else is linked', async () => {
  // a/ holds two firsts (batch 1), filler/ ends batch 1, y.bin's read is where the firsts are
  // tampered with (batch 2), z/ holds their later names: kept is linked, tampered is written.
  const tree = path.join(work, 'batches');
  await fs.mkdir(path.join(tree, 'a'), { recursive: true });
  await fs.mkdir(path.join(tree, 'filler'));
  await fs.mkdir(path.join(tree, 'z'));
  const kept = randomBytes(100_000);
  const tampered = randomBytes(100_000);
  await fs.writeFile(path.join(tree, 'a/kept.bin'), kept);
  await fs.writeFile(path.join(tree, 'a/tampered.bin'), tampered);
  await fs.link(path.join(tree, 'a/kept.bin'), path.join(tree, 'z/kept link.bin'));
  await fs.link(path.join(tree, 'a/tampered.bin'), path.join(tree, 'z/tampered link.bin'));
  for (let i = 0; i < BATCH_FILES; i++) await fs.writeFile(path.join(tree, 'filler', `f${i}`), '');
  await fs.writeFile(path.join(tree, 'y.bin'), randomBytes(50_000));
  const victim = path.join(work, 'victim');
  writeFileSync(victim, 'not to be linked\n');

  const repoBatches = path.join(work, 'repo batches');
  const created = await initRepository(new LocalBackend(repoBatches), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
  await created.loadIndex();
  await backup(created, { paths: [tree] });

  const replacements: Record<string, (file: string) => void> = {
    removed: (file) => rmSync(file),
    'a symlink': (file) => {
      rmSync(file);
      symlinkSync(victim, file);
    },
    // What a user who may write in the folder can make: the same bytes, mode and mtime (even,
    // freed, the same inode number), but owned by that user.
    'another file': (file) => {
      const before = statSync(file, { bigint: true });
      rmSync(file);
      writeFileSync(file, tampered, { mode: Number(before.mode) & 0o7777 });
      chownSync(file, 4321, 4321);
      // The float the restore gives utimes (restore.ts toSeconds), so that the nanoseconds match.
      const seconds = (Number(before.mtimeNs / 1000n) + 0.25) / 1e6;
      utimesSync(file, seconds, seconds);
      const after = statSync(file, { bigint: true });
      assert.is(after.mtimeNs, before.mtimeNs, 'the replacement has the same mtime');
      assert.is(after.mode, before.mode, 'and mode');
    },
  };
  for (const [how, replace] of Object.entries(replacements)) {
    const backend = new HookedBackend(repoBatches);
    const repo = await openRepository(backend, PASSWORD);
    await repo.loadIndex();
    const target = path.join(work, `batches ${how}`);
    const root = path.join(target, tree);
    let tamperedAt = false;
    backend.hook = () => {
      // Once batch 1 is written, at the first data read of batch 2 (y.bin's).
      if (!existsSync(path.join(root, 'a/tampered.bin'))) return false;
      replace(path.join(root, 'a/tampered.bin'));
      return (tamperedAt = true);
    };
    const result = await restore(repo, { snapshot: 'latest', target });
    assert.ok(tamperedAt, `${how}: the first name was replaced between the batches`);
    assert.is((await fs.stat(path.join(root, 'z/kept link.bin'))).ino, (await fs.stat(path.join(root, 'a/kept.bin'))).ino, `${how}: the untouched link is a link`);
    const link = await fs.lstat(path.join(root, 'z/tampered link.bin'));
    assert.ok(link.isFile(), `${how}: a regular file`);
    assert.is(link.nlink, 1, `${how}: linked to nothing`);
    assert.ok(readFileSync(path.join(root, 'z/tampered link.bin')).equals(tampered), `${how}: its own content`);
    assert.is((await fs.stat(victim)).nlink, 1, `${how}: the symlink's target was not linked`);
    assert.is(readFileSync(victim, 'utf8'), 'not to be linked\n');
    assert.equal((await fs.readdir(target, { recursive: true })).filter((name) => name.includes('.cairn-restore-')), [], `${how}: no temp left`);
    assert.is(result.files, BATCH_FILES + 5);
  }
});

test.run();
