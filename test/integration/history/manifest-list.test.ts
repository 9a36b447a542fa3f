/**
 * A snapshot's manifest written from rsync's list while rsync runs (manifest-list.ts) says exactly
 * what hashing the whole snapshot says, on a tree with edits, deletions, renames, new and removed
 * folders, a permissions-only change and a same-size edit with its times put back; names rsync
 * prints escaped and a version 1 previous manifest fall back to walking the tree, with the same result.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSnapshot, listSnapshots, ManifestReader, MANIFEST_NAME, verifySnapshot, type ManifestEntry } from '../../../src/history/index.ts';
import { comparePaths } from '../../../src/history/drive-snapshots/manifest-file.ts';
import { walkFiles } from '../../../src/history/drive-snapshots/manifest-build.ts';
import { rsyncPids, tempDir } from '../../helpers.ts';
import { fileContent, waitFor } from '../../trees.ts';
import { engineContext } from './engine.ts';

const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
let hour = 0;

async function snapshot(root: string, sources: string[]) {
  const { context, logs } = engineContext(sources);
  hour += 1;
  const result = await createSnapshot(context, { root, timezone: 'UTC', time: new Date(Date.UTC(2026, 11, 5, hour)), runId: null });
  return { ...result, logs: logs.map(([, message]) => message) };
}

async function manifestOf(snapshotDir: string): Promise<ManifestEntry[]> {
  const reader = new ManifestReader(path.join(snapshotDir, MANIFEST_NAME));
  const entries: ManifestEntry[] = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) entries.push(entry);
  return entries;
}

/** The manifest a full read of the snapshot gives: every file stat'ed and hashed, in the manifest's order. */
async function hashedWhole(snapshotDir: string): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for await (const files of walkFiles(snapshotDir, new AbortController().signal)) {
    for (const relative of files) {
      const stat = await lstat(path.join(snapshotDir, relative), { bigint: true });
      const bytes = readFileSync(path.join(snapshotDir, relative));
      entries.push({ path: relative, size: Number(stat.size), mtimeNs: stat.mtimeNs.toString(), ino: stat.ino.toString(), sha256: sha(bytes) });
    }
  }
  return entries;
}

function write(file: string, content: Buffer, mtimeSeconds?: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  if (mtimeSeconds !== undefined) utimesSync(file, mtimeSeconds, mtimeSeconds);
}

test('the manifest built from rsync`s list equals the one hashing the whole snapshot gives, edits, deletions and renames included', async () => {
  const root = tempDir('cairn-listed-');
  const home = tempDir();
  // Two sources, given out of name order: the snapshot holds them in the manifest's order all the same.
  const zeta = path.join(home, 'zeta');
  const alpha = path.join(home, 'alpha');
  const old = 1_700_000_000;
  for (let i = 0; i < 300; i += 1) write(path.join(zeta, `d${i % 7}`, `sub${i % 3}`, `f${i}.txt`), fileContent(`z${i}`, 100 + i), old);
  for (const name of ['a.txt', 'a/b.txt', 'a b/c.txt', 'a.b/d.txt', 'é.txt', 'ﬀ.txt', '\u{1D11E}.txt', 'same-size.txt', 'perm.txt', 'move-me.txt', 'gone/x.txt', 'gone/y.txt']) {
    write(path.join(alpha, name), fileContent(name, 1000), old);
  }
  const first = await snapshot(root, [zeta, alpha]);
  assert.equal(await manifestOf(first.snapshot.path), await hashedWhole(first.snapshot.path), 'the first snapshot, hashed by its walk');

  write(path.join(zeta, 'd1/sub1/f1.txt'), fileContent('edited', 5000)); // another size
  rmSync(path.join(zeta, 'd2/sub2/f2.txt'));
  rmSync(path.join(alpha, 'gone'), { recursive: true });
  renameSync(path.join(alpha, 'move-me.txt'), path.join(alpha, 'a/moved.txt'));
  write(path.join(alpha, 'new/deep/n.txt'), fileContent('new', 300));
  chmodSync(path.join(alpha, 'perm.txt'), 0o600);
  // rsync's blind spot: the same size and the old times put back, so rsync takes it for unchanged.
  write(path.join(alpha, 'same-size.txt'), fileContent('same-size.txt', 1000, 1), old);
  const second = await snapshot(root, [zeta, alpha]);

  assert.not.ok(second.logs.some((line) => line.startsWith("Reading the snapshot's tree")), second.logs.join('\n'));
  const entries = await manifestOf(second.snapshot.path);
  assert.equal(entries, await hashedWhole(second.snapshot.path));
  assert.equal(entries.map((entry) => entry.path), [...entries.map((entry) => entry.path)].sort(comparePaths));
  // Hashed: the edited, the moved, the new and the permissions-only file (rsync copies that one, a new inode).
  assert.ok(second.logs.some((line) => /, 4 file\(s\) hashed$/.test(line)), second.logs.join('\n'));
  assert.is(second.snapshot.files, 300 - 1 + 12 - 2 + 1);
  assert.is(second.snapshot.bytes_added, 5000 + 1000 + 300 + 1000);
  // The blind spot: the snapshot keeps the old bytes (a hard link to the earlier copy), and the
  // manifest says so, so that verify passes and a restore gives what the drive really holds.
  const sameSize = entries.find((entry) => entry.path === 'alpha/same-size.txt')!;
  assert.is(sameSize.sha256, sha(fileContent('same-size.txt', 1000)));
  assert.is(statSync(path.join(second.snapshot.path, 'alpha/same-size.txt')).ino, statSync(path.join(first.snapshot.path, 'alpha/same-size.txt')).ino);
  const verified = await verifySnapshot(second.snapshot.path);
  assert.is(verified.files_checked, second.snapshot.files);
  assert.is(verified.mismatched.count + verified.missing.count + verified.unreadable.count, 0);

  // A flipped byte in a file the manifest inherited is named by verify.
  const victim = path.join(second.snapshot.path, 'zeta/d3/sub0/f3.txt');
  const bytes = readFileSync(victim);
  bytes[0] ^= 0xff;
  writeFileSync(victim, bytes);
  assert.equal((await verifySnapshot(second.snapshot.path)).mismatched.list(), ['zeta/d3/sub0/f3.txt']);
  bytes[0] ^= 0xff;
  writeFileSync(victim, bytes);
});

test('a tree larger than rsync lists ahead (incremental recursion: a folder at a time) still gives the manifest from rsync`s list, in order', async () => {
  const root = tempDir('cairn-listed-');
  const home = tempDir();
  const source = path.join(home, 'big');
  const old = 1_700_000_000;
  // 4,000 files in 80 folders and subfolders whose names sort across files and folders (a, a.b, a b, a-b …).
  const folders = ['a', 'a.b', 'a b', 'a-b', 'B', 'b', 'é', 'z'].flatMap((top) => Array.from({ length: 10 }, (_, i) => `${top}/s${i % 3}${'x'.repeat(i)}`));
  for (let i = 0; i < 4000; i += 1) write(path.join(source, folders[i % folders.length], `f${i}${i % 2 ? '.txt' : ''}`), fileContent(`b${i}`, 64), old);
  await snapshot(root, [source]);
  for (let i = 0; i < 4000; i += 400) write(path.join(source, folders[i % folders.length], `f${i}${i % 2 ? '.txt' : ''}`), fileContent(`edited ${i}`, 128));
  const second = await snapshot(root, [source]);
  assert.not.ok(second.logs.some((line) => line.startsWith("Reading the snapshot's tree")), second.logs.join('\n'));
  assert.ok(second.logs.some((line) => /, 10 file\(s\) hashed$/.test(line)), second.logs.join('\n'));
  assert.equal(await manifestOf(second.snapshot.path), await hashedWhole(second.snapshot.path));
});

test('a name rsync prints escaped, or a previous manifest of version 1, has the tree walked instead, with the same manifest', async () => {
  const root = tempDir('cairn-listed-');
  const source = path.join(tempDir(), 'docs');
  for (let i = 0; i < 50; i += 1) write(path.join(source, `f${i}.txt`), fileContent(`f${i}`, 200));
  await snapshot(root, [source]);
  write(path.join(source, 'odd\nname.txt'), fileContent('odd', 400));
  const escaped = await snapshot(root, [source]);
  assert.ok(escaped.logs.some((line) => line.startsWith("Reading the snapshot's tree for its manifest: a name rsync lists escaped")), escaped.logs.join('\n'));
  assert.equal(await manifestOf(escaped.snapshot.path), await hashedWhole(escaped.snapshot.path));
  assert.equal(readFileSync(path.join(escaped.snapshot.path, MANIFEST_NAME), 'utf8').split('\n')[0], 'cairn-manifest 2');

  // An earlier Cairn's manifest: version 1, its lines in another order (here reversed).
  const manifestFile = path.join(escaped.snapshot.path, MANIFEST_NAME);
  const [, ...lines] = readFileSync(manifestFile, 'utf8').trimEnd().split('\n');
  writeFileSync(manifestFile, `cairn-manifest 1\n${lines.reverse().join('\n')}\n`);
  write(path.join(source, 'f7.txt'), fileContent('f7', 999));
  const next = await snapshot(root, [source]);
  assert.ok(next.logs.some((line) => /, 1 file\(s\) hashed$/.test(line)), `only the edited file is hashed:\n${next.logs.join('\n')}`);
  assert.equal(await manifestOf(next.snapshot.path), await hashedWhole(next.snapshot.path));
  // And the one after streams again from the version 2 manifest this one was given.
  rmSync(path.join(source, 'odd\nname.txt'));
  const after = await snapshot(root, [source]);
  assert.not.ok(after.logs.some((line) => line.startsWith("Reading the snapshot's tree")), after.logs.join('\n'));
  assert.equal(await manifestOf(after.snapshot.path), await hashedWhole(after.snapshot.path));
});

test('rsync killed while the manifest is being written from its list: no snapshot is listed, no manifest is left, the next run resumes and its manifest is whole', async () => {
  const root = tempDir('cairn-listed-');
  const source = path.join(tempDir(), 'media');
  write(path.join(source, 'old.txt'), fileContent('old', 10));
  const first = await snapshot(root, [source]);
  for (let i = 0; i < 120; i += 1) write(path.join(source, `t${String(i).padStart(3, '0')}.bin`), fileContent(`t${i}`, 128 * 1024));

  const { context } = engineContext([source], undefined, { bandwidth_limit_kbps: 2000 });
  hour += 1;
  const failure = createSnapshot(context, { root, timezone: 'UTC', time: new Date(Date.UTC(2026, 11, 5, hour)), runId: null }).then(() => null, (error) => error);
  const work = await waitFor(
    'rsync to copy some files',
    () => {
      const name = readdirSync(root).find((entry) => entry.startsWith('.incomplete-'));
      const copied = name && existsSync(path.join(root, name, 'media')) ? readdirSync(path.join(root, name, 'media')).filter((file) => !file.startsWith('.')) : [];
      return copied.length >= 10 ? path.join(root, name!) : null;
    },
    30_000,
  );
  assert.ok(existsSync(path.join(work, `${MANIFEST_NAME}.tmp`)), 'the manifest was being written from rsync`s list');
  for (const pid of rsyncPids(work)) process.kill(pid, 'SIGKILL');
  assert.is((await failure)?.code, 'RSYNC_FAILED');
  assert.equal((await listSnapshots(root)).map((info) => info.id), [first.snapshot.id], 'the half snapshot is not listed');
  assert.equal(readdirSync(work).filter((name) => name.startsWith('.cairn-')), [], 'no manifest, whole or partial, is left in the work folder');

  const next = await snapshot(root, [source]);
  assert.ok(next.resumed);
  assert.equal(await manifestOf(next.snapshot.path), await hashedWhole(next.snapshot.path));
  const verified = await verifySnapshot(next.snapshot.path);
  assert.is(verified.files_checked, 121);
  assert.is(verified.mismatched.count + verified.missing.count, 0);
});

test.run();
