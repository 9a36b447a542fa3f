/**
 * A prune killed with SIGKILL at each step that matters (new packs written but no index yet; new
 * index written, old ones not yet removed; half-way through the old packs' removal): afterwards
 * `restic check --read-data` is clean (after `restic unlock`, which a killed process's lock needs
 * for restic, as after any restic killed), Cairn backs up and restores byte for byte, and a
 * second prune finishes the job.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { backup, forget, initRepository, LocalBackend, openRepository, prune, restore, type Repository } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { makeSourceTree, summarize } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

const PASSWORD = 'killed mid-prune';
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'prune-child.ts');

async function opened(dir: string): Promise<Repository> {
  const repo = await openRepository(new LocalBackend(dir), PASSWORD);
  await repo.loadIndex();
  return repo;
}

/** A repository with three snapshots of a changing tree, the first two forgotten: prune has packs to remove and to repack. */
async function repositoryToPrune(work: string): Promise<{ repoDir: string; source: string }> {
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await makeSourceTree(source, 4 * 1024 * 1024);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  for (let round = 0; round < 3; round++) {
    if (round > 0) {
      await fs.writeFile(path.join(source, 'big.bin'), randomBytes(4 * 1024 * 1024));
      await fs.rm(path.join(source, `round ${round - 1}.txt`), { force: true });
      await fs.writeFile(path.join(source, `round ${round}.txt`), `round ${round}\n`);
    }
    await backup(await opened(repoDir), { paths: [source], time: new Date(Date.UTC(2026, 4, 1 + round)) });
  }
  await forget(await opened(repoDir), { ...emptyRetentionPolicy(), keep_last: 1 }, { now: new Date('2026-06-01T00:00:00Z'), timeZone: 'UTC' });
  return { repoDir, source };
}

/** Runs the prune child until it reports `STOPPED <stop>`, then kills it with SIGKILL. */
async function pruneKilledAt(repoDir: string, stop: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, repoDir, PASSWORD, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes(`STOPPED ${stop}`)) resolve();
      if (output.includes('DONE')) reject(new Error(`the prune finished before ${stop}: ${output}`));
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => reject(new Error(`the prune child exited ${code} before ${stop}: ${output}`)));
  });
  child.kill('SIGKILL');
  await closed;
}

for (const stop of ['index-write', 'index-remove', 'data-remove:2']) {
  test(`a prune killed at ${stop}: restic checks clean, Cairn backs up and restores, the next prune finishes`, async () => {
    const work = tempDir('cairn-prune-crash-');
    const { repoDir, source } = await repositoryToPrune(work);
    await pruneKilledAt(repoDir, stop);
    assert.is((await fs.readdir(path.join(repoDir, 'locks'))).length, 1, 'the killed prune left its lock');

    await resticOk(repoDir, PASSWORD, ['unlock']);
    const checked = await restic(repoDir, PASSWORD, ['check', '--read-data']);
    assert.is(checked.code, 0, checked.stdout + checked.stderr);
    const target = path.join(work, 'restic-restored');
    await resticOk(repoDir, PASSWORD, ['restore', 'latest', '--target', target]);
    assert.equal(await summarize(path.join(target, source)), await summarize(source));

    // Cairn's next run: a backup and a restore of it; then a prune that finishes.
    await fs.writeFile(path.join(source, 'after the crash.txt'), 'still here\n');
    const next = await backup(await opened(repoDir), { paths: [source] });
    const again = path.join(work, 'cairn-restored');
    await restore(await opened(repoDir), { snapshot: next.snapshotId, target: again });
    assert.equal(await summarize(path.join(again, source)), await summarize(source));
    await prune(await opened(repoDir), { maxUnusedPercent: 0 });
    const final = await restic(repoDir, PASSWORD, ['check', '--read-data']);
    assert.is(final.code, 0, final.stdout + final.stderr);
    assert.not.match(final.stdout, /not referenced|several indexes/, 'the second prune left no leftovers');
  });
}

test.run();
