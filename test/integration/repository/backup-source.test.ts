/**
 * A backup leaves its sources as they were: reading a file does not change its access time (the
 * daemon runs as root, so O_NOATIME applies), and so a run with nothing changed stores the same
 * tree for a folder of unchanged files instead of a new one.
 */
import { promises as fs, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, type Repository } from '../../../src/repository/index.ts';
import { decodeTree } from '../../../src/repository/tree.ts';
import { tempDir } from '../../helpers.ts';

/** The subtree id of the folder at `parts` below the tree `root`. */
async function subtree(repo: Repository, root: string, parts: string[]): Promise<string> {
  let id = root;
  for (const part of parts) {
    const node = decodeTree(await repo.loadBlob(Buffer.from(id, 'hex'), 'test')).find((n) => n.name === part);
    assert.ok(node?.subtree, `no folder ${part}`);
    id = node.subtree;
  }
  return id;
}

test('reading a source file keeps its access time, and a no-change run stores the same trees for its folder', async () => {
  const work = tempDir('cairn-repo-atime-');
  const source = path.join(work, 'source');
  await fs.mkdir(path.join(source, 'photos'), { recursive: true });
  const files = ['a.jpg', 'b.jpg', 'photos/c.jpg'].map((name) => path.join(source, name));
  for (const file of files) {
    await fs.writeFile(file, `content of ${file}`.repeat(1000));
    // An access time before the modification time: under relatime (the usual mount) a read updates it.
    utimesSync(file, new Date('2020-01-01T00:00:00Z'), new Date('2024-06-01T00:00:00Z'));
  }
  const before = files.map((file) => statSync(file, { bigint: true }).atimeNs);
  const repo = await initRepository(new LocalBackend(path.join(work, 'repo')), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
  await repo.loadIndex();
  const first = await backup(repo, { paths: [source] });
  assert.is(first.files, 3);
  assert.equal(files.map((file) => statSync(file, { bigint: true }).atimeNs), before, 'the backup changed access times');
  const second = await backup(repo, { paths: [source] });
  assert.is(second.filesUnchanged, 3);
  // The folder holding only files has the very same tree (folders' own nodes carry the atime that
  // listing them changes, so the trees above may differ; a file's node must not).
  assert.is(await subtree(repo, second.tree, [...source.split('/').filter(Boolean), 'photos']), await subtree(repo, first.tree, [...source.split('/').filter(Boolean), 'photos']));
});

test('a backup given its parent`s id reads that one snapshot file, not every snapshot', async () => {
  const work = tempDir('cairn-repo-parent-');
  const source = path.join(work, 'source');
  await fs.mkdir(source);
  await fs.writeFile(path.join(source, 'a.txt'), 'a');
  await fs.writeFile(path.join(source, 'b.txt'), 'b');
  const snapshotReads: string[] = [];
  const local = new LocalBackend(path.join(work, 'repo'));
  // The same store, counting what is read from snapshots/.
  const counting = Object.assign(Object.create(local) as LocalBackend, {
    read: (file: string, range?: { offset: number; length: number }) => {
      if (file.startsWith('snapshots/')) snapshotReads.push(file);
      return local.read(file, range);
    },
  });
  const repo = await initRepository(counting, 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
  await repo.loadIndex();
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await backup(repo, { paths: [source], parent: null })).snapshotId);
  snapshotReads.length = 0;
  const result = await backup(repo, { paths: [source], parent: ids[1] });
  assert.is(result.parent, ids[1]);
  assert.is(result.filesUnchanged, 2, 'the parent was not used');
  assert.equal(snapshotReads, [`snapshots/${ids[1]}`]);
  // An id that names no snapshot: no parent, every file read, as before.
  const orphan = await backup(repo, { paths: [source], parent: 'f'.repeat(64) });
  assert.is(orphan.parent, null);
  assert.is(orphan.filesUnchanged, 0);
});

test.run();
