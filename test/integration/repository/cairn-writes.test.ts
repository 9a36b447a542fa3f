/**
 * A repository Cairn writes, judged by restic: `check --read-data` is clean, `snapshots --json`
 * lists what Cairn backed up, `restore` reproduces the source; a second backup stores only what
 * changed and the first snapshot still restores the old content; restic's own chunker, run over
 * the same files, finds every chunk Cairn stored (no new data blobs).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, restore } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { folderBytes, makeSourceTree, summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'family photos 2026';
const work = tempDir('cairn-repo-');
const source = path.join(work, 'source');
const repoDir = path.join(work, 'repo');
let firstSnapshot = '';
let firstSummary: Awaited<ReturnType<typeof summarize>>;

async function dataBlobs(): Promise<Set<string>> {
  const out = await resticOk(repoDir, PASSWORD, ['list', 'blobs']);
  return new Set(out.split('\n').filter((l) => l.startsWith('data ')).map((l) => l.slice(5)));
}

test('restic checks, lists and restores the snapshot Cairn wrote', async () => {
  await makeSourceTree(source, 50 * 1024 * 1024); // the 50 MB file
  firstSummary = await summarize(source);
  const repo = await initRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  const result = await backup(repo, { paths: [source], tags: ['nightly', 'photos'], hostname: 'cairn-pi' });
  firstSnapshot = result.snapshotId;
  assert.equal(result.warnings, []);
  assert.ok(result.files >= 9, `files ${result.files}`);

  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const snapshots = JSON.parse(await resticOk(repoDir, PASSWORD, ['snapshots', '--json']));
  assert.is(snapshots.length, 1);
  assert.is(snapshots[0].id, firstSnapshot);
  assert.equal(snapshots[0].paths, [source]);
  assert.is(snapshots[0].hostname, 'cairn-pi');
  assert.equal(snapshots[0].tags, ['nightly', 'photos']);
  assert.ok(Math.abs(Date.parse(snapshots[0].time) - Date.now()) < 120_000);
  assert.is(await fs.readdir(path.join(repoDir, 'locks')).then((l) => l.length), 0, 'the lock is gone after the backup');

  const target = path.join(work, 'restic-restore');
  await resticOk(repoDir, PASSWORD, ['restore', 'latest', '--target', target]);
  assert.equal(await summarize(path.join(target, source)), firstSummary);
});

test('Cairn restores its own snapshot byte for byte, with modes and times', async () => {
  const repo = await openRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  const target = path.join(work, 'cairn-restore');
  const result = await restore(repo, { snapshot: firstSnapshot, target });
  assert.equal(await summarize(path.join(target, source)), firstSummary);
  assert.ok(result.bytes > 50 * 1024 * 1024);
  const only = path.join(work, 'cairn-restore-some');
  await restore(repo, { snapshot: 'latest', target: only, include: [path.join(source, 'Фото 2026')] });
  assert.equal(await fs.readdir(path.join(only, source)), ['Фото 2026']);
});

test('a second backup stores about the changed bytes; the first snapshot still restores the old content', async () => {
  const sizeBefore = await folderBytes(repoDir);
  await fs.writeFile(path.join(source, 'docs/readme.txt'), 'hello again\n');
  const big = await fs.open(path.join(source, 'big.bin'), 'r+');
  await big.write(Buffer.from('changed in the middle'), 0, 21, 10 * 1024 * 1024);
  await big.close();
  await fs.writeFile(path.join(source, 'new file.txt'), 'new\n');
  const repo = await openRepository(new LocalBackend(repoDir), PASSWORD);
  await repo.loadIndex();
  const result = await backup(repo, { paths: [source], hostname: 'cairn-pi' });
  assert.is(result.parent, firstSnapshot);
  assert.ok(result.filesUnchanged >= 6, `unchanged files ${result.filesUnchanged}`);
  const grown = (await folderBytes(repoDir)) - sizeBefore;
  // The edit in big.bin changes one or two chunks (≤ 8 MiB each, ~1 MiB on average), not 50 MB.
  assert.ok(grown < 10 * 1024 * 1024, `grew by ${grown}`);
  assert.ok(result.bytesAdded > 0);
  await resticOk(repoDir, PASSWORD, ['check', '--read-data']);
  const old = path.join(work, 'old-restore');
  await resticOk(repoDir, PASSWORD, ['restore', firstSnapshot, '--target', old]);
  assert.equal(await summarize(path.join(old, source)), firstSummary);
  const latest = path.join(work, 'new-restore');
  await resticOk(repoDir, PASSWORD, ['restore', result.snapshotId, '--target', latest]);
  assert.equal(await summarize(path.join(latest, source)), await summarize(source));
});

test('restic cuts the same chunks as Cairn: backing the same files up with restic adds no data blob', async () => {
  const before = await dataBlobs();
  assert.ok(before.size > 20, `data blobs ${before.size}`);
  await resticOk(repoDir, PASSWORD, ['backup', '--force', '--host', os.hostname(), source]);
  const after = await dataBlobs();
  assert.equal([...after].filter((id) => !before.has(id)), []);
  await resticOk(repoDir, PASSWORD, ['check']);
});

test.run();
