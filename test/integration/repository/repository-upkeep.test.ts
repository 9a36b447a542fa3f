/**
 * A repository job keeps itself, with Debian's `restic` as the judge: with `keep_last: 2`, three runs
 * leave two snapshots (the API and `restic snapshots` agree), the big file the forgotten one alone
 * held is freed, and `restic check --read-data` is clean; a preview changes nothing; an apply run
 * forgets and prunes; a verify run passes on a whole repository, fails naming a pack whose byte was
 * flipped or which is gone, and a store that is away is answered as away, not as damage; a prune
 * killed with SIGKILL leaves a lock that the next run removes, so restic needs no `restic unlock`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { folderBytes, makeSourceTree } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'prune-child.ts');
const BIG = 8 * 1024 * 1024;

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  source: string;
  target: string;
  repo: string;
  job: any;
  password: string;
}

const upkeep = suite<Context>('repository upkeep');

async function started(admin: ApiClient, url: string, body?: unknown): Promise<any> {
  const answer = await admin.post(url, body);
  assert.ok(answer.status === 200 || answer.status === 202, `${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return finishedRun(admin, answer.body.run_id, 180_000);
}

async function logOf(admin: ApiClient, runId: number): Promise<string> {
  const response = await admin.get(`/api/runs/${runId}/logs?limit=1000`);
  assert.is(response.status, 200, JSON.stringify(response.body));
  return (response.body as Array<{ message: string }>).map((line) => line.message).join('\n');
}

async function resticIds(repo: string, password: string): Promise<string[]> {
  return (JSON.parse(await resticOk(repo, password, ['snapshots', '--json'])) as Array<{ id: string }>).map((s) => s.id).sort();
}

async function apiIds(admin: ApiClient, jobId: number): Promise<string[]> {
  const list = await admin.get(`/api/jobs/${jobId}/snapshots`);
  assert.is(list.status, 200, JSON.stringify(list.body));
  return (list.body.snapshots as Array<{ id: string }>).map((s) => s.id).sort();
}

async function checkClean(repo: string, password: string): Promise<void> {
  const check = await restic(repo, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /no errors were found/);
}

/** The repository's packs, largest first. */
async function packsOf(repo: string): Promise<Array<{ file: string; size: number }>> {
  const packs: Array<{ file: string; size: number }> = [];
  for (const sub of await fs.readdir(path.join(repo, 'data'))) {
    for (const name of await fs.readdir(path.join(repo, 'data', sub))) {
      const file = path.join(repo, 'data', sub, name);
      packs.push({ file, size: (await fs.stat(file)).size });
    }
  }
  return packs.sort((a, b) => b.size - a.size);
}

upkeep.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.source = path.join(tempDir(), 'source');
  await makeSourceTree(context.source, BIG);
  context.target = tempDir();
  context.repo = path.join(context.target, 'repo');
  const created = await context.admin.post('/api/jobs', {
    name: 'Kept tidy',
    source_dirs: [context.source],
    destination_type: 'local',
    destination_config: { mount_point: context.target, backup_subdir: 'repo' },
    backup_mode: 'repository',
    retention: { keep_last: 2 },
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  context.job = created.body;
  context.password = created.body.repository_password;
});

upkeep.after(async ({ daemon }) => {
  await daemon.stop();
});

upkeep('three runs with keep_last 2 keep two snapshots; the big file the first alone held is freed', async ({ admin, job, repo, password, source }) => {
  const first = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(first.status, 'completed', first.error_message);
  const withBig = await folderBytes(path.join(repo, 'data'));
  assert.ok(withBig > BIG, `the repository holds ${withBig} bytes`);
  await fs.rm(path.join(source, 'big.bin'));
  const second = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(second.status, 'completed', second.error_message);
  await fs.writeFile(path.join(source, 'third.txt'), 'the third run\n');
  const third = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(third.status, 'completed', third.error_message);
  const log = await logOf(admin, third.id);
  assert.match(log, /Removed snapshot [0-9a-f]{8}: no retention rule keeps it/);
  assert.match(log, /Keeping snapshot [0-9a-f]{8} \(keep_last/);
  assert.match(log, /Pruned: 1 snapshot\(s\) removed, \d+ pack\(s\) deleted, \d+ repacked into \d+ new, \d+ byte\(s\) freed/);
  const ids = await apiIds(admin, job.id);
  assert.is(ids.length, 2);
  assert.equal(await resticIds(repo, password), ids);
  const after = await folderBytes(path.join(repo, 'data'));
  assert.ok(after < withBig - BIG / 2, `the repository went from ${withBig} to ${after} bytes`);
  assert.is((await fs.readdir(path.join(repo, 'locks'))).length, 0);
  await checkClean(repo, password);
});

upkeep('a preview says what a policy would keep and changes nothing', async ({ admin, job, repo, password }) => {
  const before = await resticIds(repo, password);
  const packs = (await packsOf(repo)).map((pack) => pack.file).sort();
  const preview = await admin.post(`/api/jobs/${job.id}/retention/preview`, { keep_last: 1 });
  assert.is(preview.status, 200, JSON.stringify(preview.body));
  assert.is(preview.body.keep.length, 1);
  assert.is(preview.body.remove.length, 1);
  assert.ok(before.includes(preview.body.remove[0].id));
  assert.equal(await resticIds(repo, password), before);
  assert.equal((await packsOf(repo)).map((pack) => pack.file).sort(), packs);
});

upkeep('an apply run forgets by the stored policy and prunes; restic agrees and checks clean', async ({ admin, job, repo, password }) => {
  const put = await admin.put(`/api/jobs/${job.id}/retention`, { keep_last: 1 });
  assert.is(put.status, 200, JSON.stringify(put.body));
  const run = await started(admin, `/api/jobs/${job.id}/retention/apply`);
  assert.is(run.status, 'completed', run.error_message);
  assert.is(run.trigger, 'prune');
  assert.match(await logOf(admin, run.id), /Pruned: 1 snapshot\(s\) removed/);
  const ids = await apiIds(admin, job.id);
  assert.is(ids.length, 1);
  assert.equal(await resticIds(repo, password), ids);
  await checkClean(repo, password);
});

upkeep('a verify run of a whole repository passes with its figures', async ({ admin, job }) => {
  const [newest] = await apiIds(admin, job.id);
  const answer = await admin.post(`/api/jobs/${job.id}/verify`, {});
  assert.is(answer.status, 202, JSON.stringify(answer.body));
  assert.is(answer.body.snapshot_id, newest);
  const run = await finishedRun(admin, answer.body.run_id, 180_000);
  assert.is(run.status, 'completed', run.error_message);
  assert.is(run.trigger, 'verify');
  assert.is(run.verify.snapshot_id, newest);
  assert.ok(run.verify.files_checked >= 1, JSON.stringify(run.verify));
  assert.ok(run.verify.bytes_read > 0, JSON.stringify(run.verify));
  assert.is(run.verify.mismatched + run.verify.missing + run.verify.unreadable, 0);
  assert.match(await logOf(admin, run.id), /Verified the repository/);
});

upkeep('a verify schedule is accepted for a repository job', async ({ admin, job }) => {
  const created = await admin.post(`/api/jobs/${job.id}/schedules`, { schedule_type: 'daily', hour: 3, minute: 0, action: 'verify', verify_percent: 10 });
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.equal([created.body.action, created.body.verify_percent], ['verify', 10]);
  assert.is((await admin.delete(`/api/schedules/${created.body.id}`)).status, 200);
});

upkeep('a flipped byte in a pack fails the verify run naming the pack', async ({ admin, job, repo, password }) => {
  const [pack] = await packsOf(repo);
  const original = await fs.readFile(pack.file);
  const flipped = Buffer.from(original);
  flipped[Math.floor(flipped.length / 3)] ^= 0x01;
  await fs.writeFile(pack.file, flipped);
  try {
    const run = await started(admin, `/api/jobs/${job.id}/verify`, { percent: 100 });
    assert.is(run.status, 'failed');
    const id = path.basename(pack.file);
    assert.match(run.error_message, /REPOSITORY_DAMAGED|problem\(s\) in the repository/);
    assert.ok(run.error_message.includes(id.slice(0, 12)), run.error_message);
    assert.ok(run.verify.mismatched >= 1, JSON.stringify(run.verify));
    assert.ok((await logOf(admin, run.id)).includes(id.slice(0, 12)));
    // restic agrees that it is damaged: the verify did not invent it.
    assert.is.not((await restic(repo, password, ['check', '--read-data'])).code, 0);
  } finally {
    await fs.writeFile(pack.file, original);
  }
});

upkeep('a missing pack fails the verify run naming it, even reading no pack data', async ({ admin, job, repo }) => {
  const [pack] = await packsOf(repo);
  await fs.rename(pack.file, `${pack.file}.away`);
  try {
    const run = await started(admin, `/api/jobs/${job.id}/verify`, { percent: 1 });
    assert.is(run.status, 'failed');
    assert.ok(run.error_message.includes(path.basename(pack.file).slice(0, 12)), run.error_message);
    assert.ok(run.verify.missing >= 1, JSON.stringify(run.verify));
  } finally {
    await fs.rename(`${pack.file}.away`, pack.file);
  }
});

upkeep('a store that is away is answered as away, never as damage', async ({ admin, job, target }) => {
  const away = `${target}.unplugged`;
  await fs.rename(target, away);
  try {
    const answer = await admin.post(`/api/jobs/${job.id}/verify`, {});
    assert.is(answer.status, 503, JSON.stringify(answer.body));
    assert.ok(isErrorShape(answer.body), JSON.stringify(answer.body));
    assert.not.match(answer.body.message, /damaged/i);
    const apply = await started(admin, `/api/jobs/${job.id}/retention/apply`);
    assert.is(apply.status, 'failed');
    assert.not.match(apply.error_message, /damaged/i);
    assert.match(apply.error_message, /does not exist|cannot be reached/);
  } finally {
    await fs.rename(away, target);
  }
});

upkeep('a prune killed with SIGKILL: the next run removes its lock and succeeds; restic checks clean with no unlock', async ({ admin, job, repo, password, source }) => {
  // Data to free: a second snapshot with a new big file, then the older snapshot forgotten by hand.
  assert.is((await admin.put(`/api/jobs/${job.id}/retention`, {})).status, 200);
  const [older] = await apiIds(admin, job.id);
  await fs.writeFile(path.join(source, 'big.bin'), randomBytes(BIG));
  const run = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(run.status, 'completed', run.error_message);
  await fs.rm(path.join(source, 'big.bin'));
  assert.is((await admin.delete(`/api/jobs/${job.id}/snapshots/${older}`)).status, 200);
  const newer = await apiIds(admin, job.id);
  assert.is(newer.length, 1);
  await fs.writeFile(path.join(source, 'big.bin'), randomBytes(BIG));
  const third = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(third.status, 'completed', third.error_message);
  assert.is((await admin.delete(`/api/jobs/${job.id}/snapshots/${newer[0]}`)).status, 200);

  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, repo, password, 'data-remove:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('STOPPED')) resolve();
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => reject(new Error(`the prune child exited ${code} before it stopped: ${output}`)));
  });
  child.kill('SIGKILL');
  await closed;
  assert.is((await fs.readdir(path.join(repo, 'locks'))).length, 1, 'the killed prune left its exclusive lock');

  await fs.writeFile(path.join(source, 'after the crash.txt'), 'next run\n');
  const next = await started(admin, `/api/jobs/${job.id}/run`);
  assert.is(next.status, 'completed', next.error_message);
  assert.is((await fs.readdir(path.join(repo, 'locks'))).length, 0, 'the stale lock is gone');
  const apply = await started(admin, `/api/jobs/${job.id}/retention/apply`);
  assert.is(apply.status, 'completed', apply.error_message);
  assert.equal((await fs.readdir(path.join(repo, 'locks'))).length, 0);
  await checkClean(repo, password);
});

upkeep.run();
