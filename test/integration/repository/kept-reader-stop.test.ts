/**
 * The daemon stopping while a repository read is in flight in the kept reader: the read answers
 * 503 DAEMON_STOPPING in the error shape, at once, rather than hang or be cut off.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir } from '../../helpers.ts';

test('a snapshot list in flight when the daemon stops answers 503 DAEMON_STOPPING', async () => {
  const daemon = await startTestDaemon();
  let stopping: Promise<void> | null = null;
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const source = path.join(tempDir(), 'source');
    await fs.mkdir(source);
    await fs.writeFile(path.join(source, 'note.txt'), 'kept\n');
    const target = tempDir();
    const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
    const started = await admin.post(`/api/jobs/${job.id}/run`);
    assert.is((await finishedRun(admin, started.body.run_id)).status, 'completed');
    // The first read starts the kept reader and derives the key (scrypt): 0.5–0.8 s here, so a stop
    // 100 ms after the request (received by then: this process's own loop accepts it first) finds it
    // in flight. A 500 ms wait once saw the read answered before the stop, in a CI run.
    const reading = admin.get(`/api/jobs/${job.id}/snapshots`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = Date.now();
    stopping = daemon.stop();
    const answer = await reading;
    assert.is(answer.status, 503, JSON.stringify(answer.body));
    assert.ok(isErrorShape(answer.body), JSON.stringify(answer.body));
    assert.is(answer.body.code, 'DAEMON_STOPPING');
    assert.ok(Date.now() - asked < 4000, `answered ${Date.now() - asked} ms after the stop began`);
    await stopping;
  } finally {
    await (stopping ?? daemon.stop());
  }
});

test.run();
