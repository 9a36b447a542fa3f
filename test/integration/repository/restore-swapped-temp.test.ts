/**
 * A restore runs as root into folders other users may write to (a home folder). A file's temp is
 * written over several reads; if someone swaps it for a symlink between them, the restore must not
 * follow it: the file it points to keeps its bytes and mode (it fails the restore instead). The
 * same for a restored folder swapped for a symlink before its owner and mode are set.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, restore } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';

/**
 * A local repository that runs `swap` just before its `at`-th read of a data pack (mid-restore), or
 * before a later one if it could not swap yet (reads may run ahead of the file they are for being
 * made: a CI run once found no temp file at the `at`-th read); once swapped, never again.
 */
class SwappingBackend extends LocalBackend {
  reads = 0;
  swapped = false;
  constructor(
    root: string,
    private readonly at: number,
    private readonly swap: () => boolean,
  ) {
    super(root);
  }

  override async readInto(file: string, offset: number, target: Buffer): Promise<void> {
    if (file.startsWith('data/') && ++this.reads >= this.at && !this.swapped) this.swapped = this.swap();
    return super.readInto(file, offset, target);
  }
}

/** Replaces `from` with a symlink to `victim` (moving it aside); false when `from` is not there. */
function swapForSymlink(from: string | undefined, victim: string): boolean {
  if (!from) return false;
  renameSync(from, `${from}-moved-away`);
  symlinkSync(victim, from);
  return true;
}

test('a temp file swapped for a symlink mid-restore is not followed', async () => {
  const work = tempDir('cairn-swap-');
  const source = path.join(work, 'source');
  await fs.mkdir(source);
  // 14 MB of random bytes: one data pack, read in seven or so ranges of at most 2 MiB.
  await fs.writeFile(path.join(source, 'big.bin'), randomBytes(14 * 1024 * 1024));
  const repoDir = path.join(work, 'repo');
  const created = await initRepository(new LocalBackend(repoDir), 'swap', { scrypt: { N: 1024, r: 8, p: 1 } });
  await created.loadIndex();
  const { snapshotId } = await backup(created, { paths: [source] });

  const victim = path.join(work, 'victim.txt');
  await fs.writeFile(victim, 'precious\n', { mode: 0o600 });
  const target = path.join(work, 'target');
  const folder = path.join(target, source);
  const temp = () => readdirSync(folder).find((name) => name.includes('.cairn-restore-'));
  const backend = new SwappingBackend(repoDir, 6, () => swapForSymlink(temp() && path.join(folder, temp()!), victim));
  const repo = await openRepository(backend, 'swap');
  await repo.loadIndex();
  const outcome = await restore(repo, { snapshot: snapshotId, target }).then(
    () => 'completed',
    (error: Error) => error.message,
  );
  assert.ok(backend.swapped, 'the temp file was swapped mid-restore');
  assert.is(await fs.readFile(victim, 'utf8'), 'precious\n', `the restore (${outcome}) wrote through the symlink`);
  assert.is((await fs.stat(victim)).mode & 0o7777, 0o600);
});

test('a folder swapped for a symlink mid-restore does not give its mode to what the symlink names', async () => {
  const work = tempDir('cairn-swap-folder-');
  const source = path.join(work, 'source');
  await fs.mkdir(path.join(source, 'open'), { recursive: true });
  await fs.chmod(path.join(source, 'open'), 0o777);
  await fs.writeFile(path.join(source, 'big.bin'), randomBytes(14 * 1024 * 1024));
  const repoDir = path.join(work, 'repo');
  const created = await initRepository(new LocalBackend(repoDir), 'swap', { scrypt: { N: 1024, r: 8, p: 1 } });
  await created.loadIndex();
  const { snapshotId } = await backup(created, { paths: [source] });

  const victim = path.join(work, 'victim');
  await fs.mkdir(victim, { mode: 0o700 });
  await fs.chmod(victim, 0o700);
  const target = path.join(work, 'target');
  const backend = new SwappingBackend(repoDir, 3, () => swapForSymlink(path.join(target, source, 'open'), victim));
  const repo = await openRepository(backend, 'swap');
  await repo.loadIndex();
  const outcome = await restore(repo, { snapshot: snapshotId, target }).then(
    () => 'completed',
    (error: Error) => error.message,
  );
  assert.ok(backend.swapped, 'the folder was swapped mid-restore');
  assert.is((await fs.stat(victim)).mode & 0o7777, 0o700, `the restore (${outcome}) set the mode through the symlink`);
});

test.run();
