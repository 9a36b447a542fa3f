/**
 * The repository engine runs in a child process of the daemon. When the kernel's OOM killer picks
 * it (here: SIGKILL, as the OOM killer sends) mid-backup, the run ends failed and says what
 * happened, never succeeded; the lock it held is removed; the next run succeeds and restic checks
 * the repository clean. The engine's process is the one the kernel picks first (oom_score_adj 500),
 * it is gone once its run ends, and what it prints reaches the daemon's log, bounded.
 */
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, createJob, finishedRun, spawnDaemonProcess, startTestDaemon, tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';
import { backupUnderWay, lockFiles, makeBigSource } from './fixtures.ts';
import { ENGINE_ENVIRONMENT } from '../../../src/runs/repository-runs.ts';
import { restic } from './restic.ts';

const source = path.join(tempDir(), 'big');

test.before(() => makeBigSource(source));

/** The repository worker processes `parent` (by default this process, the test daemon's) has started and that still run. */
function engineProcesses(parent = process.pid): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      if (Number(status.match(/^PPid:\s+(\d+)/m)?.[1]) !== parent) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('repository-worker')) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function logOf(admin: ApiClient, runId: number): Promise<string> {
  const response = await admin.get(`/api/runs/${runId}/logs?limit=1000`);
  return (response.body as Array<{ message: string }>).map((line) => line.message).join('\n');
}

test('the engine killed by SIGKILL mid-backup: the run fails saying so, its lock is gone, the next run succeeds', async () => {
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const { job, repo, runId } = await backupUnderWay(admin, source);

    const engines = engineProcesses();
    assert.is(engines.length, 1, `engine processes: ${engines.join(', ')}`);
    const [engine] = engines;
    assert.is(readFileSync(`/proc/${engine}/oom_score_adj`, 'utf8').trim(), '500', 'the kernel is to pick the engine before the daemon');
    // Its own glibc settings, not the daemon's.
    const environ = readFileSync(`/proc/${engine}/environ`, 'utf8').split('\0');
    for (const [name, value] of Object.entries(ENGINE_ENVIRONMENT)) assert.ok(environ.includes(`${name}=${value}`), `${name} not set`);
    process.kill(engine, 'SIGKILL');

    const run = await finishedRun(admin, runId, 60_000);
    assert.is(run.status, 'failed', 'a backup whose engine was killed is not a backup');
    assert.match(run.error_message, /^The backup process was killed \(out of memory\?\) by SIGKILL/);
    assert.equal(await lockFiles(repo), [], 'the killed engine`s lock is still there');
    assert.match(await logOf(admin, runId), /Removed the repository lock the stopped task held/);
    assert.equal(engineProcesses(), []);

    const again = await admin.post(`/api/jobs/${job.id}/run`);
    assert.is(again.status, 200, JSON.stringify(again.body));
    const next = await finishedRun(admin, again.body.run_id, 180_000);
    assert.is(next.status, 'completed', next.error_message);
    // Its engine exits once it has answered; the history's refresh may have started the kept reader since (one process, kept a minute).
    await waitFor('the second backup`s engine to exit', async () => (engineProcesses().length <= 1 ? true : null), 15_000);
    const check = await restic(repo, job.repository_password, ['check']);
    assert.is(check.code, 0, check.stdout + check.stderr);
    const snapshots = JSON.parse((await restic(repo, job.repository_password, ['snapshots', '--json'])).stdout);
    assert.is(snapshots.length, 1, 'only the second run made a snapshot');
    await daemon.stop();
    assert.equal(engineProcesses(), [], 'an engine process outlived the daemon`s stop');
  } finally {
    await daemon.stop();
  }
});

/**
 * Runs `body` with `name` set to `value` in this process's environment, which the test daemon's
 * engine processes inherit when they start; the variable is put back afterwards.
 */
async function withEngineEnvironment<T>(name: string, value: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

/** Starts a run of job `jobId` and waits for its end (the run record). */
async function runToEnd(admin: ApiClient, jobId: number) {
  const started = await admin.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(admin, started.body.run_id, 120_000);
}

test('what the engine prints goes to the daemon`s log, at most 50 lines of it', async () => {
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const small = tempDir();
    await fs.writeFile(path.join(small, 'note.txt'), 'hello\n');
    const job = await createJob(admin, { source_dirs: [small], destination_config: { mount_point: tempDir(), backup_subdir: 'repo' }, backup_mode: 'repository' });
    // Node's own debug output of module loading: hundreds of lines on the engine's stderr (this
    // process read NODE_DEBUG at its start; the engine, started now, reads it from its environment).
    const run = await withEngineEnvironment('NODE_DEBUG', 'module', () => runToEnd(admin, job.id));
    assert.is(run.status, 'completed', run.error_message);
    const printed = await waitFor('the engine`s output in the daemon`s log', async () => {
      const lines = daemon.logLines.filter((line) => line.includes('The repository backup process'));
      return lines.some((line) => /more line\(s\) of output not logged/.test(line)) ? lines : null;
    });
    assert.is(printed.length, 51, printed.slice(-3).join('\n'));
    assert.match(printed[0], /MODULE/);
  } finally {
    await daemon.stop();
  }
});

test('an engine that runs out of V8 heap fails its run, naming the out-of-memory it printed', async () => {
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const target = tempDir();
    const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
    // A heap too small for the engine: V8 gives up and aborts, as on a box out of memory.
    const run = await withEngineEnvironment('NODE_OPTIONS', '--max-old-space-size=8', () => runToEnd(admin, job.id));
    assert.is(run.status, 'failed');
    assert.match(run.error_message, /^The backup process was killed \(out of memory\?\) by SIG[A-Z]+; it last said: .*heap out of memory/);
    assert.equal(await lockFiles(path.join(target, 'repo')), []);
  } finally {
    await daemon.stop();
  }
});

test('the daemon killed mid-backup (the OOM killer picked it after all): its engine stops, releasing its lock', async () => {
  const daemon = await spawnDaemonProcess(tempDir());
  try {
    const admin = new ApiClient(daemon.url);
    await admin.setupAdmin();
    const { job, repo } = await backupUnderWay(admin, source);
    const [engine] = engineProcesses(daemon.child.pid);
    assert.ok(engine, 'the daemon runs its backup in a process of its own');
    await daemon.kill('SIGKILL');
    await waitFor('the engine to stop once its daemon is gone', async () => (existsSync(`/proc/${engine}`) && !readFileSync(`/proc/${engine}/status`, 'utf8').includes('State:\tZ') ? null : true), 60_000);
    assert.equal(await lockFiles(repo), [], 'the engine left its lock');
    const check = await restic(repo, job.repository_password, ['check']);
    assert.is(check.code, 0, check.stdout + check.stderr);
  } finally {
    await daemon.kill('SIGKILL');
  }
});

test.run();
