/**
 * LocalBackend's `writeFile`, how a backup's packs (filled in files) reach a local repository: a
 * file in the backend's temp folder is renamed into place (no copy), one from another filesystem
 * (/dev/shm, a tmpfs) is copied; either way the local file is gone afterwards, the stored file is
 * whole under its final name, and a file that cannot be read leaves nothing there.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initRepository, LocalBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';

const dataFile = (id: string) => `data/${id.slice(0, 2)}/${id}`;

async function listed(backend: LocalBackend) {
  const entries = [];
  for await (const entry of backend.list('data')) entries.push(entry);
  return entries;
}

test('a file in the temp folder is renamed into place, one from another filesystem copied; the local file is removed', async () => {
  const root = path.join(tempDir('cairn-local-backend-'), 'repo');
  const backend = new LocalBackend(root);
  await initRepository(backend, 'local backend', { scrypt: { N: 1024, r: 8, p: 1 } });
  const folder = await backend.tempFolder();
  assert.is(folder, path.join(root, 'data'));

  const renamed = randomBytes(32).toString('hex');
  const bytes = randomBytes(3 * 1024 * 1024 + 5);
  const local = path.join(folder, 'pack.cairn-tmp-0001');
  writeFileSync(local, bytes);
  const inode = statSync(local).ino;
  await backend.writeFile(dataFile(renamed), local);
  assert.not.ok(existsSync(local));
  assert.ok(readFileSync(path.join(root, dataFile(renamed))).equals(bytes));
  assert.is(statSync(path.join(root, dataFile(renamed))).ino, inode, 'moved, not copied');

  const shm = mkdtempSync('/dev/shm/cairn-local-backend-');
  try {
    const copied = randomBytes(32).toString('hex');
    const elsewhere = path.join(shm, 'pack');
    writeFileSync(elsewhere, bytes);
    await backend.writeFile(dataFile(copied), elsewhere);
    assert.not.ok(existsSync(elsewhere));
    assert.ok(readFileSync(path.join(root, dataFile(copied))).equals(bytes));
    const names = (await listed(backend)).map((e) => e.name).sort();
    assert.equal(names, [renamed, copied].sort(), 'only the two files, under their final names');
  } finally {
    rmSync(shm, { recursive: true, force: true });
  }

  const missing = randomBytes(32).toString('hex');
  const error = await backend.writeFile(dataFile(missing), path.join(folder, 'pack.cairn-tmp-none')).catch((e) => e);
  assert.is(error.code, 'ENOENT');
  assert.is(await backend.stat(dataFile(missing)), null);
  assert.equal(
    (await listed(backend)).filter((e) => e.name === missing),
    [],
  );
});

test('a pack file a killed engine left half filled in data/ is removed by a later run once a day old; a fresh one stays', async () => {
  const root = path.join(tempDir('cairn-local-backend-'), 'repo');
  const backend = new LocalBackend(root);
  await initRepository(backend, 'local backend', { scrypt: { N: 1024, r: 8, p: 1 } });
  const data = path.join(root, 'data');
  const stale = path.join(data, 'pack.cairn-tmp-0123456789abcdef');
  const fresh = path.join(data, 'pack.cairn-tmp-fedcba9876543210');
  const other = path.join(data, 'notes.txt');
  for (const file of [stale, fresh, other]) writeFileSync(file, randomBytes(1024));
  const old = new Date(Date.now() - 25 * 60 * 60 * 1000);
  utimesSync(stale, old, old);
  utimesSync(other, old, old);
  assert.is(await backend.tempFolder(), data);
  assert.not.ok(existsSync(stale), 'the day-old half-filled pack is removed');
  assert.ok(existsSync(fresh), 'a pack that may still be filling stays');
  assert.ok(existsSync(other), 'only pack files are touched');
});

test.run();
