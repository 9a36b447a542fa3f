/**
 * Restored files are written under a temp name beside their target, which must itself be a name
 * the filesystem takes (at most 255 bytes): a file whose name is long in bytes (85 Japanese
 * characters are 255 bytes of UTF-8) restores like any other, and no temp file is left.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, restore } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';

test('files whose names are 255 bytes of UTF-8 (or of ASCII) restore byte for byte', async () => {
  const work = tempDir('cairn-long-names-');
  const source = path.join(work, 'source');
  await fs.mkdir(source);
  const names = ['あ'.repeat(85), 'é'.repeat(127), 'a'.repeat(255), `${'ü'.repeat(100)}.txt`];
  const contents = names.map(() => randomBytes(1000 + Math.floor(Math.random() * 1000)));
  for (const [i, name] of names.entries()) {
    assert.ok(Buffer.byteLength(name) <= 255);
    await fs.writeFile(path.join(source, name), contents[i]);
  }
  const repo = await initRepository(new LocalBackend(path.join(work, 'repo')), 'long names', { scrypt: { N: 1024, r: 8, p: 1 } });
  await repo.loadIndex();
  const { snapshotId } = await backup(repo, { paths: [source] });
  const target = path.join(work, 'target');
  const result = await restore(repo, { snapshot: snapshotId, target });
  assert.is(result.files, names.length);
  const restored = path.join(target, source);
  assert.equal((await fs.readdir(restored)).sort(), [...names].sort());
  for (const [i, name] of names.entries()) assert.ok((await fs.readFile(path.join(restored, name))).equals(contents[i]), name);
});

test.run();
