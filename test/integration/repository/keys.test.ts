/**
 * Crypto and key files against restic itself: Cairn opens what `restic init` wrote, restic opens
 * what Cairn wrote, and a wrong password or a changed byte is a clear error.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initRepository, LocalBackend, openRepository, openRepositoryWithKey } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'correct horse ✓ battery';

test('Cairn opens a repository restic made and reads its config', async () => {
  const repo = path.join(tempDir(), 'repo');
  await resticOk(repo, PASSWORD, ['init', '--repository-version', '1']);
  const config = JSON.parse(await resticOk(repo, PASSWORD, ['cat', 'config']));
  const opened = await openRepository(new LocalBackend(repo), PASSWORD);
  assert.is(opened.config.id, config.id);
  assert.is(opened.config.version, 1);
  assert.is(opened.config.chunkerPolynomial.toString(16), config.chunker_polynomial);
});

test('restic opens a repository Cairn made and reads the same config', async () => {
  const repo = path.join(tempDir(), 'repo');
  const made = await initRepository(new LocalBackend(repo), PASSWORD);
  const config = JSON.parse(await resticOk(repo, PASSWORD, ['cat', 'config']));
  // Version 2 (zstd), as `restic init` makes by default.
  assert.equal(config, { version: 2, id: made.config.id, chunker_polynomial: made.config.chunkerPolynomial.toString(16) });
  await resticOk(repo, PASSWORD, ['check']);
  const again = await openRepository(new LocalBackend(repo), PASSWORD);
  assert.is(again.config.id, made.config.id);
});

test("a remembered master key opens its own repository (restic's key too), and no other", async () => {
  const root = tempDir();
  const mine = path.join(root, 'mine');
  const other = path.join(root, 'other');
  await resticOk(mine, PASSWORD, ['init', '--repository-version', '1']);
  await resticOk(other, PASSWORD, ['init', '--repository-version', '1']);
  const remembered = (await openRepository(new LocalBackend(mine), PASSWORD)).rememberable()!;
  assert.ok(remembered, 'a repository opened by password has a key to remember');
  // The same master key restic opens with the password.
  const restics = JSON.parse(await resticOk(mine, PASSWORD, ['cat', 'masterkey']));
  assert.equal(remembered.master, restics);
  const reopened = await openRepositoryWithKey(new LocalBackend(mine), remembered);
  assert.is(reopened?.config.id, JSON.parse(await resticOk(mine, PASSWORD, ['cat', 'config'])).id);
  // Another repository (same password, another master key): its config's MAC does not match.
  assert.is(await openRepositoryWithKey(new LocalBackend(other), remembered), null);
  // The key file gone (restic key passwd, key remove): the password must decide again.
  assert.is(await openRepositoryWithKey(new LocalBackend(mine), { ...remembered, keyId: '0'.repeat(64) }), null);
  // Not a key at all.
  assert.is(await openRepositoryWithKey(new LocalBackend(mine), { ...remembered, master: { encrypt: 'short' } }), null);
});

test('a wrong password is REPOSITORY_WRONG_PASSWORD, naming the repository', async () => {
  const repo = path.join(tempDir(), 'repo');
  await resticOk(repo, PASSWORD, ['init', '--repository-version', '1']);
  const error = await openRepository(new LocalBackend(repo), 'not it').catch((e) => e);
  assert.is(error.code, 'REPOSITORY_WRONG_PASSWORD');
  assert.match(error.message, repo);
});

test('a changed byte in the sealed config is REPOSITORY_DAMAGED, never a config', async () => {
  const repo = path.join(tempDir(), 'repo');
  await initRepository(new LocalBackend(repo), PASSWORD);
  const file = path.join(repo, 'config');
  const bytes = await fs.readFile(file);
  bytes[20] ^= 0x01;
  await fs.writeFile(file, bytes);
  const error = await openRepository(new LocalBackend(repo), PASSWORD).catch((e) => e);
  assert.is(error.code, 'REPOSITORY_DAMAGED');
  assert.match(error.message, 'config');
});

test.run();
