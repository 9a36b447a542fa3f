/**
 * Repository jobs through the API, with Debian's `restic` as the judge: a job backs up a tree
 * (unicode, empty files, symlinks, nesting, a 20 MB file) into a local folder; restic checks it
 * clean with the password the create answer gave and lists its snapshot; a second run makes a
 * second snapshot that shares the unchanged data; the older snapshot restores the older bytes;
 * the job's history lists, browses and forgets; a repository restic made opens with the owner's
 * password, and a wrong one fails the run saying so; the password is in no later answer, log or
 * data file; the recovery kit's scope, audit and commands.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allFileText, createJob, finishedRun, isErrorShape, recordBodies, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { folderBytes, makeSourceTree, summarize, type EntrySummary } from './fixtures.ts';
import { restic, resticOk } from './restic.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  /** Every answer the admin client got after the create answer. */
  bodies: string[];
  source: string;
  repo: string;
  job: any;
  password: string;
  /** The source as the first run saw it. */
  first: Record<string, EntrySummary>;
}

const jobs = suite<Context>('repository jobs');

async function runJob(admin: ApiClient, jobId: number): Promise<any> {
  const started = await admin.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(admin, started.body.run_id, 180_000);
}

async function logOf(admin: ApiClient, runId: number): Promise<string> {
  const response = await admin.get(`/api/runs/${runId}/logs?limit=1000`);
  return JSON.stringify(response.body);
}

jobs.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.source = path.join(tempDir(), 'Фото и документы');
  await makeSourceTree(context.source);
  context.first = await summarize(context.source);
  const target = tempDir();
  context.repo = path.join(target, 'cairn-repo');
  const created = await context.admin.post('/api/jobs', {
    name: 'Family photos',
    source_dirs: [context.source],
    destination_type: 'local',
    destination_config: { mount_point: target, backup_subdir: 'cairn-repo' },
    backup_mode: 'repository',
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  context.job = created.body;
  context.password = created.body.repository_password;
  context.bodies = recordBodies(context.admin);
});

jobs.after(async ({ daemon }) => {
  await daemon.stop();
});

jobs('the create answer gives a generated password once; the job says it has one', ({ job, password }) => {
  assert.is(job.backup_mode, 'repository');
  assert.is(job.repository_password_set, true);
  assert.match(password, /^[a-z2-9]{4}(-[a-z2-9]{4}){7}$/);
  assert.not.ok('repository_password_sealed' in job);
});

jobs('a run backs the tree up into a repository that restic checks clean and lists', async ({ admin, job, repo, password, source }) => {
  const run = await runJob(admin, job.id);
  assert.is(run.status, 'completed', run.error_message);
  assert.ok(run.files_transferred >= 9, `files_transferred ${run.files_transferred}`);
  const check = await restic(repo, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /no errors were found/);
  const snapshots = JSON.parse(await resticOk(repo, password, ['snapshots', '--json']));
  assert.is(snapshots.length, 1);
  assert.equal(snapshots[0].paths, [await fs.realpath(source)]);
  assert.is(snapshots[0].hostname, os.hostname());
  assert.ok(snapshots[0].tags.includes(`cairn-job-${job.id}`), JSON.stringify(snapshots[0].tags));
  assert.ok(snapshots[0].tags.includes(`cairn-run-${run.id}`), JSON.stringify(snapshots[0].tags));
});

jobs('restic restores what Cairn wrote byte for byte, with modes and times', async ({ repo, password, source, first }) => {
  const out = tempDir();
  await resticOk(repo, password, ['restore', 'latest', '--target', out]);
  assert.equal(await summarize(path.join(out, await fs.realpath(source))), first);
});

jobs('a second run after edits makes a second snapshot that shares the unchanged data', async ({ admin, job, repo, password, source }) => {
  const before = await folderBytes(path.join(repo, 'data'));
  await fs.writeFile(path.join(source, 'docs/readme.txt'), 'edited after the first snapshot\n');
  await fs.writeFile(path.join(source, 'new file.txt'), 'added later\n');
  const run = await runJob(admin, job.id);
  assert.is(run.status, 'completed', run.error_message);
  const grown = (await folderBytes(path.join(repo, 'data'))) - before;
  // The 20 MB file and the rest are unchanged: only the edits and new trees are stored.
  assert.ok(grown < 256 * 1024, `the repository grew by ${grown} bytes`);
  assert.match(await logOf(admin, run.id), /unchanged and not read again/);
  const snapshots = JSON.parse(await resticOk(repo, password, ['snapshots', '--json']));
  assert.is(snapshots.length, 2);
  assert.is(snapshots[1].parent, snapshots[0].id);
  const check = await restic(repo, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
});

jobs('the job lists its snapshots newest first, with counts, and its view has the count', async ({ admin, job }) => {
  const list = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(list.status, 200, JSON.stringify(list.body));
  assert.is(list.body.total, 2);
  const [newer, older] = list.body.snapshots;
  assert.match(newer.id, /^[0-9a-f]{64}$/);
  assert.ok(Date.parse(newer.time) >= Date.parse(older.time));
  assert.is(newer.files, older.files + 1);
  assert.ok(older.total_size > 20 * 1024 * 1024, String(older.total_size));
  assert.type(newer.run_id, 'number');
  const one = await admin.get(`/api/jobs/${job.id}/snapshots/${older.id.slice(0, 8)}`);
  assert.is(one.status, 200, JSON.stringify(one.body));
  assert.is(one.body.id, older.id);
  const view = await admin.get(`/api/jobs/${job.id}`);
  assert.is(view.body.snapshot_count, 2);
  assert.is(view.body.latest_snapshot_at, newer.time);
});

jobs("a snapshot's tree is browsed by the sources' names, in pages", async ({ admin, job, source }) => {
  const [, older] = (await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
  const name = path.basename(source);
  const top = await admin.get(`/api/jobs/${job.id}/snapshots/${older.id}/tree`);
  assert.is(top.status, 200, JSON.stringify(top.body));
  assert.equal(top.body.entries.map((entry: any) => [entry.name, entry.type]), [[name, 'dir']]);
  const folder = await admin.get(`/api/jobs/${job.id}/snapshots/${older.id}/tree?path=${encodeURIComponent(`${name}/Фото 2026`)}&limit=2&offset=0`);
  assert.is(folder.status, 200, JSON.stringify(folder.body));
  assert.is(folder.body.total, 3);
  assert.equal(folder.body.entries.map((entry: any) => entry.name), ['café ☕.txt', 'dangling']);
  assert.is(folder.body.entries[1].type, 'symlink');
  const missing = await admin.get(`/api/jobs/${job.id}/snapshots/${older.id}/tree?path=${encodeURIComponent(`${name}/nope`)}`);
  assert.is(missing.status, 404);
  assert.ok(isErrorShape(missing.body, 'PATH_NOT_FOUND'), JSON.stringify(missing.body));
  const escape = await admin.get(`/api/jobs/${job.id}/snapshots/${older.id}/tree?path=..`);
  assert.is(escape.status, 400);
});

jobs('restoring the older snapshot through the API gives the older bytes', async ({ admin, job, source, first }) => {
  const [, older] = (await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
  const target = tempDir();
  const started = await admin.post(`/api/jobs/${job.id}/restore`, { target_dir: target, snapshot_id: older.id.slice(0, 8) });
  assert.is(started.status, 202, JSON.stringify(started.body));
  assert.is(started.body.snapshot_id, older.id);
  const run = await finishedRun(admin, started.body.run_id, 120_000);
  assert.is(run.status, 'completed', run.error_message);
  assert.equal(await summarize(path.join(target, path.basename(source))), first);
});

jobs('a restore of some paths brings back only those', async ({ admin, job, source }) => {
  const target = tempDir();
  const name = path.basename(source);
  const started = await admin.post(`/api/jobs/${job.id}/restore`, { target_dir: target, paths: [`${name}/docs/deep`, `${name}/empty.txt`] });
  assert.is(started.status, 202, JSON.stringify(started.body));
  const run = await finishedRun(admin, started.body.run_id, 120_000);
  assert.is(run.status, 'completed', run.error_message);
  const restored = Object.keys(await summarize(path.join(target, name))).sort();
  assert.equal(restored, ['docs', 'docs/deep', 'docs/deep/deeper', 'docs/deep/deeper/deepest', 'docs/deep/deeper/deepest/note.md', 'empty.txt']);
});

jobs('the password is never shown again: not in answers, run logs or the data folder', async ({ daemon, admin, job, password, bodies }) => {
  const view = await admin.get(`/api/jobs/${job.id}`);
  assert.not.ok('repository_password' in view.body);
  await admin.get('/api/jobs');
  for (const body of bodies) assert.not.ok(body.includes(password), `an answer holds the password: ${body.slice(0, 200)}`);
  assert.not.ok(allFileText(daemon.config.dataDir).includes(password), 'the data folder holds the password in clear');
  assert.not.ok(daemon.logLines.join('\n').includes(password), "the daemon's log holds the password");
});

jobs('a set password cannot be changed; giving the same one again is fine', async ({ admin, job, password }) => {
  const changed = await admin.put(`/api/jobs/${job.id}`, { repository_password: 'another password entirely' });
  assert.is(changed.status, 400);
  assert.ok(isErrorShape(changed.body, 'REPOSITORY_PASSWORD_FIXED'), JSON.stringify(changed.body));
  const same = await admin.put(`/api/jobs/${job.id}`, { repository_password: password, description: 'same password' });
  assert.is(same.status, 200, JSON.stringify(same.body));
  assert.not.ok('repository_password' in same.body);
});

jobs('the recovery kit names the repository, the password and commands that work with restic', async ({ admin, job, repo, password }) => {
  const kit = await admin.get(`/api/jobs/${job.id}/recovery-kit`);
  assert.is(kit.status, 200, JSON.stringify(kit.body));
  assert.is(kit.headers.get('cache-control'), 'no-store');
  assert.is(kit.body.repository, repo);
  assert.is(kit.body.password, password);
  // The kit's own list command, run as printed (restic reads the password from the environment here).
  const listed = await restic(repo, password, kit.body.commands.list.split(' ').slice(3));
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /2 snapshots/);
  const text = await admin.request('GET', `/api/jobs/${job.id}/recovery-kit?format=text`);
  assert.is(text.status, 200);
  assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
  assert.ok(String(text.body).includes(password) && String(text.body).includes(kit.body.commands.restore_latest));
});

jobs('the recovery kit takes a session or an admin key, and every fetch is audited', async ({ daemon, admin, job }) => {
  const statuses: Record<string, number> = {};
  for (const scope of ['read', 'operate', 'admin']) {
    const made = await admin.post('/api/keys', { name: `kit ${scope}`, scope });
    const app = daemon.client();
    app.bearer = made.body.key;
    const response = await app.get(`/api/jobs/${job.id}/recovery-kit`);
    statuses[scope] = response.status;
    if (response.status === 403) assert.ok(isErrorShape(response.body, 'SCOPE_TOO_SMALL'), JSON.stringify(response.body));
  }
  assert.equal(statuses, { read: 403, operate: 403, admin: 200 });
  const audit = await admin.get('/api/audit?limit=1000&action=job.recovery_kit');
  assert.ok(audit.body.entries.length >= 2, JSON.stringify(audit.body));
  const mirror = await createJob(admin);
  const refused = await admin.get(`/api/jobs/${mirror.id}/recovery-kit`);
  assert.is(refused.status, 409);
  assert.ok(isErrorShape(refused.body, 'NOT_A_REPOSITORY_JOB'), JSON.stringify(refused.body));
});

jobs('deleting a snapshot forgets it in the repository, which stays clean', async ({ admin, job, repo, password }) => {
  const [, older] = (await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
  const deleted = await admin.delete(`/api/jobs/${job.id}/snapshots/${older.id}`);
  assert.is(deleted.status, 200, JSON.stringify(deleted.body));
  const snapshots = JSON.parse(await resticOk(repo, password, ['snapshots', '--json']));
  assert.equal(snapshots.map((s: any) => s.id), [(await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots[0].id]);
  const check = await restic(repo, password, ['check']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  const again = await admin.delete(`/api/jobs/${job.id}/snapshots/${older.id}`);
  assert.is(again.status, 404);
});

jobs('a repository restic made opens with the owner password: Cairn lists, backs up into and restores it', async ({ admin }) => {
  const ownerPassword = 'the owner chose this one';
  const target = tempDir();
  const repo = path.join(target, 'restic-repo');
  const data = path.join(tempDir(), 'papers');
  await makeSourceTree(data, 1024 * 1024);
  const made = await summarize(data);
  // restic's default: format version 2, zstd-compressed.
  await resticOk(repo, ownerPassword, ['init']);
  await resticOk(repo, ownerPassword, ['backup', data]);
  const created = await admin.post('/api/jobs', {
    name: 'Brought repository',
    source_dirs: [data],
    destination_type: 'local',
    destination_config: { mount_point: target, backup_subdir: 'restic-repo' },
    backup_mode: 'repository',
    repository_password: ownerPassword,
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.not.ok('repository_password' in created.body, 'a password the owner gave is not echoed');
  const listed = await admin.get(`/api/jobs/${created.body.id}/snapshots`);
  assert.is(listed.status, 200, JSON.stringify(listed.body));
  assert.is(listed.body.total, 1);
  const resticSnapshot = listed.body.snapshots[0];
  await fs.writeFile(path.join(data, 'docs/readme.txt'), 'changed after restic\n');
  const run = await runJob(admin, created.body.id);
  assert.is(run.status, 'completed', run.error_message);
  const check = await restic(repo, ownerPassword, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.is(JSON.parse(await resticOk(repo, ownerPassword, ['snapshots', '--json'])).length, 2);
  const out = tempDir();
  const started = await admin.post(`/api/jobs/${created.body.id}/restore`, { target_dir: out, snapshot_id: resticSnapshot.id });
  assert.is(started.status, 202, JSON.stringify(started.body));
  const restore = await finishedRun(admin, started.body.run_id, 120_000);
  assert.is(restore.status, 'completed', restore.error_message);
  assert.equal(await summarize(path.join(out, 'papers')), made);
});

jobs('a wrong password fails the run with a clear message and leaves the repository alone', async ({ admin }) => {
  const target = tempDir();
  const repo = path.join(target, 'locked');
  await resticOk(repo, 'the right password', ['init']);
  const before = await fs.readdir(repo, { recursive: true });
  const job = await createJob(admin, {
    destination_config: { mount_point: target, backup_subdir: 'locked' },
    backup_mode: 'repository',
    repository_password: 'not the right one',
  });
  const run = await runJob(admin, job.id);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /password does not open the repository/);
  assert.not.ok(run.error_message.includes('not the right one'));
  assert.equal((await fs.readdir(repo, { recursive: true })).sort(), before.sort());
});

jobs("a box export carries the repository password, so the new box opens the same repository", async ({ admin, job, password }) => {
  const passphrase = 'a long export passphrase';
  const exported = await admin.post('/api/system/export', { passphrase });
  assert.is(exported.status, 200, JSON.stringify(exported.body));
  assert.not.ok(String(exported.body).includes(password), 'the export holds the password in clear');
  const other = await startTestDaemon();
  try {
    const owner = other.client();
    await owner.setupAdmin();
    const imported = await owner.post('/api/system/import', { file: exported.body, passphrase });
    assert.is(imported.status, 200, JSON.stringify(imported.body));
    const copy = (await owner.get('/api/jobs')).body.find((candidate: any) => candidate.name === job.name);
    assert.is(copy.repository_password_set, true);
    assert.is((await owner.get(`/api/jobs/${copy.id}/recovery-kit`)).body.password, password);
  } finally {
    await other.stop();
  }
});

jobs('repository mode is refused where the destination cannot hold a repository, and nothing is saved', async ({ admin }) => {
  const before = (await admin.get('/api/jobs')).body.length;
  const response = await admin.post('/api/jobs', {
    name: 'Repository on rclone',
    source_dirs: [tempDir()],
    destination_type: 'rclone',
    destination_config: { remote_type: 'b2', path: 'bucket/backups' },
    backup_mode: 'repository',
  });
  assert.is(response.status, 400, JSON.stringify(response.body));
  assert.ok(isErrorShape(response.body, 'BACKUP_MODE_UNSUPPORTED'), JSON.stringify(response.body));
  assert.is((await admin.get('/api/jobs')).body.length, before);
});

jobs('repository mode is refused with a dry run', async ({ admin }) => {
  const response = await admin.post('/api/jobs', {
    name: 'Dry repository',
    source_dirs: [tempDir()],
    destination_type: 'local',
    destination_config: { mount_point: tempDir(), backup_subdir: '' },
    backup_mode: 'repository',
    sync_options: { dry_run: true },
  });
  assert.is(response.status, 400);
  assert.ok(isErrorShape(response.body, 'SNAPSHOT_DRY_RUN'), JSON.stringify(response.body));
});

jobs.run();
