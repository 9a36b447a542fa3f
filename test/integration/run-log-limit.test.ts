/**
 * A run that sends more names than its log may hold (CAIRN_RUN_LOG_MAX_MB): the run completes with
 * totals that count every file, the log on disk stays near its limit, and its last line says how
 * many lines were left out — through the real daemon, real rsync and the public API.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOGS_DIR } from '../../src/daemon.ts';
import { createJob, startTestDaemon, tempDir } from '../helpers.ts';
import { countFiles, waitFor } from '../trees.ts';

const FILES = 12_000;

test('a log capped at 1 MB keeps the run whole and says what it left out', async () => {
  const daemon = await startTestDaemon({ runLogMaxMb: 1 });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const source = path.join(tempDir(), 'photos');
    for (let i = 0; i < FILES; i++) {
      const folder = path.join(source, `album-${Math.floor(i / 1000)}`);
      if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, `IMG_${String(i).padStart(6, '0')}-with-a-name-as-long-as-cameras-make-them.jpg`), `${i}`);
    }
    const target = tempDir('cairn-target-');
    const job = await createJob(client, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: '' }, sync_options: { verbosity: 'normal' } });
    const runId: number = (await client.post(`/api/jobs/${job.id}/run`)).body.run_id;
    const run = await waitFor('the run to finish', async () => {
      const body = (await client.get(`/api/runs/${runId}`)).body;
      return ['completed', 'failed'].includes(body.status) ? body : null;
    }, 120_000);

    assert.is(run.status, 'completed', run.error_message);
    assert.is(run.files_transferred, FILES, 'the totals count every file, logged or not');
    assert.is(countFiles(path.join(target, 'photos')).files, FILES, 'every file is on the destination');
    const size = statSync(path.join(daemon.config.dataDir, LOGS_DIR, `${runId}.jsonl`)).size;
    assert.ok(size <= 2_000_000 + 1000, `the log on disk stays within twice its limit (${size} bytes)`);
    assert.ok(size > 900_000, `names were logged up to the limit (${size} bytes)`);

    const all = await client.get(`/api/runs/${runId}/logs?limit=1`);
    const total = Number(all.headers.get('x-total-count'));
    const last = (await client.get(`/api/runs/${runId}/logs?offset=${total - 1}&limit=1`)).body[0];
    assert.is(last.level, 'warning');
    assert.match(last.message, /This log reached its limit of 1 MB \(CAIRN_RUN_LOG_MAX_MB\): [\d,]+ later lines \([\d,]+ info\) were not kept/);
    const leftOut = Number(/: ([\d,]+) later lines/.exec(last.message)![1].replace(/,/g, ''));
    assert.ok(leftOut > 0 && total - 1 + leftOut >= FILES, `kept (${total - 1}) and left out (${leftOut}) lines cover every file`);
  } finally {
    await daemon.stop();
  }
});

test.run();
