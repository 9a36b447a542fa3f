/**
 * A repository restic made and filled: Cairn opens it with the password, restores restic's
 * snapshot byte for byte, backs up into it (restic then checks it clean), honours restic's
 * exclusive lock; and the failures a user must see clearly: wrong password, a changed byte in a
 * pack, a missing pack. (restic's default, format version 2 with zstd: format-v2.test.ts.)
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, backup, LocalBackend, openRepository, restore, type Repository } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';
import { makeSourceTree, summarize } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

const PASSWORD = 'restic made this';
const work = tempDir('cairn-restic-');
const source = path.join(work, 'source');
const repoDir = path.join(work, 'repo');
let resticSnapshot = '';
let sourceSummary: Awaited<ReturnType<typeof summarize>>;

async function opened(dir = repoDir): Promise<Repository> {
  const repo = await openRepository(new LocalBackend(dir), PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** The pack holding the big file's first chunk, found through restic's own index listing. */
async function packOfBigFile(): Promise<{ pack: string; offset: number }> {
  const repo = await opened();
  const { findSnapshot } = await import('../../../src/repository/snapshots.ts');
  const snapshot = await findSnapshot(repo, resticSnapshot);
  const { decodeTree } = await import('../../../src/repository/tree.ts');
  let nodes = decodeTree(await repo.loadBlob(Buffer.from(snapshot.tree, 'hex'), 'root'));
  for (const part of source.split('/').filter(Boolean)) {
    const node = nodes.find((n) => n.name === part)!;
    nodes = decodeTree(await repo.loadBlob(Buffer.from(node.subtree!, 'hex'), part));
  }
  const big = nodes.find((n) => n.name === 'big.bin')!;
  const location = repo.index.get(Buffer.from(big.content![0], 'hex'))!;
  return { pack: path.join(repoDir, 'data', location.packId.slice(0, 2), location.packId), offset: location.offset };
}

test('Cairn restores the snapshot restic made, byte for byte', async () => {
  await makeSourceTree(source);
  sourceSummary = await summarize(source);
  await resticOk(repoDir, PASSWORD, ['init', '--repository-version', '1']);
  await resticOk(repoDir, PASSWORD, ['backup', source]);
  resticSnapshot = JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json']))[0].id;
  const target = path.join(work, 'restore-1');
  const result = await restore(await opened(), { snapshot: resticSnapshot, target });
  assert.is(result.snapshotId, resticSnapshot);
  assert.equal(await summarize(path.join(target, source)), sourceSummary);
});

test('Cairn backs up into restic`s repository, reusing its chunks; restic checks it clean and restores it', async () => {
  await fs.writeFile(path.join(source, 'added by cairn.txt'), 'cairn was here\n');
  const repo = await opened();
  const result = await backup(repo, { paths: [source] });
  assert.is(result.parent, resticSnapshot, 'restic`s snapshot of the same paths is the parent');
  // Only the new file, the changed folders' trees and nothing of the 20 MB: restic's chunks were reused.
  assert.ok(result.bytesAdded < 64 * 1024, `added ${result.bytesAdded}`);
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const target = path.join(work, 'restore-2');
  await resticOk(repoDir, PASSWORD, ['restore', result.snapshotId, '--target', target]);
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
  const fresh = await backup(await opened(), { paths: [source], parent: null });
  assert.is(fresh.filesUnchanged, 0);
  assert.ok(fresh.bytesAdded < 64 * 1024, `without a parent every file is read, and every chunk is found: added ${fresh.bytesAdded}`);
});

test('a wrong password is REPOSITORY_WRONG_PASSWORD', async () => {
  const error = await openRepository(new LocalBackend(repoDir), 'guess').catch((e) => e);
  assert.is(error.code, 'REPOSITORY_WRONG_PASSWORD');
  assert.match(error.message, 'password does not open');
});

test('Cairn refuses to back up while another holds an exclusive lock, and restic honours Cairn`s lock', async () => {
  const repo = await opened();
  // restic holds an exclusive lock while `prune` runs; a lock file written as restic writes it stands in for one.
  const lockId = await repo.writeUnpacked('locks', { time: new Date().toISOString(), exclusive: true, hostname: 'other-host', username: 'restic', pid: 4242 });
  const error = await backup(repo, { paths: [source] }).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_LOCKED');
  assert.match(error.message, 'other-host');
  await fs.rm(path.join(repoDir, 'locks', lockId));
  // And restic honours Cairn's lock: with Cairn's shared lock held, restic's exclusive prune is refused.
  const held = await acquireLock(repo, false);
  const prune = await restic(repoDir, PASSWORD, ['prune']);
  await held.release();
  assert.is.not(prune.code, 0);
  assert.match(prune.stderr, /lock/i);
});

test('restic`s own lock, held by a running `restic backup --stdin`: Cairn shares it for a backup and is refused an exclusive lock', async () => {
  const child = spawn('restic', ['-r', repoDir, '--no-cache', 'backup', '--stdin', '--stdin-filename', 'stream.txt'], {
    env: { ...process.env, RESTIC_PASSWORD: PASSWORD },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    child.stdin.write('streamed while Cairn works\n');
    await waitFor('restic`s lock file', async () => (await fs.readdir(path.join(repoDir, 'locks'))).length === 1 || null, 30_000);
    const repo = await opened();
    const error = await acquireLock(repo, true).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_LOCKED');
    assert.match(error.message, String(child.pid));
    const result = await backup(repo, { paths: [source] });
    assert.ok(result.snapshotId);
  } finally {
    child.stdin.end();
  }
  assert.is(await done, 0);
  await resticOk(repoDir, PASSWORD, ['check']);
});

test('a changed byte in a pack: the restore fails naming the file, and writes none of the bad bytes', async () => {
  const { pack, offset } = await packOfBigFile();
  const original = await fs.readFile(pack);
  const bytes = Buffer.from(original);
  bytes[offset + 100] ^= 0xff;
  await fs.writeFile(pack, bytes);
  try {
    const target = path.join(work, 'restore-tampered');
    const error = await restore(await opened(), { snapshot: resticSnapshot, target }).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_DAMAGED');
    assert.match(error.message, path.join(source, 'big.bin'));
    const restored: string[] = await fs.readdir(path.join(target, source)).catch(() => []);
    assert.not.ok(restored.includes('big.bin'), 'no big.bin with wrong (or partial) content is left under its name');
    assert.equal(restored.filter((name) => name.includes('cairn-restore')), [], 'nor a temp file');
  } finally {
    await fs.writeFile(pack, original);
  }
});

test('a missing pack: the restore fails naming the file and the pack', async () => {
  const { pack } = await packOfBigFile();
  const moved = `${pack}.away`;
  await fs.rename(pack, moved);
  try {
    const error = await restore(await opened(), { snapshot: resticSnapshot, target: path.join(work, 'restore-missing') }).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_FILE_MISSING');
    assert.match(error.message, path.join(source, 'big.bin'));
    assert.match(error.message, path.basename(pack));
  } finally {
    await fs.rename(moved, pack);
  }
});

test.run();
