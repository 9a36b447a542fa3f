/**
 * The daemon remembers the master key a repository task opened (in memory), so the next task for the
 * same repository opens it without scrypt; a repository replaced at that place, a password changed
 * with restic, or another job's wrong password still go through the password, as before.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allFileText, createJob, finishedRun, recordBodies, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { restic, resticOk } from './restic.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  bodies: string[];
}

const remembered = suite<Context>('remembered repository keys');

const REMEMBERED = 'Opened the repository with the key remembered from an earlier run';
const NOT_OPENED = 'The remembered key does not open the repository here';

remembered.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.bodies = recordBodies(context.admin);
});

remembered.after(async ({ daemon }) => {
  await daemon.stop();
});

/** A repository job over a small source of its own; `password` given or generated. */
async function repositoryJob(admin: ApiClient, options: { target?: string; subdir?: string; password?: string } = {}): Promise<{ job: any; repo: string; password: string; source: string }> {
  const target = options.target ?? tempDir();
  const subdir = options.subdir ?? 'repo';
  const source = path.join(tempDir(), 'papers');
  await fs.mkdir(source);
  await fs.writeFile(path.join(source, 'letter.txt'), 'dear diary\n');
  const job = await createJob(admin, {
    source_dirs: [source],
    destination_config: { mount_point: target, backup_subdir: subdir },
    backup_mode: 'repository',
    ...(options.password ? { repository_password: options.password } : {}),
  });
  return { job, repo: path.join(target, subdir), password: options.password ?? job.repository_password, source };
}

async function run(admin: ApiClient, jobId: number, action = 'run', body?: object): Promise<{ run: any; log: string }> {
  const started = await admin.post(`/api/jobs/${jobId}/${action}`, body);
  assert.ok(started.status === 200 || started.status === 202, JSON.stringify(started.body));
  const finished = await finishedRun(admin, started.body.run_id, 180_000);
  const logs = await admin.get(`/api/runs/${started.body.run_id}/logs?limit=1000`);
  return { run: finished, log: logs.body.map((entry: { message: string }) => entry.message).join('\n') };
}

remembered('a second backup and a verify open the repository with the remembered key; restic checks it clean', async ({ admin }) => {
  const { job, repo, password, source } = await repositoryJob(admin);
  const first = await run(admin, job.id);
  assert.is(first.run.status, 'completed', first.run.error_message);
  assert.not.ok(first.log.includes(REMEMBERED), 'a repository just created has no remembered key yet');
  await fs.writeFile(path.join(source, 'second.txt'), 'more\n');
  const second = await run(admin, job.id);
  assert.is(second.run.status, 'completed', second.run.error_message);
  assert.ok(second.log.includes(REMEMBERED), second.log);
  const verify = await run(admin, job.id, 'verify', { percent: 100 });
  assert.is(verify.run.status, 'completed', verify.run.error_message);
  assert.ok(verify.log.includes(REMEMBERED), verify.log);
  const check = await restic(repo, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  const snapshots = JSON.parse(await resticOk(repo, password, ['snapshots', '--json']));
  assert.is(snapshots.length, 2);
});

remembered('a repository replaced at the same place (restic init, same password) is opened by the password; the next run works', async ({ admin }) => {
  const { job, repo, password } = await repositoryJob(admin);
  assert.is((await run(admin, job.id)).run.status, 'completed');
  await fs.rm(repo, { recursive: true });
  await resticOk(repo, password, ['init']);
  const other = tempDir();
  await fs.writeFile(path.join(other, 'restic-made.txt'), 'from restic\n');
  await resticOk(repo, password, ['backup', other]);
  const after = await run(admin, job.id);
  assert.is(after.run.status, 'completed', after.run.error_message);
  assert.ok(after.log.includes(NOT_OPENED), after.log);
  assert.not.ok(after.log.includes(REMEMBERED), after.log);
  const check = await restic(repo, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.is(JSON.parse(await resticOk(repo, password, ['snapshots', '--json'])).length, 2);
  // The key the password opened is remembered in its place.
  const again = await run(admin, job.id);
  assert.is(again.run.status, 'completed', again.run.error_message);
  assert.ok(again.log.includes(REMEMBERED), again.log);
});

remembered('a password changed with restic (key passwd) is a wrong password, never opened through the remembered key', async ({ admin }) => {
  const { job, repo, password } = await repositoryJob(admin);
  assert.is((await run(admin, job.id)).run.status, 'completed');
  const file = path.join(tempDir(), 'new-password');
  await fs.writeFile(file, 'a password only restic knows\n');
  await resticOk(repo, password, ['key', 'passwd', '--new-password-file', file]);
  const after = await run(admin, job.id);
  assert.is(after.run.status, 'failed');
  assert.match(after.run.error_message, /password does not open the repository/);
  assert.not.ok(after.log.includes(REMEMBERED), after.log);
});

remembered("a job with a wrong password for another job's repository never gets that job's key", async ({ daemon, admin, bodies }) => {
  const owner = await repositoryJob(admin);
  assert.is((await run(admin, owner.job.id)).run.status, 'completed');
  const target = path.dirname(owner.repo);
  const intruder = await repositoryJob(admin, { target, password: 'not the right one' });
  const before = (await fs.readdir(owner.repo, { recursive: true })).sort();
  const attempt = await run(admin, intruder.job.id);
  assert.is(attempt.run.status, 'failed');
  assert.match(attempt.run.error_message, /password does not open the repository/);
  assert.not.ok(attempt.log.includes(REMEMBERED), attempt.log);
  // A verify is refused before it starts: the snapshot it would check is looked up with the password.
  const verify = await admin.post(`/api/jobs/${intruder.job.id}/verify`, { percent: 100 });
  assert.is(verify.status, 400, JSON.stringify(verify.body));
  assert.is(verify.body.code, 'REPOSITORY_WRONG_PASSWORD');
  const listed = await admin.get(`/api/jobs/${intruder.job.id}/snapshots`);
  assert.is(listed.status, 400, JSON.stringify(listed.body));
  assert.is(listed.body.code, 'REPOSITORY_WRONG_PASSWORD');
  assert.equal((await fs.readdir(owner.repo, { recursive: true })).sort(), before);
  // The owner's runs still use the key; the intruder's failures did not make it forget it.
  const again = await run(admin, owner.job.id);
  assert.ok(again.log.includes(REMEMBERED), again.log);
  // The master key is never in an answer, nor anywhere in the daemon's data folder.
  const master = await masterKeyOf(owner.repo, owner.password);
  for (const body of bodies) assert.not.ok(body.includes(master), 'an answer holds the master key');
  assert.not.ok(allFileText(daemon.config.dataDir).includes(master), 'the data folder holds the master key');
  assert.not.ok(daemon.logLines.join('\n').includes(master), "the daemon's log holds the master key");
});

/** The repository's master encryption key (base64), as restic prints it. */
async function masterKeyOf(repo: string, password: string): Promise<string> {
  const shown = JSON.parse(await resticOk(repo, password, ['cat', 'masterkey']));
  return shown.encrypt as string;
}

remembered.run();
