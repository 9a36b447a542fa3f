/**
 * check: a clean repository (Cairn's and restic's) checks clean; a flipped byte in a pack is found
 * by reading the data, naming the pack and the blob; a missing pack, a truncated pack and a
 * snapshot whose tree is in no index are found by the structure check alone; a store that cannot be
 * read is REPOSITORY_UNREACHABLE, not a list of damage.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, check, initRepository, LocalBackend, openRepository, type Repository, type RepositoryBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { makeSourceTree } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

const PASSWORD = 'check me';
const work = tempDir('cairn-check-');
const source = path.join(work, 'source');
const repoDir = path.join(work, 'repo');

async function opened(dir = repoDir, backend: RepositoryBackend = new LocalBackend(dir)): Promise<Repository> {
  const repo = await openRepository(backend, PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** The repository's data packs, biggest first (the big file's data), with their paths. */
async function packs(dir = repoDir): Promise<Array<{ id: string; file: string; size: number }>> {
  const found = [];
  for (const sub of await fs.readdir(path.join(dir, 'data'))) {
    for (const id of await fs.readdir(path.join(dir, 'data', sub))) {
      const file = path.join(dir, 'data', sub, id);
      found.push({ id, file, size: (await fs.stat(file)).size });
    }
  }
  return found.sort((a, b) => b.size - a.size);
}

/** Runs `work` with `file` changed by `change`, putting the original back afterwards. */
async function withChanged(file: string, change: (bytes: Buffer) => Buffer | null, work: () => Promise<void>): Promise<void> {
  const original = await fs.readFile(file);
  const changed = change(Buffer.from(original));
  if (changed === null) await fs.rm(file);
  else await fs.writeFile(file, changed);
  try {
    await work();
  } finally {
    await fs.writeFile(file, original);
  }
}

test('a clean repository Cairn wrote checks clean, structure and every pack read back', async () => {
  await makeSourceTree(source, 4 * 1024 * 1024);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  await backup(await opened(), { paths: [source] });
  await fs.writeFile(path.join(source, 'second.txt'), 'second\n');
  await backup(await opened(), { paths: [source] });
  const result = await check(await opened(), { readDataPercent: 100 });
  assert.equal(result.errors, []);
  assert.equal(result.hints, []);
  assert.is(result.snapshots, 2);
  assert.is(result.packsRead, result.packs);
  assert.ok(result.blobs > 10);
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), [], 'the lock is released');
});

test('a repository restic made and filled checks clean', async () => {
  const dir = path.join(work, 'restic-repo');
  await resticOk(dir, PASSWORD, ['init', '--repository-version', '1']);
  await resticOk(dir, PASSWORD, ['backup', source]);
  const result = await check(await opened(dir), { readDataPercent: 100 });
  assert.equal(result.errors, []);
  assert.is(result.snapshots, 1);
});

test('a flipped byte in a pack: read-data names the pack and the blob; the structure check alone cannot see it', async () => {
  const [big] = await packs();
  await withChanged(big.file, (bytes) => {
    bytes[1000] ^= 0x01;
    return bytes;
  }, async () => {
    assert.equal((await check(await opened())).errors, [], 'the byte is inside a blob: sizes and headers still agree');
    const result = await check(await opened(), { readDataPercent: 100 });
    assert.equal(result.errors.map((e) => [e.subject, e.problem]), [['pack', 'damaged'], ['blob', 'damaged']]);
    assert.is(result.errors[0].id, big.id);
    assert.match(result.errors[0].message, big.file);
    assert.match(result.errors[1].message, big.file);
    // restic agrees there is damage.
    assert.is.not((await restic(repoDir, PASSWORD, ['check', '--read-data'])).code, 0);
  });
});

test('a missing pack is found without reading data, named, with what the index expected of it', async () => {
  const [big] = await packs();
  await withChanged(big.file, () => null, async () => {
    const result = await check(await opened());
    assert.equal(result.errors.map((e) => [e.subject, e.id, e.problem]), [['pack', big.id, 'missing']]);
    assert.match(result.errors[0].message, big.file);
    assert.match(result.errors[0].message, /is missing; the index lists \d+ blobs/);
  });
});

test('a truncated pack is a size error; a pack whose header was changed is a header error', async () => {
  const [big] = await packs();
  await withChanged(big.file, (bytes) => bytes.subarray(0, bytes.length - 10), async () => {
    const result = await check(await opened());
    assert.equal(result.errors.map((e) => [e.subject, e.id, e.problem]), [['pack', big.id, 'size']]);
  });
  await withChanged(big.file, (bytes) => {
    bytes[bytes.length - 20] ^= 0x01;
    return bytes;
  }, async () => {
    const result = await check(await opened());
    assert.equal(result.errors.map((e) => [e.subject, e.id, e.problem]), [['pack', big.id, 'header']]);
  });
});

test('a snapshot needing blobs no index lists: each named with the snapshot', async () => {
  const dir = path.join(work, 'lost-index');
  await initRepository(new LocalBackend(dir), PASSWORD);
  await fs.mkdir(path.join(work, 'small'));
  await fs.writeFile(path.join(work, 'small', 'a.txt'), 'a');
  const { snapshotId, tree } = await backup(await opened(dir), { paths: [path.join(work, 'small')] });
  for (const file of await fs.readdir(path.join(dir, 'index'))) await fs.rm(path.join(dir, 'index', file));
  const result = await check(await opened(dir));
  assert.equal(result.errors.map((e) => [e.subject, e.id, e.problem]), [['blob', tree, 'not_in_index']]);
  assert.match(result.errors[0].message, snapshotId);
  assert.ok(result.hints.some((hint) => hint.includes('in no index')), 'its packs are now unreferenced');
});

test('a compressed repository restic made (format 2, its default) checks clean, every compressed blob read and verified', async () => {
  const dir = path.join(work, 'repo-v2');
  await resticOk(dir, PASSWORD, ['init']);
  await resticOk(dir, PASSWORD, ['backup', path.join(source, 'docs')]);
  const result = await check(await openRepository(new LocalBackend(dir), PASSWORD), { readDataPercent: 100 });
  assert.equal(result.errors, []);
  assert.equal(result.hints, []);
  assert.ok(result.packsRead > 0 && result.packsRead === result.packs);
});

test('a store that fails to read is REPOSITORY_UNREACHABLE, and so is a repository that vanished (an unplugged drive)', async () => {
  const inner = new LocalBackend(repoDir);
  const failing: RepositoryBackend = {
    list: (folder) => inner.list(folder),
    stat: (file) => inner.stat(file),
    where: (file) => inner.where(file),
    write: (file, data) => inner.write(file, data),
    remove: (file) => inner.remove(file),
    async read(file, range) {
      if (file.startsWith('data/')) throw Object.assign(new Error('Input/output error'), { code: 'EIO' });
      return inner.read(file, range);
    },
  };
  const error = await check(await opened(repoDir, failing)).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_UNREACHABLE');
  assert.match(error.message, 'Input/output error');

  const moved = `${repoDir}-unplugged`;
  const repo = await opened();
  await fs.rename(repoDir, moved);
  await fs.mkdir(repoDir); // the empty mount point left behind
  try {
    const gone = await check(repo).catch((e) => e);
    assert.is(gone.code, 'REPOSITORY_UNREACHABLE');
  } finally {
    await fs.rm(repoDir, { recursive: true });
    await fs.rename(moved, repoDir);
  }
});

test.run();
