/**
 * Failures of the store mid-backup, through a wrapper that fails the nth pack write (as restic's
 * tests wrap a backend): the backup rejects, no snapshot and no index names a pack that is not
 * there, restic checks the repository clean, and the next backup succeeds.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, type RepositoryBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { makeSourceTree, summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'faults';

/**
 * A local backend whose `failAt`-th write of a pack fails, like a disk that fills up: packs given
 * as files (`writeFile`, what LocalBackend takes), or with `inMemory` as bytes (a backend without
 * `writeFile`).
 */
function failingBackend(root: string, failAt: number, inMemory = false): RepositoryBackend {
  const inner = new LocalBackend(root);
  let packs = 0;
  const fileWrites: Pick<RepositoryBackend, 'writeFile' | 'tempFolder'> = {
    tempFolder: () => inner.tempFolder(),
    async writeFile(file, localFile) {
      if (++packs === failAt) {
        await fs.rm(localFile);
        throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
      }
      return inner.writeFile(file, localFile);
    },
  };
  return {
    ...(inMemory ? {} : fileWrites),
    list: (folder) => inner.list(folder),
    read: (file, range) => inner.read(file, range),
    remove: (file) => inner.remove(file),
    stat: (file) => inner.stat(file),
    where: (file) => inner.where(file),
    prepare: () => inner.prepare(),
    async write(file, data) {
      if (file.startsWith('data/') && ++packs === failAt) throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
      return inner.write(file, data);
    },
  };
}

/** Files left in the repository's data/ folder that are not packs (a pack being filled that was never removed). */
async function leftovers(repoDir: string): Promise<string[]> {
  const names = await fs.readdir(path.join(repoDir, 'data'), { recursive: true });
  return names.filter((name) => name.includes('.cairn-tmp-'));
}

for (const inMemory of [false, true]) {
  test(`a pack write failing mid-backup fails the backup, leaves a repository restic checks clean, and the next run succeeds (packs ${inMemory ? 'in memory' : 'in files'})`, async () => {
    const work = tempDir('cairn-faults-');
    const source = path.join(work, 'source');
    const repoDir = path.join(work, 'repo');
    await makeSourceTree(source, 40 * 1024 * 1024);
    await initRepository(new LocalBackend(repoDir), PASSWORD);
    const repo = await openRepository(failingBackend(repoDir, 2, inMemory), PASSWORD);
    await repo.loadIndex();
    const error = await backup(repo, { paths: [source] }).catch((e) => e);
    assert.instance(error, Error);
    assert.match(error.message, 'No space left');
    assert.equal(await fs.readdir(path.join(repoDir, 'snapshots')), []);
    assert.equal(await fs.readdir(path.join(repoDir, 'locks')), [], 'the lock is released');
    assert.equal(await leftovers(repoDir), [], 'no pack being filled is left behind');
    await resticOk(repoDir, PASSWORD, ['check']);

    // The same open repository (as a daemon keeps it) backs up again: blobs of the pack that failed
    // are stored again, not trusted as written.
    const result = await backup(repo, { paths: [source] });
    await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
    const snapshots = JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json']));
    assert.equal(snapshots.map((s: { id: string }) => s.id), [result.snapshotId]);
    assert.equal(await leftovers(repoDir), []);
  });
}

test('cancelling mid-backup rejects, releases the lock, and leaves a repository restic checks clean', async () => {
  const work = tempDir('cairn-faults-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await makeSourceTree(source, 40 * 1024 * 1024);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const repo = await openRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  const controller = new AbortController();
  const error = await backup(repo, {
    paths: [source],
    signal: controller.signal,
    onProgress: (progress) => {
      if (progress.bytesRead > 20 * 1024 * 1024) controller.abort();
    },
  }).catch((e) => e);
  assert.is(error.name, 'AbortError');
  assert.equal(await fs.readdir(path.join(repoDir, 'snapshots')), []);
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), []);
  assert.equal(await leftovers(repoDir), [], 'the packs being filled are removed');
  await resticOk(repoDir, PASSWORD, ['check']);
  // The same open repository backs up again, storing what the cancelled run had not written yet.
  const result = await backup(repo, { paths: [source] });
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const target = path.join(work, 'restored');
  await resticOk(repoDir, PASSWORD, ['restore', result.snapshotId, '--target', target]);
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
});

test('a missing source fails the backup before anything is written', async () => {
  const work = tempDir('cairn-faults-');
  const repoDir = path.join(work, 'repo');
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const repo = await openRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  await fs.mkdir(path.join(work, 'here'));
  const error = await backup(repo, { paths: [path.join(work, 'here'), path.join(work, 'unplugged')] }).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_SOURCE_MISSING');
  assert.match(error.message, path.join(work, 'unplugged'));
  assert.equal(await fs.readdir(path.join(repoDir, 'snapshots')), []);
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), []);
});

test.run();
