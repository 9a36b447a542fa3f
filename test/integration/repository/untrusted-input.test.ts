/**
 * What a repository job does with input it cannot trust (found in review):
 * - a source with entries that exist but cannot be read makes a partial snapshot: the run fails
 *   (as rsync's exit 23 fails a mirror run) and the retention policy is not applied, so the older,
 *   whole snapshots stay;
 * - a snapshot written by another client holding the password, whose path names `..`, is refused by
 *   a restore instead of writing outside the restore target.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalBackend, openRepository, restore } from '../../../src/repository/index.ts';
import { encodeTree } from '../../../src/repository/tree.ts';
import { saveSnapshot } from '../../../src/repository/snapshots.ts';
import { finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
}

const untrusted = suite<Context>('repository jobs and untrusted input');

untrusted.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
});

untrusted.after(async ({ daemon }) => {
  await daemon.stop();
});

async function repositoryJob(admin: ApiClient, source: string, target: string): Promise<{ id: number; password: string }> {
  const created = await admin.post('/api/jobs', {
    name: `Untrusted ${Math.random().toString(36).slice(2, 8)}`,
    source_dirs: [source],
    destination_type: 'local',
    destination_config: { mount_point: target, backup_subdir: 'repo' },
    backup_mode: 'repository',
    retention: { keep_last: 1 },
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.id, password: created.body.repository_password };
}

async function run(admin: ApiClient, url: string, body?: unknown): Promise<any> {
  const answer = await admin.post(url, body);
  assert.ok(answer.status === 200 || answer.status === 202, `${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return finishedRun(admin, answer.body.run_id, 180_000);
}

/**
 * A folder whose deepest entry cannot be read even by root: its path is longer than PATH_MAX, so
 * lstat answers ENAMETOOLONG (made one level at a time from inside, as only relative paths can).
 */
function unreadableBelow(folder: string): void {
  const level = 'd'.repeat(250);
  const home = process.cwd();
  try {
    process.chdir(folder);
    for (let depth = 0; depth < 18; depth++) {
      mkdirSync(level);
      process.chdir(level);
    }
    writeFileSync('deep.txt', 'out of reach\n');
  } finally {
    process.chdir(home);
  }
}

untrusted('a source part that cannot be read fails the run and keeps the older snapshots (no retention after a partial one)', async ({ admin }) => {
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'letter.txt'), 'dear owner\n');
  const job = await repositoryJob(admin, source, tempDir());
  const whole = await run(admin, `/api/jobs/${job.id}/run`);
  assert.is(whole.status, 'completed', whole.error_message);

  unreadableBelow(source);
  try {
    const partial = await run(admin, `/api/jobs/${job.id}/run`);
    assert.is(partial.status, 'failed', 'a backup that left out what it could not read is not a good backup');
    assert.match(partial.error_message, /Partial backup/);
    assert.match(partial.error_message, /ENAMETOOLONG/);
    assert.match(partial.error_message, /older snapshots stay/);
    const listed = (await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots as Array<{ run_id: number | null }>;
    assert.ok(
      listed.some((snapshot) => snapshot.run_id === whole.id),
      `keep_last 1 did not forget the whole snapshot for a partial one: ${JSON.stringify(listed)}`,
    );
  } finally {
    // GNU rm walks by directory handles, so it removes what no full path can name.
    execFileSync('rm', ['-rf', source]);
  }
});

untrusted('a snapshot whose path names ".." is refused by a restore; nothing is written outside the target', async ({ admin }) => {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'cat.jpg'), 'a cat\n');
  const target = tempDir();
  const job = await repositoryJob(admin, source, target);
  assert.is((await run(admin, `/api/jobs/${job.id}/run`)).status, 'completed');

  // Another client with the password writes a snapshot of "/x/..", whose tree holds a folder named "..".
  const repo = await openRepository(new LocalBackend(path.join(target, 'repo')), job.password);
  await repo.loadIndex();
  const file = await repo.saveBlob('data', Buffer.from('written where it must not be\n'));
  const owner = { uid: 0, gid: 0, mode: 0o644, mtime: new Date().toISOString() };
  const inner = await repo.saveBlob('tree', encodeTree([{ name: 'ESCAPED.txt', type: 'file', size: 29, content: [file.id.toString('hex')], ...owner }]));
  const dotdot = await repo.saveBlob('tree', encodeTree([{ name: '..', type: 'dir', subtree: inner.id.toString('hex'), content: null, ...owner, mode: 0o755 | 0o20000000000 }]));
  const root = await repo.saveBlob('tree', encodeTree([{ name: 'x', type: 'dir', subtree: dotdot.id.toString('hex'), content: null, ...owner, mode: 0o755 | 0o20000000000 }]));
  await repo.flush();
  const forged = await saveSnapshot(repo, { time: new Date().toISOString(), tree: root.id.toString('hex'), paths: ['/x/..'], hostname: 'elsewhere', username: 'root', uid: 0, gid: 0 } as any);

  const restoreTo = path.join(tempDir(), 'inside', 'target');
  mkdirSync(restoreTo, { recursive: true });
  const restored = await run(admin, `/api/jobs/${job.id}/restore`, { snapshot_id: forged, target_dir: restoreTo });
  assert.is(restored.status, 'failed');
  assert.match(restored.error_message, /cannot use safely/);
  assert.not.ok(existsSync(path.join(restoreTo, '..', 'ESCAPED.txt')), 'nothing landed beside the target');

  // The engine refuses such a path on its own too.
  const refused = await restore(repo, { snapshot: forged, root: '/x/..', target: path.join(restoreTo, 'x') }).then(
    () => null,
    (error: Error & { code?: string }) => error,
  );
  assert.is(refused?.code, 'REPOSITORY_BAD_NAME');
  assert.not.ok(existsSync(path.join(restoreTo, 'ESCAPED.txt')));
});

untrusted.run();
