/**
 * forget + prune on local repositories, restic 0.14 the judge: after Cairn forgets and prunes,
 * `restic check --read-data` is clean, the kept snapshot restores byte for byte, and the repository
 * holds fewer bytes. The same on a repository restic made and filled. Locks both ways.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { backup, forget, initRepository, LocalBackend, openRepository, prune, restore, type Repository, type RepositoryBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';
import { folderBytes, makeSourceTree, summarize } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

const PASSWORD = 'prune me';
const keepLast = (n: number) => ({ ...emptyRetentionPolicy(), keep_last: n });
const context = { now: new Date('2026-06-01T12:00:00Z'), timeZone: 'UTC' };

async function opened(dir: string, backend: RepositoryBackend = new LocalBackend(dir)): Promise<Repository> {
  const repo = await openRepository(backend, PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** Three states of a source: the test tree, then edits and deletions twice (new big content each time). */
async function editSource(source: string, round: number): Promise<void> {
  await fs.writeFile(path.join(source, 'big.bin'), randomBytes(6 * 1024 * 1024));
  // Each round's new file replaces the last round's, so what a forgotten round alone added (big
  // content, this file, its trees) leaves whole packs unused.
  await fs.rm(path.join(source, `added in round ${round - 1}.txt`), { force: true });
  await fs.writeFile(path.join(source, `added in round ${round}.txt`), `round ${round}\n`);
  await fs.writeFile(path.join(source, 'docs/readme.txt'), `edited in round ${round}\n`);
  if (round === 1) await fs.rm(path.join(source, 'medium.bin'));
  if (round === 2) await fs.rm(path.join(source, 'Фото 2026'), { recursive: true });
}

test('three backups with edits and deletions, forget keep_last 1 and prune: restic checks clean, restores the latest, the repository shrank', async () => {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await makeSourceTree(source, 8 * 1024 * 1024);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const ids: string[] = [];
  for (let round = 0; round < 3; round++) {
    if (round > 0) await editSource(source, round);
    const result = await backup(await opened(repoDir), { paths: [source], tags: ['job-1'], time: new Date(Date.UTC(2026, 4, 1 + round)) });
    ids.push(result.snapshotId);
  }
  const before = await folderBytes(path.join(repoDir, 'data'));

  const repo = await opened(repoDir);
  const forgotten = await forget(repo, keepLast(1), context);
  assert.equal(forgotten.keep.map((k) => [k.id, k.reasons.map((r) => r.rule)]), [[ids[2], ['keep_last']]]);
  assert.equal(forgotten.remove.map((r) => r.id), [ids[1], ids[0]]);
  assert.equal(JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json'])).map((s: { id: string }) => s.id), [ids[2]]);

  const result = await prune(repo, { maxUnusedPercent: 0 });
  assert.ok(result.packsRemoved >= 1, `packs removed whole: ${result.packsRemoved}`);
  assert.ok(result.packsRepacked >= 1, `packs repacked: ${result.packsRepacked}`);
  assert.ok(result.blobsRemoved > 0);
  const after = await folderBytes(path.join(repoDir, 'data'));
  assert.ok(after < before - 12 * 1024 * 1024, `data went from ${before} to ${after} bytes`);
  assert.is(result.bytesFreed, before - after, 'the result tells the bytes freed as the disk shows them');
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), [], 'the exclusive lock is released');

  const checked = await restic(repoDir, PASSWORD, ['check', '--read-data']);
  assert.is(checked.code, 0, checked.stdout + checked.stderr);
  assert.not.match(checked.stdout, /not referenced|several indexes|additional files/, checked.stdout);
  const target = path.join(work, 'restored');
  await resticOk(repoDir, PASSWORD, ['restore', 'latest', '--target', target]);
  assert.equal(await summarize(path.join(target, source)), await summarize(source));

  // The same open repository (its index replaced by prune's) backs up and restores again.
  await editSource(source, 3);
  const next = await backup(repo, { paths: [source], tags: ['job-1'] });
  const again = path.join(work, 'restored-again');
  await restore(await opened(repoDir), { snapshot: next.snapshotId, target: again });
  assert.equal(await summarize(path.join(again, source)), await summarize(source));
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
});

test('forget with a job tag leaves the other jobs` snapshots alone, and never removes the newest', async () => {
  const work = tempDir('cairn-prune-');
  const repoDir = path.join(work, 'repo');
  const a = path.join(work, 'a');
  const b = path.join(work, 'b');
  await fs.mkdir(a);
  await fs.mkdir(b);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const byTag: Record<string, string[]> = { 'job-a': [], 'job-b': [] };
  for (let day = 1; day <= 3; day++) {
    await fs.writeFile(path.join(a, 'a.txt'), `a ${day}`);
    await fs.writeFile(path.join(b, 'b.txt'), `b ${day}`);
    byTag['job-a'].push((await backup(await opened(repoDir), { paths: [a], tags: ['job-a'], time: new Date(Date.UTC(2026, 4, day)) })).snapshotId);
    byTag['job-b'].push((await backup(await opened(repoDir), { paths: [b], tags: ['job-b'], time: new Date(Date.UTC(2026, 4, day, 1)) })).snapshotId);
  }
  const repo = await opened(repoDir);
  // keep_daily 1 with day buckets would keep a's newest anyway; a within-span that reaches no
  // snapshot keeps none, so only the safeguard keeps the newest.
  const result = await forget(repo, { ...emptyRetentionPolicy(), keep_within: '1h' }, { ...context, jobTag: 'job-a' });
  assert.equal(result.keep.map((k) => k.id), [byTag['job-a'][2]]);
  assert.equal(result.keep[0].reasons.map((r) => r.rule), ['keep_within']);
  const left = JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json'])).map((s: { id: string }) => s.id).sort();
  assert.equal(left, [byTag['job-a'][2], ...byTag['job-b']].sort());

  const dry = await forget(repo, keepLast(1), { ...context, jobTag: 'job-b', dryRun: true });
  assert.is(dry.remove.length, 2);
  assert.is(JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json'])).length, 4, 'a dry run removes nothing');

  await prune(repo);
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const target = path.join(work, 'restored');
  await resticOk(repoDir, PASSWORD, ['restore', byTag['job-b'][0], '--target', target]);
  assert.is(await fs.readFile(path.join(target, b, 'b.txt'), 'utf8'), 'b 1');
});

test('a repository restic made and filled, restic forgets, Cairn prunes: restic checks it clean and restores it', async () => {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await makeSourceTree(source, 8 * 1024 * 1024);
  await resticOk(repoDir, PASSWORD, ['init', '--repository-version', '1']);
  for (let round = 0; round < 3; round++) {
    if (round > 0) await editSource(source, round);
    await resticOk(repoDir, PASSWORD, ['backup', source]);
  }
  await resticOk(repoDir, PASSWORD, ['forget', '--keep-last', '1']);
  const before = await folderBytes(path.join(repoDir, 'data'));
  const result = await prune(await opened(repoDir));
  assert.ok(result.packsRemoved + result.packsRepacked >= 1, JSON.stringify(result));
  assert.ok(await folderBytes(path.join(repoDir, 'data')) < before);
  const checked = await restic(repoDir, PASSWORD, ['check', '--read-data']);
  assert.is(checked.code, 0, checked.stdout + checked.stderr);
  const target = path.join(work, 'restored');
  await resticOk(repoDir, PASSWORD, ['restore', 'latest', '--target', target]);
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
  // And restic's own prune finds nothing left to do but accepts what Cairn wrote.
  const resticPrune = await resticOk(repoDir, PASSWORD, ['prune']);
  assert.match(resticPrune, /done/);
});

test('prune refuses while restic holds a lock, and restic refuses while Cairn prunes', async () => {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await fs.mkdir(source);
  await fs.writeFile(path.join(source, 'one.txt'), 'one');
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  await backup(await opened(repoDir), { paths: [source] });
  await fs.writeFile(path.join(source, 'one.txt'), 'two');
  await backup(await opened(repoDir), { paths: [source] });
  await forget(await opened(repoDir), keepLast(1), context);

  // restic's own lock, held by a running `restic backup --stdin`.
  const child = spawn('restic', ['-r', repoDir, '--no-cache', 'backup', '--stdin', '--stdin-filename', 'stream.txt'], {
    env: { ...process.env, RESTIC_PASSWORD: PASSWORD },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await waitFor('restic`s lock file', async () => (await fs.readdir(path.join(repoDir, 'locks'))).length === 1 || null, 30_000);
    const error = await prune(await opened(repoDir)).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_LOCKED');
    assert.match(error.message, String(child.pid));
  } finally {
    child.stdin.end('streamed\n');
  }
  assert.is(await done, 0);

  // Cairn's prune paused on its way (its first index write waits): restic's backup is refused.
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const atIndex = new Promise<void>((resolve) => (reached = resolve));
  const inner = new LocalBackend(repoDir);
  const pausing: RepositoryBackend = {
    list: (folder) => inner.list(folder),
    read: (file, range) => inner.read(file, range),
    remove: (file) => inner.remove(file),
    stat: (file) => inner.stat(file),
    where: (file) => inner.where(file),
    async write(file, data) {
      if (file.startsWith('index/')) {
        reached();
        await paused;
      }
      return inner.write(file, data);
    },
  };
  const pruning = prune(await opened(repoDir, pausing), { maxUnusedPercent: 0 });
  await atIndex;
  const refused = await restic(repoDir, PASSWORD, ['backup', source]);
  release();
  const result = await pruning;
  assert.is.not(refused.code, 0);
  assert.match(refused.stderr, /locked exclusively/);
  assert.ok(result.indexFilesWritten >= 1);
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
});

test('a snapshot whose blob is in no index: prune refuses and changes nothing', async () => {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await fs.mkdir(source);
  await fs.writeFile(path.join(source, 'one.txt'), 'one');
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  await backup(await opened(repoDir), { paths: [source] });
  const indexDir = path.join(repoDir, 'index');
  const [indexFile] = await fs.readdir(indexDir);
  await fs.rename(path.join(indexDir, indexFile), path.join(work, 'index-away'));
  const packs = await folderBytes(path.join(repoDir, 'data'));
  const error = await prune(await opened(repoDir)).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_DAMAGED');
  assert.match(error.message, /in no index/);
  assert.is(await folderBytes(path.join(repoDir, 'data')), packs, 'no pack was removed');
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), []);
});

test('a removal that fails after the new index is written: the same open repository still restores (its index is the new one)', async () => {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await makeSourceTree(source, 2 * 1024 * 1024);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  await backup(await opened(repoDir), { paths: [source], time: new Date(Date.UTC(2026, 4, 1)) });
  await editSource(source, 1);
  await backup(await opened(repoDir), { paths: [source], time: new Date(Date.UTC(2026, 4, 2)) });
  await forget(await opened(repoDir), keepLast(1), context);
  // A copy pruned first tells how many packs go; the real prune fails on the last one, after
  // removing it (a connection lost once the server acted), so every old pack is gone.
  await fs.cp(repoDir, `${repoDir}-copy`, { recursive: true });
  const trial = await prune(await opened(`${repoDir}-copy`), { maxUnusedPercent: 0 });
  const goners = trial.packsRemoved + trial.packsRepacked;
  assert.ok(trial.packsRepacked >= 1);
  const inner = new LocalBackend(repoDir);
  let removals = 0;
  const failing: RepositoryBackend = {
    list: (folder) => inner.list(folder),
    read: (file, range) => inner.read(file, range),
    stat: (file) => inner.stat(file),
    where: (file) => inner.where(file),
    write: (file, data) => inner.write(file, data),
    async remove(file) {
      await inner.remove(file);
      if (file.startsWith('data/') && ++removals === goners) throw Object.assign(new Error('Connection reset'), { code: 'ECONNRESET' });
    },
  };
  const repo = await opened(repoDir, failing);
  const error = await prune(repo, { maxUnusedPercent: 0 }).catch((e) => e);
  assert.match(error.message, 'Connection reset');
  const target = path.join(work, 'restored');
  await restore(repo, { snapshot: 'latest', target });
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
});

/**
 * A repository of 300 files of 30 kB in one pack, in name order, whose first half is gone from the
 * source and forgotten (only the second snapshot kept): a long unused stretch for prune to repack.
 */
async function halfForgotten() {
  const work = tempDir('cairn-prune-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await fs.mkdir(source);
  const name = (i: number) => path.join(source, `f${String(i).padStart(3, '0')}.bin`);
  for (let i = 0; i < 300; i++) await fs.writeFile(name(i), randomBytes(30_000));
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  await backup(await opened(repoDir), { paths: [source], time: new Date(Date.UTC(2026, 4, 1)) });
  for (let i = 0; i < 150; i++) await fs.rm(name(i));
  await backup(await opened(repoDir), { paths: [source], time: new Date(Date.UTC(2026, 4, 2)) });
  await forget(await opened(repoDir), keepLast(1), context);
  return { work, source, repoDir, name };
}

test('a repack reads the used blobs of a pack, not the whole pack: restic checks clean, the kept snapshot restores', async () => {
  const { work, source, repoDir } = await halfForgotten();
  const packBytes = await folderBytes(path.join(repoDir, 'data'));

  const inner = new LocalBackend(repoDir);
  let dataBytesRead = 0;
  const counting: RepositoryBackend = {
    list: (folder) => inner.list(folder),
    async read(file, range) {
      const bytes = await inner.read(file, range);
      if (file.startsWith('data/')) dataBytesRead += bytes.length;
      return bytes;
    },
    stat: (file) => inner.stat(file),
    where: (file) => inner.where(file),
    write: (file, data) => inner.write(file, data),
    remove: (file) => inner.remove(file),
  };
  const result = await prune(await opened(repoDir, counting), { maxUnusedPercent: 0 });
  assert.ok(result.packsRepacked >= 1, `repacked ${result.packsRepacked}`);
  // The half kept (4.5 MB) and the trees, not the whole 9 MB pack.
  assert.ok(dataBytesRead < packBytes * 0.7, `read ${dataBytesRead} bytes of packs holding ${packBytes}`);
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const target = path.join(work, 'restored');
  await restore(await opened(repoDir), { snapshot: 'latest', target });
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
});

test('a damaged blob among those a repack copies: prune refuses (REPOSITORY_DAMAGED), removes nothing and leaves no pack file behind', async () => {
  const { repoDir, name } = await halfForgotten();
  // One byte of a kept file's blob (a file under 512 KiB is one blob, named by its SHA-256) flipped in its pack.
  const id = createHash('sha256').update(await fs.readFile(name(299))).digest();
  const location = (await opened(repoDir)).index.get(id)!;
  const packFile = path.join(repoDir, 'data', location.packId.slice(0, 2), location.packId);
  const pack = await fs.readFile(packFile);
  pack[location.offset + 100] ^= 0x01;
  await fs.writeFile(packFile, pack);
  const indexFiles = await fs.readdir(path.join(repoDir, 'index'));

  const error = await prune(await opened(repoDir), { maxUnusedPercent: 0 }).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_DAMAGED');
  assert.match(error.message, 'nothing was pruned');
  assert.equal(await fs.readdir(path.join(repoDir, 'index')), indexFiles, 'the index is as it was');
  assert.ok((await fs.readFile(packFile)).equals(pack), 'the damaged pack is still there');
  assert.equal((await fs.readdir(path.join(repoDir, 'data'), { recursive: true })).filter((f) => f.includes('.cairn-tmp-')), []);
  assert.equal(await fs.readdir(path.join(repoDir, 'locks')), []);
});

test('a repository that vanished (an unplugged drive`s empty mount point) is REPOSITORY_UNREACHABLE, and nothing is written there', async () => {
  const work = tempDir('cairn-prune-');
  const repoDir = path.join(work, 'repo');
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const repo = await opened(repoDir);
  await fs.rename(repoDir, `${repoDir}-unplugged`);
  await fs.mkdir(repoDir);
  const error = await prune(repo).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_UNREACHABLE');
  assert.equal(await fs.readdir(repoDir), []);
});

test.run();
