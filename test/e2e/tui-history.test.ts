/**
 * A snapshots job's history in the real terminal UI (tmux, real daemon, real rsync snapshots):
 * the list, browsing into a snapshot, a keep policy previewed before it is saved, a verify followed
 * to its result; and at rest the snapshots screen asks the daemon for nothing (issue 13 item 5).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCountingProxy, type CountingProxy } from '../counting-proxy.ts';
import { ApiClient, createJob, finishedRun, spawnDaemonProcess, tempDir, type DaemonProcess } from '../helpers.ts';
import { act, fillField, killSession, launchTui, logIn, newSessionName, press, screenOf, shows, type } from '../tmux-tui.ts';
import { waitFor } from '../trees.ts';

interface Context {
  daemon: DaemonProcess;
  api: ApiClient;
  session: string;
  jobId: number;
  proxy: CountingProxy | null;
}

const history = suite<Context>('tui history');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

history.before.each(async (context) => {
  context.proxy = null;
  context.daemon = await spawnDaemonProcess(tempDir());
  context.api = new ApiClient(context.daemon.url);
  await context.api.setupAdmin();
  await context.api.put('/api/settings', { timezone: 'UTC' });
  const source = path.join(tempDir(), 'documents');
  mkdirSync(path.join(source, 'letters'), { recursive: true });
  writeFileSync(path.join(source, 'letters', 'to-grandma.txt'), 'dear grandma');
  writeFileSync(path.join(source, 'notes.txt'), 'first');
  // A mirror job first, so the snapshots job is the second row.
  await createJob(context.api, { name: 'Mirror job', source_dirs: [source] });
  const job = await createJob(context.api, { name: 'Diary', source_dirs: [source], backup_mode: 'snapshots', destination_config: { mount_point: tempDir(), backup_subdir: 'history' } });
  context.jobId = job.id;
  for (const text of ['first', 'second, longer']) {
    writeFileSync(path.join(source, 'notes.txt'), text);
    const run = await finishedRun(context.api, (await context.api.post(`/api/jobs/${job.id}/run`)).body.run_id);
    assert.is(run.status, 'completed', run.error_message);
  }
  assert.is((await context.api.get(`/api/jobs/${job.id}/snapshots`)).body.total, 2);
  context.session = newSessionName();
});

history.after.each(async (context) => {
  killSession(context);
  await context.proxy?.stop();
  await context.daemon.kill();
});

/** Logs in, selects the snapshots job and opens its history. */
async function openHistory(context: Context, url = context.daemon.url): Promise<void> {
  launchTui(context.session, url, { width: 110, height: 34 });
  await logIn(context);
  await shows(context, 'Diary');
  act(context, 'snapshots');
  await shows(context, /keeps a mirror, no history/);
  press(context, 'Down');
  await shows(context, /2 snapshots · newest/);
  act(context, 'snapshots');
  await shows(context, /Diary · 2 snapshots · keep: everything/);
}

history('the history of a job with two snapshots: browse one, preview a keep policy, verify one', async (context) => {
  await openHistory(context);
  const snapshots = (await context.api.get(`/api/jobs/${context.jobId}/snapshots`)).body.snapshots;
  const newest = snapshots[0];
  const shownTime = newest.time.slice(0, 16).replace('T', ' ');
  await shows(context, new RegExp(`${shownTime}\\s+2\\s+\\d+ B\\s+\\+\\d+ B\\s+no policy`));

  // Into the newest snapshot: its source folder, then a folder inside it, then back out.
  act(context, 'browse');
  await shows(context, /\/ · 1–1 of 1/);
  await shows(context, 'documents/');
  act(context, 'browse');
  await shows(context, /\/documents · 1–2 of 2/);
  assert.match(screenOf(context), /notes\.txt\s+14 B/, 'the newest snapshot holds the second text');
  assert.match(screenOf(context), /letters\//);
  act(context, 'back');
  await shows(context, /\/ · 1–1 of 1/);
  act(context, 'back');
  await shows(context, /Diary · 2 snapshots/);

  // A policy that keeps one: the preview names what stays (with its rule) and what goes, and "n" saves nothing.
  act(context, 'retention');
  await fillField(context, 'Keep', 'last=1');
  await shows(context, 'This policy keeps 1 and removes 1 snapshot:');
  assert.match(screenOf(context), new RegExp(`keep\\s+${shownTime}\\s+last`));
  assert.match(screenOf(context), /remove\s+\d{4}-\d\d-\d\d \d\d:\d\d/);
  assert.match(screenOf(context), /y: save this policy/);
  const before = (await context.api.get(`/api/jobs/${context.jobId}/retention`)).body;
  assert.is(before.keep_last, 0, 'nothing saved while the preview is shown');
  type(context, 'y');
  await shows(context, 'keep policy saved');
  await shows(context, /keep: last=1/);
  assert.is((await context.api.get(`/api/jobs/${context.jobId}/retention`)).body.keep_last, 1);
  await shows(context, 'removed at the next prune');
  assert.is((await context.api.get(`/api/jobs/${context.jobId}/snapshots`)).body.total, 2, 'saving a policy removes nothing by itself');

  // A verify of the selected (newest) snapshot, followed to its result, and its log.
  act(context, 'verify');
  await fillField(context, 'Percent', '');
  await shows(context, /verify \(run \d+\) passed: 2 files checked, \d+ B read, all match/, 30_000);
  const runId = Number(/verify \(run (\d+)\)/.exec(screenOf(context))![1]);
  const run = (await context.api.get(`/api/runs/${runId}`)).body;
  assert.is(run.trigger, 'verify');
  assert.is(run.status, 'completed');
  assert.is(run.verify.snapshot_id, newest.id);
  assert.is(run.verify.files_checked, 2);
  act(context, 'verify-log');
  await shows(context, /Verified snapshot .*all match/);
  act(context, 'back');
  await shows(context, /Diary · 2 snapshots/);

  // Restore one file from the older snapshot: chosen in its folder, it is offered as the path.
  press(context, 'Down');
  act(context, 'browse');
  await shows(context, /\/ · 1–1 of 1/);
  act(context, 'browse');
  await shows(context, /\/documents · 1–2 of 2/);
  assert.match(screenOf(context), /notes\.txt\s+5 B/, 'the older snapshot holds the first text');
  press(context, 'Down');
  act(context, 'restore-snapshot');
  await shows(context, /Restore Diary from \d{4}-\d\d-\d\d \d\d:\d\d/);
  const target = path.join(tempDir(), 'restored');
  await fillField(context, 'Into folder', target);
  await shows(context, /Only \(paths\):\s+documents\/notes\.txt/);
  await fillField(context, 'Only (paths)', '');
  await fillField(context, 'Over sources', '');
  await shows(context, /restoring Diary from \d{4}-\d\d-\d\d \d\d:\d\d into/);
  await waitFor('the restored file', () => existsSync(path.join(target, 'documents', 'notes.txt')));
  await waitFor('the restore to end', async () => (await context.api.get(`/api/jobs/${context.jobId}/runs?limit=1`)).body[0].status === 'completed');
  assert.is(readFileSync(path.join(target, 'documents', 'notes.txt'), 'utf8'), 'first', 'the older snapshot’s bytes');
  assert.not.ok(existsSync(path.join(target, 'documents', 'letters')), 'only the chosen path');
});

history('a verify that finds a damaged file says so in red letters and names it in its log', async (context) => {
  const snapshot = (await context.api.get(`/api/jobs/${context.jobId}/snapshots`)).body.snapshots[1];
  const job = (await context.api.get(`/api/jobs/${context.jobId}`)).body;
  // The older snapshot's own copy (its notes.txt was not linked: the newer one changed it).
  writeFileSync(path.join(job.destination_config.mount_point, 'history', snapshot.id, 'documents', 'notes.txt'), 'FLIPS');
  await openHistory(context);
  press(context, 'Down');
  act(context, 'verify');
  await fillField(context, 'Percent', '');
  await shows(context, /verify \(run \d+\) failed: 2 files checked, \d+ B read, 1 damaged \(1 changed\)/, 30_000);
  act(context, 'verify-log');
  await shows(context, /Damaged: documents\/notes\.txt/);
});

history('at rest, the snapshots screen asks the daemon for nothing', async (context) => {
  context.proxy = await startCountingProxy(context.daemon.url);
  await openHistory(context, context.proxy.url);
  await shows(context, /\d{4}-\d\d-\d\d \d\d:\d\d\s+2\s/);
  await sleep(1500);
  context.proxy.reset();
  await sleep(5000);
  assert.ok(context.proxy.requests.length <= 1, `${context.proxy.requests.length} requests in 5 s at rest: ${context.proxy.requests.slice(0, 10).join(', ')}`);
  // A snapshot made meanwhile (another client) comes by the status socket: one list request, no more.
  context.proxy.reset();
  const run = await finishedRun(context.api, (await context.api.post(`/api/jobs/${context.jobId}/run`)).body.run_id);
  assert.is(run.status, 'completed');
  await shows(context, /Diary · 3 snapshots/);
  await sleep(1500);
  const lists = context.proxy.requests.filter((request) => request.startsWith(`GET /api/jobs/${context.jobId}/snapshots`));
  assert.ok(lists.length >= 1 && lists.length <= 2, `${lists.length} snapshot list requests for one new snapshot: ${context.proxy.requests.join(', ')}`);
});

history.run();
