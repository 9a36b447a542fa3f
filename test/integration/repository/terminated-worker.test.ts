/**
 * A repository task whose worker had to be terminated (it did not stop within its grace: a cancel,
 * or the daemon stopping) held a lock naming the daemon's live pid, which restic and Cairn would
 * honour for 30 minutes. The daemon removes it: right after, `restic check` (an exclusive lock) runs
 * with no `restic unlock`, and the job's next exclusive task (a prune) completes.
 * The daemons here give a stopping worker no grace (`repositoryStopGraceMs: 0`), so it is terminated mid-backup.
 */
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { finishedRun, startTestDaemon, tempDir, type ApiClient } from '../../helpers.ts';
import { backupUnderWay, lockFiles, makeBigSource } from './fixtures.ts';
import { restic } from './restic.ts';

const source = path.join(tempDir(), 'big');

test.before(() => makeBigSource(source));

async function logOf(admin: ApiClient, runId: number): Promise<string> {
  const response = await admin.get(`/api/runs/${runId}/logs?limit=1000`);
  return (response.body as Array<{ message: string }>).map((line) => line.message).join('\n');
}

test('a cancelled backup whose worker is terminated leaves no lock: restic checks at once, and a prune completes', async () => {
  const daemon = await startTestDaemon({}, { repositoryStopGraceMs: 0 });
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const { job, repo, password, runId } = await backupUnderWay(admin, source);
    const cancelled = await admin.post(`/api/jobs/${job.id}/cancel`);
    assert.is(cancelled.status, 200, JSON.stringify(cancelled.body));
    const run = await finishedRun(admin, runId);
    assert.is(run.status, 'cancelled');
    assert.equal(await lockFiles(repo), [], 'the terminated worker`s lock is still there');
    assert.match(await logOf(admin, runId), /Removed the repository lock the stopped task held/);
    const check = await restic(repo, password, ['check']);
    assert.is(check.code, 0, check.stdout + check.stderr);
    const prune = await admin.post(`/api/jobs/${job.id}/retention/apply`);
    assert.is(prune.status, 202, JSON.stringify(prune.body));
    const pruned = await finishedRun(admin, prune.body.run_id, 180_000);
    assert.is(pruned.status, 'completed', pruned.error_message);
  } finally {
    await daemon.stop();
  }
});

test('a backup the daemon`s stop interrupts, its worker terminated, leaves no lock: restic checks at once', async () => {
  const daemon = await startTestDaemon({}, { repositoryStopGraceMs: 0 });
  let stopped = false;
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const { repo, password } = await backupUnderWay(admin, source);
    await daemon.stop();
    stopped = true;
    assert.equal(await lockFiles(repo), [], 'the terminated worker`s lock is still there');
    const check = await restic(repo, password, ['check']);
    assert.is(check.code, 0, check.stdout + check.stderr);
  } finally {
    if (!stopped) await daemon.stop();
  }
});

test.run();
