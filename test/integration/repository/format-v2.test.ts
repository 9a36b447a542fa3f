/**
 * Repository format version 2 (zstd), with Debian's restic as the judge: a repository `restic init`
 * made by default (version 2) and filled by `restic backup` is listed, restored byte for byte and
 * backed up into by Cairn, compressed, and restic then checks it clean and restores Cairn's
 * snapshot; a repository Cairn creates is version 2 and compressed, and restic checks, lists and
 * restores it; a prune keeps compressed blobs compressed and the repository clean; a changed byte in
 * a compressed blob fails the restore and the check clearly; a version 1 repository gets no
 * compressed form.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open as openSealed, type CryptoKey } from '../../../src/repository/crypto.ts';
import { backup, check, initRepository, listSnapshots, LocalBackend, openRepository, prune, restore, type Repository } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { folderBytes, makeSourceTree, summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'zstd all the way';
const work = tempDir('cairn-v2-');
const source = path.join(work, 'source');

async function opened(dir: string): Promise<Repository> {
  const repo = await openRepository(new LocalBackend(dir), PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** The plaintext of an unpacked file as stored (before any decompression): what is on disk, opened. */
async function storedPlaintext(repo: Repository, dir: string, folder: string, id: string): Promise<Buffer> {
  const key = (repo as unknown as { key: CryptoKey }).key;
  return openSealed(key, await fs.readFile(path.join(dir, folder, id)));
}

/** Every index entry of the repository, as its index files list them. */
async function indexEntries(repo: Repository): Promise<Array<{ id: string; type: string; uncompressed_length?: number }>> {
  const entries = [];
  for (const file of await repo.list('index')) for (const pack of await repo.readIndexFile(file)) entries.push(...pack.blobs);
  return entries;
}

/** A tree with text that compresses well besides the fixture's random (incompressible) files. */
async function makeTree(root: string): Promise<void> {
  await makeSourceTree(root, 6 * 1024 * 1024);
  const lines = Array.from({ length: 40_000 }, (_, i) => `2026-12-05T22:${String(i % 60).padStart(2, '0')}:00Z cairn[${i}]: backup of /srv/photos step ${i % 17} ok\n`);
  await fs.writeFile(path.join(root, 'docs', 'daemon.log'), lines.join(''));
}

test('a repository restic made by default (version 2): Cairn lists and restores restic`s snapshot byte for byte', async () => {
  await makeTree(source);
  const dir = path.join(work, 'restic-made');
  await resticOk(dir, PASSWORD, ['init']);
  assert.match(await resticOk(dir, PASSWORD, ['cat', 'config']), /"version": 2/);
  await resticOk(dir, PASSWORD, ['backup', source]);
  const resticSnapshot = JSON.parse(await resticOk(dir, PASSWORD, ['snapshots', '--json']))[0];
  const repo = await opened(dir);
  assert.is(repo.config.version, 2);
  const listed = await listSnapshots(repo);
  assert.equal(listed.map((s) => s.id), [resticSnapshot.id]);
  assert.equal(listed[0].paths, [source]);
  const target = path.join(work, 'restore-restic-made');
  await restore(repo, { snapshot: resticSnapshot.id, target });
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
});

test('Cairn backs up into restic`s version 2 repository in compressed form; restic checks it clean and restores it', async () => {
  const dir = path.join(work, 'restic-made');
  await fs.appendFile(path.join(source, 'docs', 'daemon.log'), 'one more line from cairn\n'.repeat(5000));
  const repo = await opened(dir);
  const before = new Set((await indexEntries(repo)).map((e) => e.id));
  const result = await backup(repo, { paths: [source] });
  // What Cairn added: the changed log's chunks and the trees above it, compressed.
  const added = (await indexEntries(repo)).filter((e) => !before.has(e.id));
  assert.ok(added.length > 0);
  for (const entry of added.filter((e) => e.type === 'tree')) assert.type(entry.uncompressed_length, 'number', `tree ${entry.id} is stored compressed`);
  assert.ok(added.some((e) => e.type === 'data' && e.uncompressed_length !== undefined), 'the log`s chunk is stored compressed');
  assert.ok(result.bytesAdded < 200 * 1024, `a 2.6 MB text log adds ${result.bytesAdded} bytes, compressed`);
  // The snapshot and index files are compressed too: version byte 2, then zstd.
  assert.is((await storedPlaintext(repo, dir, 'snapshots', result.snapshotId))[0], 2);
  await resticOk(dir, PASSWORD, ['check', '--read-data']);
  const target = path.join(work, 'restore-by-restic');
  await resticOk(dir, PASSWORD, ['restore', result.snapshotId, '--target', target]);
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
});

test('a repository Cairn creates is version 2, compressed: restic checks it clean, lists and restores it; Cairn restores it', async () => {
  const dir = path.join(work, 'cairn-made');
  const repo = await initRepository(new LocalBackend(dir), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
  assert.is(repo.config.version, 2);
  const result = await backup(repo, { paths: [source], hostname: 'pi-v2', tags: ['cairn-job-9'] });
  assert.match(await resticOk(dir, PASSWORD, ['cat', 'config']), /"version": 2/);
  await resticOk(dir, PASSWORD, ['check', '--read-data']);
  const listed = JSON.parse(await resticOk(dir, PASSWORD, ['snapshots', '--json']));
  assert.equal(listed.map((s: { id: string; hostname: string; tags: string[] }) => [s.id, s.hostname, s.tags]), [[result.snapshotId, 'pi-v2', ['cairn-job-9']]]);
  const byRestic = path.join(work, 'restore-cairn-made-restic');
  await resticOk(dir, PASSWORD, ['restore', 'latest', '--target', byRestic]);
  assert.equal(await summarize(path.join(byRestic, source)), await summarize(source));
  const byCairn = path.join(work, 'restore-cairn-made-cairn');
  await restore(await opened(dir), { snapshot: result.snapshotId, target: byCairn });
  assert.equal(await summarize(path.join(byCairn, source)), await summarize(source));
  // Compression worked: the packs hold less than the same tree in a version 1 repository.
  const v1 = path.join(work, 'cairn-made-v1');
  await backup(await initRepository(new LocalBackend(v1), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 }, version: 1 }), { paths: [source] });
  const [v2Bytes, v1Bytes] = [await folderBytes(path.join(dir, 'data')), await folderBytes(path.join(v1, 'data'))];
  assert.ok(v2Bytes < v1Bytes - 2 * 1024 * 1024, `version 2 packs ${v2Bytes} bytes, version 1 ${v1Bytes}`);
});

test('a version 1 repository gets no compressed form, even with zstd at hand', async () => {
  const dir = path.join(work, 'cairn-made-v1');
  const repo = await opened(dir);
  assert.is(repo.config.version, 1);
  const result = await backup(repo, { paths: [source], parent: null });
  for (const entry of await indexEntries(repo)) assert.is(entry.uncompressed_length, undefined);
  for (const folder of ['snapshots', 'index'] as const) {
    for (const id of await repo.list(folder)) assert.is((await storedPlaintext(repo, dir, folder, id))[0], '{'.charCodeAt(0), `${folder}/${id} is plain JSON`);
  }
  assert.ok(result.snapshotId);
  await resticOk(dir, PASSWORD, ['check', '--read-data']);
});

test('prune on version 2 repacks compressed blobs as they are: restic checks it clean, the kept snapshot restores', async () => {
  const dir = path.join(work, 'restic-made');
  const repo = await opened(dir);
  const snapshots = await listSnapshots(repo);
  const keep = snapshots.at(-1)!;
  // The first (restic's) snapshot goes; the old log's chunks are then unused, in packs shared with used blobs.
  for (const snapshot of snapshots.slice(0, -1)) await fs.rm(path.join(dir, 'snapshots', snapshot.id));
  const compressedBefore = (await indexEntries(repo)).filter((e) => e.uncompressed_length !== undefined).length;
  const result = await prune(repo, { maxUnusedPercent: 0 });
  assert.ok(result.packsRepacked + result.packsRemoved > 0, JSON.stringify(result));
  const after = await indexEntries(repo);
  assert.ok(after.filter((e) => e.uncompressed_length !== undefined).length > 0 && compressedBefore > 0, 'compressed blobs stay compressed');
  await resticOk(dir, PASSWORD, ['check', '--read-data']);
  const verdict = await check(await opened(dir), { readDataPercent: 100 });
  assert.equal(verdict.errors, []);
  const target = path.join(work, 'restore-after-prune');
  await restore(await opened(dir), { snapshot: keep.id, target });
  assert.equal(await summarize(path.join(target, source)), await summarize(source));
});

test('a changed byte in a compressed blob: the restore fails REPOSITORY_DAMAGED naming the file, and the check reports it', async () => {
  const dir = path.join(work, 'cairn-made');
  const repo = await opened(dir);
  const [snapshot] = await listSnapshots(repo);
  const entries = await indexEntries(repo);
  const log = entries.find((e) => e.type === 'data' && e.uncompressed_length !== undefined)!;
  assert.ok(log, 'a compressed data blob');
  const location = repo.index.get(Buffer.from(log.id, 'hex'))!;
  const pack = path.join(dir, 'data', location.packId.slice(0, 2), location.packId);
  const original = await fs.readFile(pack);
  const bytes = Buffer.from(original);
  bytes[location.offset + 40] ^= 0x01;
  await fs.writeFile(pack, bytes);
  try {
    const error = await restore(await opened(dir), { snapshot: snapshot.id, target: path.join(work, 'restore-tampered') }).catch((e) => e);
    assert.is(error.code, 'REPOSITORY_DAMAGED');
    assert.match(error.message, 'daemon.log');
    const verdict = await check(await opened(dir), { readDataPercent: 100 });
    assert.ok(verdict.errors.some((e) => e.subject === 'blob' && e.id === log.id && e.problem === 'damaged'), JSON.stringify(verdict.errors));
  } finally {
    await fs.writeFile(pack, original);
  }
});

test.run();
