/**
 * A repository worker blocked in a system call that does not return (a pack on a hung network
 * mount; here a pack replaced by a FIFO nobody writes to) cannot be terminated until the call
 * returns. A cancel must still end the run: the run reads `cancelled` within seconds, not never.
 * (Removing the terminated worker's lock waits for the thread to end; it must not hold the run.)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

/** The largest pack of the repository: the data pack (the tree pack is a few hundred bytes). */
async function dataPack(repo: string): Promise<string> {
  let best = { file: '', size: -1 };
  for (const dir of await fs.readdir(path.join(repo, 'data'))) {
    for (const name of await fs.readdir(path.join(repo, 'data', dir))) {
      const file = path.join(repo, 'data', dir, name);
      const { size } = await fs.stat(file);
      if (size > best.size) best = { file, size };
    }
  }
  return best.file;
}

test('a cancelled restore whose worker is stuck in a system call still ends as cancelled', async () => {
  const daemon = await startTestDaemon({}, { repositoryStopGraceMs: 0 });
  let fifo: string | null = null;
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const source = tempDir();
    await fs.writeFile(path.join(source, 'data.bin'), randomBytes(2 * 1024 * 1024));
    const target = tempDir();
    const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
    const repo = path.join(target, 'repo');
    const backup = await admin.post(`/api/jobs/${job.id}/run`);
    assert.is(backup.status, 200, JSON.stringify(backup.body));
    assert.is((await finishedRun(admin, backup.body.run_id, 120_000)).status, 'completed');

    // The data pack becomes a FIFO: the restore's open of it blocks (under its lock) until a writer comes.
    fifo = await dataPack(repo);
    await fs.rm(fifo);
    execFileSync('mkfifo', [fifo]);
    const restore = await admin.post(`/api/jobs/${job.id}/restore`, { target_dir: tempDir() });
    assert.is(restore.status, 202, JSON.stringify(restore.body));
    const runId = restore.body.run_id;
    await waitFor('the restore to hold its lock', async () => ((await fs.readdir(path.join(repo, 'locks'))).length > 0 ? true : null), 60_000);
    // Give the worker the moment to reach the pack (its trees are read first).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.is((await admin.get(`/api/runs/${runId}`)).body.status, 'running');

    const cancelled = await admin.post(`/api/jobs/${job.id}/cancel`);
    assert.is(cancelled.status, 200, JSON.stringify(cancelled.body));
    const run = await finishedRun(admin, runId, 30_000);
    assert.is(run.status, 'cancelled');
  } finally {
    // Unblock the worker's open (a writer arrives and leaves: the read sees the end), so it can end.
    if (fifo) await fs.open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined);
    await daemon.stop();
  }
});

test.run();
