/**
 * A restore larger than one batch of planned files (restore-content.ts's BATCH_FILES): every byte,
 * mode and mtime of files and folders comes back, and the restore writes content before it has
 * planned the whole snapshot (what keeps its memory that of one batch). Planning shows on disk:
 * an empty file or a symlink is made as it is planned, so when the first data pack is read no more
 * than one batch of files may be there.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, restore } from '../../../src/repository/index.ts';
import { BATCH_FILES } from '../../../src/repository/restore-content.ts';
import { tempDir } from '../../helpers.ts';
import { summarize } from './fixtures.ts';

const PASSWORD = 'batches';
/** Two and a half batches; three files in five empty, so the empty ones alone are more than a batch. */
const FILES = Math.floor(BATCH_FILES * 2.5);

/** A local repository that counts the files and symlinks below `target` when its first data pack is read. */
class FirstReadBackend extends LocalBackend {
  madeAtFirstRead = -1;
  constructor(
    root: string,
    private readonly target: string,
  ) {
    super(root);
  }

  override async readInto(file: string, offset: number, into: Buffer): Promise<void> {
    if (file.startsWith('data/') && this.madeAtFirstRead < 0) {
      this.madeAtFirstRead = readdirSync(this.target, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() || entry.isSymbolicLink()).length;
    }
    return super.readInto(file, offset, into);
  }
}

test('a tree of more than two batches restores byte for byte, with modes and mtimes, writing before all is planned', async () => {
  const work = tempDir('cairn-restore-batches-');
  const source = path.join(work, 'source');
  const folders: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(source, `part ${Math.floor(i / 1000)}`, `sub ${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) {
      await fs.mkdir(dir, { recursive: true });
      folders.push(dir, path.dirname(dir));
    }
    const file = path.join(dir, `file-${i}`);
    await fs.writeFile(file, i % 5 < 3 ? '' : randomBytes(1 + ((i * 7919) % 3000)));
    await fs.chmod(file, [0o644, 0o600, 0o755, 0o640][i % 4]);
    const time = new Date(1_500_000_000_000 + i * 1_001);
    await fs.utimes(file, time, time);
    if (i % 1000 === 7) await fs.symlink(`file-${i}`, path.join(dir, `link-${i}`));
  }
  // Folders last (their files changed their mtimes), each its own mode and time.
  for (const [n, dir] of [...new Set(folders)].reverse().entries()) {
    await fs.chmod(dir, n % 2 ? 0o750 : 0o755);
    const time = new Date(1_400_000_000_000 + n * 60_000);
    await fs.utimes(dir, time, time);
  }
  const original = await summarize(source);

  const repoDir = path.join(work, 'repo');
  const created = await initRepository(new LocalBackend(repoDir), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
  await created.loadIndex();
  await backup(created, { paths: [source] });

  const target = path.join(work, 'restored');
  const backend = new FirstReadBackend(repoDir, target);
  const repo = await openRepository(backend, PASSWORD);
  await repo.loadIndex();
  const result = await restore(repo, { snapshot: 'latest', target });

  assert.is(result.files, FILES);
  assert.equal(await summarize(path.join(target, source)), original);
  assert.ok(backend.madeAtFirstRead >= 0, 'a data pack was read');
  assert.ok(backend.madeAtFirstRead <= BATCH_FILES, `${backend.madeAtFirstRead} files and symlinks made before the first data read: at most one batch (${BATCH_FILES}) is planned before writing`);
  assert.equal(
    (await fs.readdir(target, { recursive: true })).filter((name) => name.includes('.cairn-restore-')),
    [],
    'no temp file is left',
  );
});

test.run();
