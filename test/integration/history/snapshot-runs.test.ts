/**
 * Runs of a `snapshots` job through the API of a real daemon, onto a real ext4 filesystem on a loop
 * device, with the real rsync: each run makes a snapshot folder the owner can copy files out of, the
 * retention policy prunes after each run and on demand, verify finds flipped bytes, a schedule can
 * verify, and the status WebSocket announces what appears and goes.
 */
import { copyFileSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync, readSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { listSnapshots } from '../../../src/history/index.ts';
import { createJob, createSchedule, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { fileContent, snapshotTree, waitFor } from '../../trees.ts';
import { ext4Drive, type Ext4Drive } from './engine.ts';

let drive: Ext4Drive;
let daemon: TestDaemon;
let client: ApiClient;
let clockOffset = 0;
/** Moves the daemon's schedule clock (only schedules read it). */
const setClock = (iso: string | null) => (clockOffset = iso === null ? 0 : new Date(iso).getTime() - Date.now());

test.before(async () => {
  drive = ext4Drive(256);
  daemon = await startTestDaemon({}, { scheduleClock: () => new Date(Date.now() + clockOffset) });
  client = daemon.client();
  await client.setupAdmin();
  assert.is((await client.put('/api/settings', { timezone: 'Europe/Berlin' })).status, 200);
});
test.after(async () => {
  await daemon?.stop();
  drive?.remove();
});

let jobs = 0;
/** A snapshots job backing up a fresh source folder `photos` (filled with `files`) into its own folder on the drive. */
async function snapshotJob(files: Record<string, Buffer>, overrides: Record<string, unknown> = {}) {
  jobs += 1;
  const source = path.join(tempDir(), 'photos');
  writeTree(source, files);
  const subdir = `job${jobs}`;
  const job = await createJob(client, {
    name: `Snapshots ${jobs}`,
    source_dirs: [source],
    destination_config: { mount_point: drive.mount, backup_subdir: subdir },
    backup_mode: 'snapshots',
    ...overrides,
  });
  return { job, source, root: path.join(drive.mount, subdir) };
}

function writeTree(root: string, files: Record<string, Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
}

/** Runs the job once through the API and returns the finished run, which must be `completed`. */
async function runOnce(jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  const run = await finishedRun(client, started.body.run_id);
  assert.is(run.status, 'completed', `${run.error_message}`);
  return run;
}

const logOf = async (runId: number, level = '') => (await client.get(`/api/runs/${runId}/logs?limit=1000${level ? `&level=${level}` : ''}`)).body.map((entry: any) => entry.message) as string[];
const inode = (file: string) => statSync(file).ino;

test('three runs make three snapshot folders: a deleted and a modified file are restorable byte for byte, unchanged files share inodes', async () => {
  const original = {
    'keep.txt': fileContent('keep', 3000),
    'gone.txt': fileContent('gone', 5000),
    'changed.txt': fileContent('changed', 4000),
    'sub/deep.bin': fileContent('deep', 100_000),
  };
  const { job, source, root } = await snapshotJob(original);
  const first = await runOnce(job.id);
  assert.is(first.files_transferred, 4, 'the first snapshot copies everything');
  rmSync(path.join(source, 'gone.txt'));
  // Another size: rsync would take a same-size edit within the same second for unchanged (a known limit of the local destination).
  // Another size: an edit of the same size within the same second looks unchanged to rsync (a known limit of the local destination).
  writeFileSync(path.join(source, 'changed.txt'), fileContent('changed, edited', 4100));
  const second = await runOnce(job.id);
  assert.is(second.files_transferred, 1, 'only the edited file is copied');
  writeFileSync(path.join(source, 'new.txt'), 'new');
  await runOnce(job.id);

  const folders = readdirSync(root).filter((name) => !name.startsWith('.'));
  assert.is(folders.length, 3, folders.join(', '));
  const [newest, middle, oldest] = await listSnapshots(root);
  assert.equal([newest, middle, oldest].map((snapshot) => snapshot.id).sort(), [...folders].sort());
  assert.match(oldest.id, /^\d{4}-\d\d-\d\dT\d{6}[+-]\d{4}(-\d+)?$/);
  assert.is(oldest.run_id, first.id);
  assert.is(middle.run_id, second.id);

  // The owner copies files out of the older snapshot with nothing but cp.
  const restored = tempDir();
  copyFileSync(path.join(oldest.path, 'photos/gone.txt'), path.join(restored, 'gone.txt'));
  copyFileSync(path.join(oldest.path, 'photos/changed.txt'), path.join(restored, 'changed.txt'));
  assert.ok(readFileSync(path.join(restored, 'gone.txt')).equals(original['gone.txt']), 'the deleted file, byte for byte');
  assert.ok(readFileSync(path.join(restored, 'changed.txt')).equals(original['changed.txt']), 'the file before its edit, byte for byte');
  assert.equal(snapshotTree(path.join(newest.path, 'photos')), snapshotTree(source), 'the newest snapshot is the source now');

  for (const name of ['keep.txt', 'sub/deep.bin']) {
    const inodes = [oldest, middle, newest].map((snapshot) => inode(path.join(snapshot.path, 'photos', name)));
    assert.is(new Set(inodes).size, 1, `${name} is one file shared by the three snapshots`);
    assert.is(statSync(path.join(newest.path, 'photos', name)).nlink, 3);
  }
  assert.is.not(inode(path.join(oldest.path, 'photos/changed.txt')), inode(path.join(middle.path, 'photos/changed.txt')), 'the edited file is a new copy');
  assert.ok((await logOf(first.id)).some((line) => line.startsWith(`Snapshot ${oldest.id}:`)), 'the run log names its snapshot');
});

test('keep_last 2: after three runs two snapshots remain, the run log says what went and why the others stay; the status socket announces both', async () => {
  const token = (await client.get('/api/auth/token')).body.token;
  const socket = new WebSocket(`${daemon.url.replace(/^http/, 'ws')}/api/ws/status?token=${token}`);
  const frames: any[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  try {
    // A 2 MB file at 1 MB/s keeps the first run busy long enough to ask for more runs meanwhile.
    const { job, source, root } = await snapshotJob(
      { 'big.bin': fileContent('big', 2 * 1024 * 1024), 'note.txt': Buffer.from('v1') },
      { retention: { keep_last: 2 }, sync_options: { bandwidth_limit_kbps: 1000 } },
    );
    const busy = (await client.post(`/api/jobs/${job.id}/run`)).body.run_id;
    const prune = await client.post(`/api/jobs/${job.id}/retention/apply`);
    assert.is(prune.status, 409);
    assert.ok(isErrorShape(prune.body, 'RUN_IN_PROGRESS'), JSON.stringify(prune.body));
    assert.is((await finishedRun(client, busy)).status, 'completed');
    writeFileSync(path.join(source, 'note.txt'), 'v22');
    await runOnce(job.id);
    writeFileSync(path.join(source, 'note.txt'), 'v333');
    const before = await listSnapshots(root);
    const third = await runOnce(job.id);

    const after = await listSnapshots(root);
    assert.is(after.length, 2);
    const gone = before.at(-1)!.id;
    assert.ok(!after.some((snapshot) => snapshot.id === gone), 'the oldest went');
    const log = await logOf(third.id);
    assert.ok(log.includes(`Removed snapshot ${gone}: no retention rule keeps it`), log.join('\n'));
    for (const snapshot of after) assert.ok(log.includes(`Keeping snapshot ${snapshot.id} (keep_last)`), log.join('\n'));

    await waitFor('the removal frame', () => frames.find((frame) => frame.type === 'snapshot_removed'));
    const created = frames.filter((frame) => frame.type === 'snapshot_created' && frame.job_id === job.id);
    assert.is(created.length, 3);
    const newest = after[0];
    assert.equal(created[2], {
      type: 'snapshot_created',
      job_id: job.id,
      snapshot: { id: newest.id, time: newest.time, run_id: third.id, files: 2, total_size: newest.total_size, bytes_added: newest.bytes_added },
    });
    assert.equal(
      frames.filter((frame) => frame.type === 'snapshot_removed'),
      [{ type: 'snapshot_removed', job_id: job.id, snapshot_id: gone }],
    );

    // On demand, with a tighter policy: a run with trigger prune, the same code path.
    assert.is((await client.put(`/api/jobs/${job.id}`, { retention: { keep_last: 1 } })).status, 200);
    const applied = await client.post(`/api/jobs/${job.id}/retention/apply`);
    assert.is(applied.status, 202);
    assert.equal(Object.keys(applied.body).sort(), ['message', 'run_id']);
    const pruneRun = await finishedRun(client, applied.body.run_id);
    assert.equal([pruneRun.trigger, pruneRun.status], ['prune', 'completed']);
    assert.equal((await listSnapshots(root)).map((snapshot) => snapshot.id), [newest.id]);
    await waitFor('the second removal frame', () => frames.filter((frame) => frame.type === 'snapshot_removed').length === 2);
    assert.is(frames.filter((frame) => frame.type === 'snapshot_removed')[1].snapshot_id, after[1].id);
  } finally {
    socket.close();
  }
});

test('a mirror job has no history to verify or prune: 409 NOT_A_SNAPSHOT_JOB; unknown jobs are 404', async () => {
  const mirror = await createJob(client);
  for (const route of ['verify', 'retention/apply']) {
    const answer = await client.post(`/api/jobs/${mirror.id}/${route}`, route === 'verify' ? {} : undefined);
    assert.is(answer.status, 409, route);
    assert.ok(isErrorShape(answer.body, 'NOT_A_SNAPSHOT_JOB'), JSON.stringify(answer.body));
    assert.ok(isErrorShape((await client.post(`/api/jobs/999999/${route}`, route === 'verify' ? {} : undefined)).body, 'JOB_NOT_FOUND'));
  }
  assert.equal((await client.get(`/api/jobs/${mirror.id}/runs`)).body, [], 'nothing started');
});

test('a prune that fails after a good snapshot leaves the run completed with a warning naming what stayed; applying later removes it', async () => {
  const { job, source, root } = await snapshotJob({ 'a.txt': Buffer.from('one') }, { retention: { keep_last: 1 } });
  await runOnce(job.id);
  const [stuck] = await listSnapshots(root);
  // An immutable folder cannot be renamed: the crash-safe delete fails at its first step.
  execFileSync('chattr', ['+i', stuck.path]);
  try {
    writeFileSync(path.join(source, 'a.txt'), 'two!');
    const run = await runOnce(job.id);
    assert.is(run.error_message, null);
    const warnings = await logOf(run.id, 'warning');
    assert.is(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^Snapshot \S+ is complete, but applying the retention policy failed: EPERM/);
    assert.ok(warnings[0].endsWith(`; not removed: ${stuck.id}`), warnings[0]);
    assert.is((await listSnapshots(root)).length, 2, 'the new snapshot is there and the old one stayed whole');
  } finally {
    execFileSync('chattr', ['-i', stuck.path]);
  }
  const applied = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/retention/apply`)).body.run_id);
  assert.is(applied.status, 'completed');
  assert.is((await listSnapshots(root)).length, 1);
  assert.ok((await logOf(applied.id)).includes(`Removed snapshot ${stuck.id}: no retention rule keeps it`));
});

test('two jobs cannot share a backup folder of snapshots: the run fails with DESTINATION_SHARED, whatever the source names', async () => {
  const { job } = await snapshotJob({ 'a.txt': Buffer.from('a') });
  const other = await createJob(client, { source_dirs: [tempDir()], destination_config: job.destination_config, backup_mode: 'snapshots' });
  const run = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, new RegExp(`Job "${other.name}" uses the same backup folder`));
  await client.delete(`/api/jobs/${other.id}`);
  await runOnce(job.id);
});

test('a USB snapshots job whose drive is away: verify answers 503 DRIVE_NOT_MOUNTED; a prune run fails saying so', async () => {
  const job = await createJob(client, {
    destination_config: { mount_point: tempDir('cairn-away-'), backup_subdir: 'history', usb_uuid: 'ABCD-1234', auto_mount: false, auto_unmount: false },
    backup_mode: 'snapshots',
  });
  const verify = await client.post(`/api/jobs/${job.id}/verify`, {});
  assert.is(verify.status, 503);
  assert.ok(isErrorShape(verify.body, 'DRIVE_NOT_MOUNTED'), JSON.stringify(verify.body));
  const prune = await client.post(`/api/jobs/${job.id}/retention/apply`);
  assert.is(prune.status, 202);
  const run = await finishedRun(client, prune.body.run_id);
  assert.equal([run.trigger, run.status], ['prune', 'failed']);
  assert.match(run.error_message, /The drive ABCD-1234 is not mounted/);
});

/** Flips one byte of `file` in place, keeping its size and its times (what bit rot looks like). */
function flipByte(file: string, offset: number): void {
  const { atime, mtime, size } = statSync(file);
  const fd = openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  byte[0] ^= 0xff;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
  utimesSync(file, atime, mtime);
  assert.is(statSync(file).size, size);
}

test('verify: a clean snapshot completes with its figures; flipped bytes fail the run naming the file; 50% reads about half', async () => {
  const files: Record<string, Buffer> = { 'a.jpg': fileContent('a', 50_000) };
  for (let i = 0; i < 200; i++) files[`small/${i}.txt`] = fileContent(`s${i}`, 1000);
  const { job, source, root } = await snapshotJob(files);
  await runOnce(job.id);
  writeFileSync(path.join(source, 'a.jpg'), fileContent('a, edited', 50_100));
  await runOnce(job.id);
  const [newest, older] = await listSnapshots(root);

  const clean = await client.post(`/api/jobs/${job.id}/verify`, {});
  assert.is(clean.status, 202, JSON.stringify(clean.body));
  assert.is(clean.body.snapshot_id, newest.id, 'the newest by default');
  const passed = await finishedRun(client, clean.body.run_id);
  assert.equal([passed.trigger, passed.status, passed.error_message], ['verify', 'completed', null]);
  assert.equal(passed.verify, { snapshot_id: newest.id, files_checked: 201, bytes_read: 250_100, mismatched: 0, missing: 0, unreadable: 0 });
  assert.ok((await logOf(passed.id)).some((line) => /201 file\(s\), 250100 byte\(s\) read, all match/.test(line)));
  const token = (await client.get('/api/auth/token')).body.token;
  const frames = await new Promise<any[]>((resolve, reject) => {
    const received: any[] = [];
    const socket = new WebSocket(`${daemon.url.replace(/^http/, 'ws')}/api/ws/logs/${passed.id}?token=${token}`);
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  assert.equal(frames.at(-1).verify, passed.verify, 'the final status frame of the log socket carries the figures');

  flipByte(path.join(older.path, 'photos/a.jpg'), 1234);
  const damaged = await client.post(`/api/jobs/${job.id}/verify`, { snapshot_id: older.id });
  assert.is(damaged.status, 202);
  const failed = await finishedRun(client, damaged.body.run_id);
  assert.is(failed.status, 'failed');
  assert.is(failed.error_message, `Verify found 1 damaged file(s) in snapshot ${older.id}: photos/a.jpg`);
  assert.equal({ ...failed.verify, bytes_read: 0 }, { snapshot_id: older.id, files_checked: 201, bytes_read: 0, mismatched: 1, missing: 0, unreadable: 0 });
  assert.ok((await logOf(failed.id, 'error')).some((line) => line.includes('photos/a.jpg')), 'the log names it at error level');
  assert.is((await finishedRun(client, (await client.post(`/api/jobs/${job.id}/verify`, { snapshot_id: newest.id })).body.run_id)).status, 'completed', 'the newer snapshot has its own copy of a.jpg');

  const half = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/verify`, { snapshot_id: newest.id, percent: 50 })).body.run_id);
  assert.is(half.status, 'completed');
  assert.ok(half.verify.files_checked >= 60 && half.verify.files_checked <= 141, `about half of 201 files: ${half.verify.files_checked}`);
});

test('verify: bad bodies are 400 and an unknown snapshot 404, in the error shape, and start nothing', async () => {
  const { job } = await snapshotJob({ 'a.txt': Buffer.from('a') });
  const none = await client.post(`/api/jobs/${job.id}/verify`, {});
  assert.is(none.status, 404, 'no snapshot yet');
  assert.ok(isErrorShape(none.body, 'SNAPSHOT_NOT_FOUND'));
  await runOnce(job.id);
  const bad: unknown[] = [null, { percent: 0 }, { percent: 101 }, { percent: '50' }, { percent: null }, { snapshot_id: 5 }, { snapshot_id: '' }, { other: 1 }, [], 'x'];
  for (const body of bad) {
    const answer = await client.post(`/api/jobs/${job.id}/verify`, body);
    assert.is(answer.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(answer.body), JSON.stringify(answer.body));
  }
  const malformed = await client.request('POST', `/api/jobs/${job.id}/verify`, undefined, { rawBody: '{"percent":' });
  assert.is(malformed.status, 400);
  const unknown = await client.post(`/api/jobs/${job.id}/verify`, { snapshot_id: '2001-01-01T000000+0100' });
  assert.is(unknown.status, 404);
  assert.ok(isErrorShape(unknown.body, 'SNAPSHOT_NOT_FOUND'));
  const escape = await client.post(`/api/jobs/${job.id}/verify`, { snapshot_id: '../../etc' });
  assert.is(escape.status, 404);
  assert.equal((await client.get(`/api/jobs/${job.id}/runs`)).body.map((run: any) => run.trigger), ['manual'], 'no verify run started');
});

test('a schedule with action verify starts a verify run of the newest snapshot (none yet: the run fails saying so); on a mirror job it is refused', async () => {
  const { job } = await snapshotJob({ 'a.txt': Buffer.from('scheduled') });
  const verifyRuns = async () => (await client.get(`/api/jobs/${job.id}/runs`)).body.filter((r: any) => r.trigger === 'verify');
  // 03:00 in Berlin is 02:00 UTC in January.
  setClock('2026-01-05T01:59:58.800Z');
  try {
    const schedule = await createSchedule(client, job.id, { hour: 3, minute: 0, action: 'verify', verify_percent: 100 });
    assert.equal([schedule.action, schedule.verify_percent], ['verify', 100]);
    const early = await waitFor('the first verify run', async () => (await verifyRuns())[0], 10_000);
    const nothing = await finishedRun(client, early.id);
    assert.equal([nothing.status, nothing.schedule_id], ['failed', schedule.id]);
    assert.match(nothing.error_message, /has no snapshot yet/);

    await runOnce(job.id);
    setClock('2026-01-06T01:59:58.800Z');
    // Saving the schedule again makes the scheduler look at the moved clock now.
    assert.is((await client.put(`/api/schedules/${schedule.id}`, { schedule_type: 'daily', hour: 3, minute: 0, action: 'verify' })).status, 200);
    const next = await waitFor('the next verify run', async () => (await verifyRuns()).find((r: any) => r.id !== early.id), 10_000);
    const finished = await finishedRun(client, next.id);
    assert.equal([finished.status, finished.schedule_id], ['completed', schedule.id]);
    assert.is(finished.verify.files_checked, 1);
    await client.delete(`/api/schedules/${schedule.id}`);
  } finally {
    setClock(null);
  }
  const mirror = await createJob(client);
  const refused = await client.post(`/api/jobs/${mirror.id}/schedules`, { schedule_type: 'daily', hour: 3, minute: 0, action: 'verify' });
  assert.is(refused.status, 409);
  assert.ok(isErrorShape(refused.body, 'NOT_A_SNAPSHOT_JOB'));
  const percentOnBackup = await client.post(`/api/jobs/${mirror.id}/schedules`, { schedule_type: 'daily', hour: 3, minute: 0, verify_percent: 50 });
  assert.is(percentOnBackup.status, 400);
  assert.match(percentOnBackup.body.message, /verify_percent/);
  assert.equal((await client.get(`/api/jobs/${mirror.id}/schedules`)).body, []);
});

test('a snapshots job with dry_run is refused when saved (400 SNAPSHOT_DRY_RUN), created or changed, and nothing is saved', async () => {
  const count = (await client.get('/api/jobs')).body.length;
  const created = await client.post('/api/jobs', {
    name: 'Dry snapshots',
    source_dirs: [tempDir()],
    destination_type: 'local',
    destination_config: { mount_point: drive.mount, backup_subdir: 'dry' },
    backup_mode: 'snapshots',
    sync_options: { dry_run: true },
  });
  assert.is(created.status, 400);
  assert.ok(isErrorShape(created.body, 'SNAPSHOT_DRY_RUN'));
  assert.is((await client.get('/api/jobs')).body.length, count);
  const { job } = await snapshotJob({ 'a.txt': Buffer.from('a') });
  const changed = await client.put(`/api/jobs/${job.id}`, { sync_options: { dry_run: true } });
  assert.is(changed.status, 400);
  assert.ok(isErrorShape(changed.body, 'SNAPSHOT_DRY_RUN'));
  assert.is((await client.get(`/api/jobs/${job.id}`)).body.sync_options.dry_run, false);
});

test.run();
