/**
 * Health beyond failing jobs: a destination that is nearly full (a real small filesystem, filled),
 * the space refreshed after a run without a dashboard call, and an overdue threshold injected from
 * outside (as the alert settings will supply it).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir } from '../../helpers.ts';
import { fileContent, waitFor } from '../../trees.ts';

const execFileAsync = promisify(execFile);

test('a destination 90% full makes health degraded once a run has read its space; the owner is told which job', async () => {
  const mount = tempDir('cairn-small-');
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const job = await createJob(admin, { name: 'Tight', destination_config: { mount_point: mount, backup_subdir: '' } });
    assert.is((await daemon.client().get('/api/system/health')).body.status, 'ok', 'no space read yet, no job failed');

    writeFileSync(path.join(mount, 'filler.bin'), fileContent('filler', Math.round(3.8 * 1024 * 1024)));
    const run = await finishedRun(admin, (await admin.post(`/api/jobs/${job.id}/run`)).body.run_id);
    assert.is(run.status, 'completed');
    // The run's end reads the destination again; health itself never does.
    const health = await waitFor('health to see the full destination', async () => {
      const answer = (await admin.get('/api/system/health')).body;
      return answer.status === 'degraded' ? answer : null;
    });
    assert.equal(
      health.reasons.map((reason: any) => [reason.code, reason.job_id]),
      [['DESTINATION_NEARLY_FULL', job.id]],
    );
    assert.match(health.reasons[0].message, /"Tight" is 9\d% full/);
    assert.equal((await daemon.client().get('/api/system/health')).body, { status: 'degraded', version: health.version });
  } finally {
    await daemon.stop();
    await execFileAsync('umount', [mount]);
  }
});

test('an injected overdue rule decides: a job without schedules is overdue when the rule says so', async () => {
  const daemon = await startTestDaemon({}, { overdueAfterMs: (job) => (job.name === 'Weekly drive' ? 1 : null) });
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const drive = await createJob(admin, { name: 'Weekly drive' });
    const other = await createJob(admin, { name: 'Other' });
    for (const job of [drive, other]) await finishedRun(admin, (await admin.post(`/api/jobs/${job.id}/run`)).body.run_id);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const jobs = (await admin.get('/api/dashboard')).body.jobs;
    assert.equal(
      jobs.map((job: any) => [job.name, job.state, job.overdue_after_ms]),
      [
        ['Weekly drive', 'overdue', 1],
        ['Other', 'ok', null],
      ],
    );
    const reasons = (await admin.get('/api/system/health')).body.reasons;
    assert.equal(reasons.map((reason: any) => reason.code), ['JOB_OVERDUE']);
  } finally {
    await daemon.stop();
  }
});

test("the owner's overdue alert rule is the dashboard's overdue threshold; without one the schedules decide", async () => {
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const ruled = await createJob(admin, { name: 'Ruled', notify: { overdue_hours: 30 } });
    const plain = await createJob(admin, { name: 'Plain' });
    const byName = async () => new Map((await admin.get('/api/dashboard')).body.jobs.map((job: any) => [job.name, job.overdue_after_ms]));
    assert.is((await byName()).get('Ruled'), 30 * 3_600_000);
    assert.is((await byName()).get('Plain'), null);
    assert.is((await admin.put('/api/settings', { notify: { overdue_hours: 48 } })).status, 200);
    assert.is((await byName()).get('Plain'), 48 * 3_600_000, 'the default rule applies to a job without its own');
    assert.is((await byName()).get('Ruled'), 30 * 3_600_000, "the job's own rule wins");
  } finally {
    await daemon.stop();
  }
});

test.run();
