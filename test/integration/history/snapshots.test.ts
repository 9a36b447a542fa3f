/**
 * The drive snapshot engine on a real ext4 filesystem (an image on a loop device) with the real
 * rsync: history survives deletes and edits, unchanged files are shared hard links, a kill -9 at
 * any point leaves only complete snapshots listed, and verify finds flipped bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSnapshot, deleteSnapshot, listSnapshots, ManifestReader, MANIFEST_NAME, pruneSnapshots, verifySnapshot } from '../../../src/history/index.ts';
import { REPO_ROOT, rsyncPids, tempDir } from '../../helpers.ts';
import { fileContent, snapshotTree, waitFor } from '../../trees.ts';
import { engineContext, ext4Drive, type Ext4Drive } from './engine.ts';

let drive: Ext4Drive;
test.before(() => {
  drive = ext4Drive(384);
});
test.after(() => drive?.remove());

const BERLIN = 'Europe/Berlin';
const at = (iso: string) => new Date(iso);
let rootCount = 0;
/** A fresh backup folder on the drive, for one test. */
function freshRoot(): string {
  const root = path.join(drive.root, `job${(rootCount += 1)}`);
  mkdirSync(root);
  return root;
}

function writeTree(source: string, files: Record<string, Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
    writeFileSync(path.join(source, name), content);
  }
}

async function snapshot(root: string, sources: string[], time: string, options = {}) {
  const { context, logs } = engineContext(sources, undefined, options);
  const result = await createSnapshot(context, { root, timezone: BERLIN, time: at(time), runId: 7 });
  return { ...result, logs };
}

const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
/** Entries of `root` that are not complete snapshots (work folders, folders being deleted). */
const hiddenLeftovers = (root: string) => readdirSync(root).filter((name) => name.startsWith('.'));

/** Files rsync has finished in `dir` (a flat folder; its temp files start with a dot); 0 while it does not exist. */
const finishedFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.')).length : 0);

test('a deleted and a modified file stay restorable from the earlier snapshot, byte for byte; unchanged files are shared hard links', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'photos');
  const original = {
    'keep.txt': fileContent('keep', 3000),
    'gone.txt': fileContent('gone', 5000),
    'changed.txt': fileContent('changed', 4000),
    'sub/deep.bin': fileContent('deep', 100_000),
  };
  writeTree(source, original);
  const first = await snapshot(root, [source], '2026-12-05T02:15:00Z');
  assert.is(first.snapshot.id, '2026-12-05T031500+0100');
  assert.is(first.snapshot.files, 4);
  assert.is(first.snapshot.bytes_added, 112_000);

  rmSync(path.join(source, 'gone.txt'));
  writeFileSync(path.join(source, 'changed.txt'), fileContent('changed', 4100, 1));
  writeFileSync(path.join(source, 'new.txt'), fileContent('new', 700));
  const second = await snapshot(root, [source], '2026-12-05T03:15:00Z');

  const listed = await listSnapshots(root);
  assert.equal(listed.map((info) => info.id), ['2026-12-05T041500+0100', '2026-12-05T031500+0100']);
  assert.equal(listed[0], second.snapshot);
  assert.is(second.snapshot.files, 4);
  assert.is(second.snapshot.total_size, 3000 + 4100 + 100_000 + 700);
  assert.is(second.snapshot.bytes_added, 4100 + 700, 'only the changed and the new file are new bytes');

  // Restore with no Cairn: plain cp from the earlier snapshot's folder.
  const out = tempDir('cairn-restore-');
  const earlier = path.join(first.snapshot.path, 'photos');
  execFileSync('cp', ['-a', path.join(earlier, 'gone.txt'), path.join(earlier, 'changed.txt'), out]);
  assert.ok(readFileSync(path.join(out, 'gone.txt')).equals(original['gone.txt']));
  assert.ok(readFileSync(path.join(out, 'changed.txt')).equals(original['changed.txt']));
  assert.ok(readFileSync(path.join(second.snapshot.path, 'photos/changed.txt')).equals(fileContent('changed', 4100, 1)));
  assert.not.ok(existsSync(path.join(second.snapshot.path, 'photos/gone.txt')));

  for (const name of ['keep.txt', 'sub/deep.bin']) {
    const [a, b] = [statSync(path.join(earlier, name)), statSync(path.join(second.snapshot.path, 'photos', name))];
    assert.is(a.ino, b.ino, `${name} is one inode in both snapshots`);
    assert.is(b.nlink, 2);
  }
  const [oldChanged, newChanged] = [statSync(path.join(earlier, 'changed.txt')), statSync(path.join(second.snapshot.path, 'photos/changed.txt'))];
  assert.is.not(oldChanged.ino, newChanged.ino);
  assert.is(oldChanged.nlink, 1);

  // The manifest lists every file with the SHA-256 of its real bytes, inherited or hashed.
  const reader = new ManifestReader(path.join(second.snapshot.path, MANIFEST_NAME));
  const entries = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) entries.push(entry);
  assert.equal(entries.map((entry) => entry.path), ['photos/changed.txt', 'photos/keep.txt', 'photos/new.txt', 'photos/sub/deep.bin']);
  for (const entry of entries) assert.is(entry.sha256, sha(readFileSync(path.join(second.snapshot.path, entry.path))), entry.path);
  assert.ok(second.logs.some(([, message]) => /2 file\(s\) hashed/.test(message)), 'unchanged files inherited their hash');

  // A changed file whose name rsync prints escaped (a newline in it) still gets its own hash.
  writeFileSync(path.join(source, 'odd\nname.txt'), fileContent('odd', 500));
  await snapshot(root, [source], '2026-12-05T05:15:00Z');
  writeFileSync(path.join(source, 'odd\nname.txt'), fileContent('odd', 500, 1));
  // rsync compares mtimes to the second: a same-size rewrite must not fall in the same second.
  utimesSync(path.join(source, 'odd\nname.txt'), new Date(), new Date(Date.now() + 5000));
  const fourth = await snapshot(root, [source], '2026-12-05T06:15:00Z');
  const check = await verifySnapshot(fourth.snapshot.path);
  assert.is(check.files_checked, 5);
  assert.is(check.mismatched.count, 0, check.mismatched.describe());
  assert.is(fourth.snapshot.bytes_added, 500);

  // Nothing of Cairn's is left beside the snapshots, and the user's tree holds only the source.
  assert.equal(hiddenLeftovers(root), []);
  assert.equal(readdirSync(second.snapshot.path).sort(), ['.cairn-manifest', '.cairn-snapshot.json', 'photos']);
});

test('two snapshots in the same second get distinct names; a name across the autumn change keeps its offset', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'docs');
  writeTree(source, { 'a.txt': fileContent('a', 10) });
  const a = await snapshot(root, [source], '2026-10-25T00:30:00Z'); // 02:30 CEST
  const b = await snapshot(root, [source], '2026-10-25T00:30:00.500Z');
  const c = await snapshot(root, [source], '2026-10-25T01:15:00Z'); // 02:15 CET, later although it reads earlier
  assert.equal([a.snapshot.id, b.snapshot.id, c.snapshot.id], ['2026-10-25T023000+0200', '2026-10-25T023000+0200-1', '2026-10-25T021500+0100']);
  assert.equal((await listSnapshots(root)).map((info) => info.id), [c.snapshot.id, b.snapshot.id, a.snapshot.id]);
});

test('kill -9 of rsync mid-snapshot: only complete snapshots are listed, and the next run resumes and succeeds', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'big');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 200; i += 1) files[`f${String(i).padStart(3, '0')}.bin`] = fileContent(`f${i}`, 256 * 1024);
  writeTree(source, { 'first.txt': fileContent('first', 10) });
  const first = await snapshot(root, [source], '2026-12-01T10:00:00Z');
  writeTree(source, files);

  const slow = snapshot(root, [source], '2026-12-02T10:00:00Z', { bandwidth_limit_kbps: 4000 });
  const failure = slow.then(() => null, (error) => error);
  const work = path.join(root, '.incomplete-2026-12-02T110000+0100');
  await waitFor('rsync to copy some files', () => finishedFiles(path.join(work, 'big')) >= 10, 30_000);
  for (const pid of rsyncPids(work)) process.kill(pid, 'SIGKILL');
  const error = await failure;
  assert.ok(error, 'the killed snapshot fails');
  assert.is(error.code, 'RSYNC_FAILED');
  assert.equal((await listSnapshots(root)).map((info) => info.id), [first.snapshot.id], 'the half snapshot is not listed');

  const next = await snapshot(root, [source], '2026-12-03T10:00:00Z');
  assert.ok(next.resumed);
  assert.ok(next.totals.files_transferred < 200, `files already copied are not copied again (${next.totals.files_transferred} sent)`);
  assert.equal(snapshotTree(path.join(next.snapshot.path, 'big')), snapshotTree(source));
  assert.equal((await listSnapshots(root)).map((info) => info.id), [next.snapshot.id, first.snapshot.id]);
  assert.equal(hiddenLeftovers(root), []);
  const check = await verifySnapshot(next.snapshot.path);
  assert.is(check.files_checked, 201);
  assert.is(check.mismatched.count + check.missing.count, 0);
});

function startChild(args: string[]): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/integration/history/engine-child.ts'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test('kill -9 of the process running the engine mid-snapshot: nothing half-made is listed; the next run succeeds', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'music');
  writeTree(source, { 'old.txt': fileContent('old', 10) });
  const first = await snapshot(root, [source], '2026-12-01T10:00:00Z');
  for (let i = 0; i < 150; i += 1) writeTree(source, { [`t${i}.bin`]: fileContent(`t${i}`, 256 * 1024) });

  const engine = startChild(['create', root, '2026-12-02T10:00:00Z', '4000', source]);
  const work = path.join(root, '.incomplete-2026-12-02T110000+0100');
  await waitFor('rsync to copy some files', () => finishedFiles(path.join(work, 'music')) >= 10, 30_000);
  engine.child.kill('SIGKILL');
  await engine.exited;
  // rsync ran in its own process group; with its reader gone it dies at its next line of output.
  await waitFor('the orphaned rsync to end', () => rsyncPids(work).length === 0, 20_000);
  assert.equal((await listSnapshots(root)).map((info) => info.id), [first.snapshot.id]);

  const next = await snapshot(root, [source], '2026-12-03T10:00:00Z');
  assert.ok(next.resumed);
  assert.equal(snapshotTree(path.join(next.snapshot.path, 'music')), snapshotTree(source));
  assert.equal(hiddenLeftovers(root), []);
});

test('kill -9 mid-prune: no half-deleted snapshot is listed, every listed one verifies, and the next run finishes the delete', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'mail');
  const ids: string[] = [];
  for (let round = 0; round < 5; round += 1) {
    // Every file changes each round, so each snapshot holds 3,000 files of its own to delete.
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 3000; i += 1) files[`d${i % 30}/m${i}.eml`] = fileContent(`m${i}`, 64, round);
    writeTree(source, files);
    ids.push((await snapshot(root, [source], `2026-11-0${round + 1}T10:00:00Z`)).snapshot.id);
  }
  const pruner = startChild(['prune', root, ...ids.slice(0, 4)]);
  let killed = false;
  // Poll tightly (no waitFor: 50 ms is longer than one delete) for the first hidden folder, then kill.
  const deadline = Date.now() + 60_000;
  while (!killed && pruner.child.exitCode === null && Date.now() < deadline) {
    if (readdirSync(root).some((name) => name.startsWith('.deleting-'))) {
      pruner.child.kill('SIGKILL');
      killed = true;
    } else await new Promise((resolve) => setImmediate(resolve));
  }
  await pruner.exited;
  assert.ok(killed, `the prune was killed mid-way (it printed: ${pruner.output()})`);
  const left = await listSnapshots(root);
  assert.ok(left.length >= 1 && left.length < 5, `some snapshots are gone (${left.length} left)`);
  for (const info of left) {
    const check = await verifySnapshot(info.path);
    assert.is(check.missing.count + check.mismatched.count, 0, `${info.id} is whole`);
    assert.is(check.files_checked, 3000);
  }
  assert.ok(hiddenLeftovers(root).some((name) => name.startsWith('.deleting-')), 'the killed delete left a hidden folder');

  const next = await snapshot(root, [source], '2026-11-20T10:00:00Z');
  assert.equal(hiddenLeftovers(root), [], 'the next run finished removing it');
  assert.equal((await listSnapshots(root))[0].id, next.snapshot.id);
});

test('prune never removes the newest snapshot; delete refuses an id that is not a snapshot', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'notes');
  writeTree(source, { 'n.txt': fileContent('n', 10) });
  const a = await snapshot(root, [source], '2026-12-01T10:00:00Z');
  const b = await snapshot(root, [source], '2026-12-02T10:00:00Z');
  const result = await pruneSnapshots(root, [{ id: a.snapshot.id }, { id: b.snapshot.id }, { id: 'nope' }]);
  assert.equal(result.removed, [a.snapshot.id]);
  assert.equal(result.skipped, [{ id: b.snapshot.id, reason: 'newest' }, { id: 'nope', reason: 'not_found' }]);
  assert.equal((await listSnapshots(root)).map((info) => info.id), [b.snapshot.id]);
  for (const id of ['../job1', '.', b.snapshot.id + '/..', 'x']) {
    const error = await deleteSnapshot(root, id).then(() => null, (caught) => caught);
    assert.is(error?.code, 'SNAPSHOT_NOT_FOUND', id);
  }
  await deleteSnapshot(root, b.snapshot.id);
  assert.equal(await listSnapshots(root), []);
  assert.equal(readdirSync(root), []);
});

test('verify names a file whose bytes were flipped on the drive (same size, mtime put back) and passes on a clean snapshot', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'pics');
  writeTree(source, { 'a.jpg': fileContent('a', 50_000), 'b.jpg': fileContent('b', 50_000), 'c/d.jpg': fileContent('d', 9000) });
  const first = await snapshot(root, [source], '2026-12-01T10:00:00Z');
  writeTree(source, { 'e.jpg': fileContent('e', 20_000) });
  const second = await snapshot(root, [source], '2026-12-02T10:00:00Z');

  const clean = await verifySnapshot(second.snapshot.path);
  assert.is(clean.files_checked, 4);
  assert.is(clean.bytes_read, 129_000);
  assert.is(clean.mismatched.count + clean.missing.count + clean.unreadable.count, 0);

  // Flip one byte of e.jpg (only in the second snapshot) on the drive, and put its mtime back.
  const victim = path.join(second.snapshot.path, 'pics/e.jpg');
  const reference = path.join(tempDir(), 'ref');
  execFileSync('touch', ['-r', victim, reference]);
  const bytes = readFileSync(victim);
  bytes[12_345] ^= 0x01;
  writeFileSync(victim, bytes);
  execFileSync('touch', ['-r', reference, victim]);
  execFileSync('sync');
  execFileSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']); // read it back from the image, not the page cache

  rmSync(path.join(second.snapshot.path, 'pics/c/d.jpg'));
  const rotten = await verifySnapshot(second.snapshot.path);
  assert.equal(rotten.mismatched.list(), ['pics/e.jpg']);
  assert.equal(rotten.missing.list(), ['pics/c/d.jpg']);
  const earlier = await verifySnapshot(first.snapshot.path);
  assert.is(earlier.files_checked, 3);
  assert.is(earlier.mismatched.count + earlier.missing.count, 0, 'the earlier snapshot never had e.jpg, and keeps its own name for d.jpg');
});

test('a percentage verify reads about that share of the files, chosen at random', async () => {
  const root = freshRoot();
  const source = path.join(tempDir(), 'many');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 1000; i += 1) files[`x${i}.txt`] = fileContent(`x${i}`, 100);
  writeTree(source, files);
  const { snapshot: made } = await snapshot(root, [source], '2026-12-01T10:00:00Z');
  const tenth = await verifySnapshot(made.path, { percent: 10 });
  assert.is(tenth.files_listed, 1000);
  // Binomial(1000, 0.1): mean 100, sd 9.5; 40..160 is more than 6 sd either side.
  assert.ok(tenth.files_checked >= 40 && tenth.files_checked <= 160, `checked ${tenth.files_checked}`);
  assert.is(tenth.bytes_read, tenth.files_checked * 100);
  const all = await verifySnapshot(made.path, { percent: 100 });
  assert.is(all.files_checked, 1000);
  // The choice is per file: a source of randomness that says "yes" every third time picks every third file.
  let draw = 0;
  const third = await verifySnapshot(made.path, { percent: 50, random: () => ((draw += 1) % 3 === 0 ? 0 : 0.99) });
  assert.is(third.files_checked, 333);
});

test.run();
