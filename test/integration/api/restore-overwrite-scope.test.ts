/** Restoring over a job's own sources replaces live files with old ones: an operate key may restore, but not that. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir } from '../../helpers.ts';

test('an operate key gets 403 for overwrite_sources and the sources stay; an admin key may', async () => {
  const daemon = await startTestDaemon();
  try {
    const owner = daemon.client();
    await owner.setupAdmin();
    const home = tempDir();
    const source = path.join(home, 'documents');
    mkdirSync(source);
    writeFileSync(path.join(source, 'letter.txt'), 'old words');
    const job = await createJob(owner, { source_dirs: [source] });
    const runId = (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id;
    assert.is((await finishedRun(owner, runId)).status, 'completed');
    writeFileSync(path.join(source, 'letter.txt'), 'new words');

    const keyClient = async (scope: string) => {
      const client = daemon.client();
      client.bearer = (await owner.post('/api/keys', { name: `${scope} app`, scope })).body.key;
      return client;
    };
    const operate = await keyClient('operate');
    const refused = await operate.post(`/api/jobs/${job.id}/restore`, { target_dir: home, overwrite_sources: true });
    assert.is(refused.status, 403, JSON.stringify(refused.body));
    assert.ok(isErrorShape(refused.body, 'SCOPE_TOO_SMALL'));
    assert.is(readFileSync(path.join(source, 'letter.txt'), 'utf8'), 'new words', 'nothing was restored');

    const admin = await keyClient('admin');
    const allowed = await admin.post(`/api/jobs/${job.id}/restore`, { target_dir: home, overwrite_sources: true });
    assert.is(allowed.status, 202, JSON.stringify(allowed.body));
    assert.is((await finishedRun(owner, allowed.body.run_id)).status, 'completed');
    assert.is(readFileSync(path.join(source, 'letter.txt'), 'utf8'), 'old words');
  } finally {
    await daemon.stop();
  }
});

test.run();
