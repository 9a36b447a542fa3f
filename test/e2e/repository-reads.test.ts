/**
 * The API's history reads of a repository job, answered by the daemon's kept worker (issue 14):
 * reads after a new backup see its snapshot and browse its folders (the kept repository reloads its
 * index), and a read that fails (the repository gone) leaves later reads working once it is back.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
}

const reads = suite<Context>('repository history reads in the kept worker');

reads.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
});

reads.after(async ({ daemon }) => {
  await daemon.stop();
});

const names = (page: { body: { entries: { name: string }[] } }) => page.body.entries.map((entry) => entry.name);

reads('reads after each backup see its snapshot and its new folders; a failed read does not poison the next', async ({ admin }) => {
  const source = path.join(tempDir(), 'home');
  await fs.mkdir(source);
  await fs.writeFile(path.join(source, 'first.txt'), 'one');
  const target = tempDir();
  const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
  const backUp = async () => {
    const run = await finishedRun(admin, (await admin.post(`/api/jobs/${job.id}/run`)).body.run_id, 180_000);
    assert.is(run.status, 'completed', run.error_message);
  };
  await backUp();
  const first = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(first.status, 200, JSON.stringify(first.body));
  assert.is(first.body.snapshots.length, 1);
  assert.equal(names(await admin.get(`/api/jobs/${job.id}/snapshots/${first.body.snapshots[0].id}/tree?path=home`)), ['first.txt']);

  // New trees and packs, written by another worker: the kept repository must read the new index.
  await fs.mkdir(path.join(source, 'new folder'));
  await fs.writeFile(path.join(source, 'new folder', 'second.txt'), 'two');
  await backUp();
  const second = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(second.body.snapshots.length, 2);
  const newest = second.body.snapshots[0];
  assert.is(newest.files, 2);
  const folder = await admin.get(`/api/jobs/${job.id}/snapshots/${newest.id}/tree?path=${encodeURIComponent('home/new folder')}`);
  assert.is(folder.status, 200, JSON.stringify(folder.body));
  assert.equal(names(folder), ['second.txt']);

  // The repository goes away (a drive unplugged): a clear error, not the kept copy's old answer.
  const repo = path.join(target, 'repo');
  await fs.rename(repo, `${repo}-away`);
  const away = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.ok(away.status >= 400 && away.status < 600 && away.status !== 200, `${away.status} ${JSON.stringify(away.body)}`);
  await fs.rename(`${repo}-away`, repo);
  const back = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(back.status, 200, JSON.stringify(back.body));
  assert.is(back.body.snapshots.length, 2);
});

reads.run();
