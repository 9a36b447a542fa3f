/**
 * A restore written pack by pack: many small files sharing packs (two with the same content, so
 * one blob goes to two files), a big file spanning packs and a copy of it (all its blobs shared),
 * restored byte for byte with modes and mtimes in far fewer reads than one per blob, as restic's
 * restore also reproduces it. Then damage: a changed byte in a pack of small files and a missing
 * pack of the big file fail the restore naming a file that needed it, and no file is left under its
 * name with wrong or partial content, nor any temp file.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, filePath, initRepository, LocalBackend, openRepository, restore, type RepositoryBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { folderBytes, summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'many small files';
const work = tempDir('cairn-by-pack-');
const source = path.join(work, 'source');
const repoDir = path.join(work, 'repo');
const SMALL_FILES = 400;
let snapshotId = '';
let sourceSummary: Awaited<ReturnType<typeof summarize>>;

/** A LocalBackend that counts the range reads of data packs. */
class CountingBackend extends LocalBackend {
  packReads = 0;
  override read(file: string, range?: { offset: number; length: number }): Promise<Buffer> {
    if (file.startsWith('data/')) this.packReads++;
    return super.read(file, range);
  }
}

async function opened(backend: RepositoryBackend = new LocalBackend(repoDir)) {
  const repo = await openRepository(backend, PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** Files whose bytes differ from the source's, and temp files, below `target` (what a user must never find). */
async function wrongOrTemp(target: string): Promise<string[]> {
  const bad: string[] = [];
  const restored = path.join(target, source);
  for (const entry of await fs.readdir(target, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.name.includes('.cairn-restore-')) bad.push(`temp ${full}`);
    else if (entry.isFile()) {
      const original = await fs.readFile(path.join(source, path.relative(restored, full)));
      if (!original.equals(await fs.readFile(full))) bad.push(`wrong ${full}`);
    }
  }
  return bad;
}

test('many small files sharing packs and a big file spanning packs restore byte for byte, in few reads', async () => {
  for (let i = 0; i < SMALL_FILES; i++) {
    const dir = path.join(source, `folder ${i % 7}`, i % 2 ? 'odd' : 'even');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, `small-${i}.bin`);
    await fs.writeFile(file, randomBytes(1 + ((i * 7919) % 40_000)));
    await fs.chmod(file, i % 3 ? 0o644 : 0o600);
    await fs.utimes(file, new Date(1_600_000_000_000 + i * 1000), new Date(1_600_000_000_000 + i * 1000));
  }
  await fs.writeFile(path.join(source, 'same-a.txt'), 'the same bytes in two files\n');
  await fs.writeFile(path.join(source, 'folder 3', 'same-b.txt'), 'the same bytes in two files\n');
  const big = randomBytes(40 * 1024 * 1024); // more than two 16 MiB packs
  await fs.writeFile(path.join(source, 'big.bin'), big);
  await fs.writeFile(path.join(source, 'big copy.bin'), big);
  await fs.symlink('big.bin', path.join(source, 'link'));
  await fs.utimes(path.join(source, 'folder 3'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  sourceSummary = await summarize(source);

  const repo = await initRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  const made = await backup(repo, { paths: [source] });
  snapshotId = made.snapshotId;

  const counting = new CountingBackend(repoDir);
  const before = await opened(counting);
  let dataBlobs = 0;
  let packBytes = 0;
  const packs = new Set<string>();
  for (let n = 0; n < before.index.size; n++) {
    const location = before.index.locationAt(n);
    if (location.type !== 'data') continue;
    dataBlobs++;
    packs.add(location.packId);
  }
  for (const id of packs) packBytes += (await fs.stat(path.join(repoDir, filePath('data', id)))).size;
  assert.ok(dataBlobs > SMALL_FILES, `${dataBlobs} data blobs`);
  assert.ok(packs.size >= 3, `the data spans ${packs.size} packs`);

  const target = path.join(work, 'restored');
  const result = await restore(before, { snapshot: 'latest', target });
  assert.equal(await summarize(path.join(target, source)), sourceSummary);
  assert.is(result.files, SMALL_FILES + 4);
  assert.is(result.bytes, await folderBytes(source));
  // Each pack's needed bytes are read in a few large reads (trees: their pack is read through its own
  // small reads), not blob by blob: here fewer than one read per 2 MiB of pack plus two a pack.
  const bound = Math.ceil(packBytes / (2 * 1024 * 1024)) + 2 * packs.size + 20;
  assert.ok(counting.packReads <= bound, `${counting.packReads} pack reads for ${dataBlobs} data blobs in ${packs.size} packs (at most ${bound})`);

  // restic, the judge, restores the same.
  const byRestic = path.join(work, 'restic-restored');
  await resticOk(repoDir, PASSWORD, ['restore', snapshotId, '--target', byRestic]);
  assert.equal(await summarize(path.join(byRestic, source)), sourceSummary);
});

test('a changed byte in a pack of small files: the restore fails naming a file that needed it; no wrong or partial file, no temp file', async () => {
  const repo = await opened();
  const id = createHash('sha256').update(await fs.readFile(path.join(source, 'folder 2', 'even', 'small-100.bin'))).digest();
  const location = repo.index.get(id)!;
  const pack = path.join(repoDir, filePath('data', location.packId));
  const original = await fs.readFile(pack);
  const changed = Buffer.from(original);
  changed[location.offset + 40] ^= 0x01;
  await fs.writeFile(pack, changed);
  try {
    const target = path.join(work, 'restore-damaged');
    const error = await restore(await opened(), { snapshot: snapshotId, target }).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_DAMAGED');
    assert.match(error.message, 'small-100.bin');
    assert.match(error.message, location.packId);
    const restoredDir = path.join(target, source);
    await fs.access(path.join(restoredDir, 'folder 2', 'even', 'small-100.bin')).then(
      () => assert.unreachable('the file with the damaged blob is not under its name'),
      () => undefined,
    );
    assert.equal(await wrongOrTemp(target), []);
  } finally {
    await fs.writeFile(pack, original);
  }
});

test('a missing pack of the big file: the restore fails naming it and the pack; neither copy is left, nor a temp file', async () => {
  const repo = await opened();
  const bytes = await fs.readFile(path.join(source, 'big.bin'));
  // A chunk from the middle of the big file: restic's chunks are at most 8 MiB, so this one starts past 12 MiB.
  let located: { packId: string } | null = null;
  for (let n = 0; n < repo.index.size && !located; n++) {
    const location = repo.index.locationAt(n);
    if (location.type === 'data' && location.length > 64 * 1024) {
      const head = (await repo.loadBlob(Buffer.from(repo.index.idAt(n)), 'probe')).subarray(0, 64);
      const at = bytes.indexOf(head);
      if (at > 20 * 1024 * 1024) located = location;
    }
  }
  assert.ok(located, 'a chunk of the big file past 20 MiB');
  const pack = path.join(repoDir, filePath('data', located!.packId));
  await fs.rename(pack, `${pack}.away`);
  try {
    const target = path.join(work, 'restore-missing');
    const error = await restore(await opened(), { snapshot: snapshotId, target }).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_FILE_MISSING');
    assert.match(error.message, /big( copy)?\.bin/);
    assert.match(error.message, located!.packId);
    const names: string[] = await fs.readdir(path.join(target, source)).catch(() => []);
    assert.not.ok(names.includes('big.bin') || names.includes('big copy.bin'), `neither big file under its name: ${names.join(', ')}`);
    assert.equal(await wrongOrTemp(target), []);
  } finally {
    await fs.rename(`${pack}.away`, pack);
  }
});

test('times on a whole millisecond come back on that millisecond, to the microsecond (a float of seconds lost one)', async () => {
  const dir = path.join(work, 'times');
  await fs.mkdir(dir);
  const file = path.join(dir, 'on-the-millisecond.txt');
  await fs.writeFile(file, 'kept at 12:00:00.123');
  // touch sets the exact nanoseconds; Node's utimes cannot (it takes a float of seconds).
  execFileSync('touch', ['-m', '-d', '@1733400000.123', file]);
  execFileSync('touch', ['-m', '-d', '@1733400000.999999', dir]);
  const repo = await opened();
  const made = await backup(repo, { paths: [dir] });
  const target = path.join(work, 'times-restored');
  await restore(await opened(), { snapshot: made.snapshotId, target });
  for (const original of [file, dir]) {
    const before = (await fs.stat(original, { bigint: true })).mtimeNs / 1000n;
    const after = (await fs.stat(path.join(target, original), { bigint: true })).mtimeNs / 1000n;
    assert.is(after, before, `${path.basename(original)}: mtime in microseconds`);
  }
});

test('owners and every kind of permission bit come back, whether or not the file was made with them (root restores)', async () => {
  const dir = path.join(work, 'owners');
  await fs.mkdir(dir);
  // [mode, uid, gid]: root's own files, another owner's, setuid/setgid/sticky, group- and world-writable, none at all.
  const files: Record<string, [number, number, number]> = {
    'root 644': [0o644, 0, 0],
    'root 755': [0o755, 0, 0],
    'user 600': [0o600, 1000, 1000],
    'user 664': [0o664, 1000, 1000],
    'other group 640': [0o640, 0, 1234],
    'setuid 4755': [0o4755, 0, 0],
    'setgid 2755 user': [0o2755, 1000, 1000],
    'sticky 1644': [0o1644, 0, 0],
    'world-writable 666': [0o666, 1000, 1000],
    'nothing 000': [0o000, 0, 0],
    'read-only 444': [0o444, 1000, 1000],
  };
  for (const [name, [mode, uid, gid]] of Object.entries(files)) {
    const file = path.join(dir, name);
    await fs.writeFile(file, name);
    await fs.chown(file, uid, gid);
    await fs.chmod(file, mode);
  }
  const repo = await opened();
  const made = await backup(repo, { paths: [dir] });
  const target = path.join(work, 'owners-restored');
  await restore(await opened(), { snapshot: made.snapshotId, target });
  for (const [name, [mode, uid, gid]] of Object.entries(files)) {
    const stat = await fs.stat(path.join(target, dir, name));
    assert.equal([(stat.mode & 0o7777).toString(8), stat.uid, stat.gid], [mode.toString(8), uid, gid], name);
    assert.is(await fs.readFile(path.join(target, dir, name), 'utf8'), name);
  }
});

test.run();
