/**
 * Real progress as a phone app sees it: `job_progress` frames on the status socket and
 * `GET /runs/:id` carry percent, bytes and files of totals known before copying, a rate and a time
 * left; the totals are what the run sent, and the percent only grows, to 100 %.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';
import { startSftpServer } from '../servers.ts';
import { fileContent, waitFor } from '../trees.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  token: string;
}

const progress = suite<Context>('run progress');

progress.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.token = (await context.client.get('/api/auth/token')).body.token;
});
progress.after.each(async ({ daemon }) => {
  await daemon.stop();
});

/** The status socket's messages, collected until closed. */
function statusSocket({ daemon, token }: Context): Promise<{ messages: any[]; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${daemon.url.replace(/^http/, 'ws')}/api/ws/status?token=${token}`);
    const messages: any[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('open', () => resolve({ messages, socket }));
    socket.on('error', reject);
  });
}

/** Runs the job with the status socket open; the run as GET /runs/:id answers and its progress frames. */
async function runWatched(context: Context, jobId: number): Promise<{ run: any; frames: any[] }> {
  const status = await statusSocket(context);
  const runId = (await context.client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('job_completed', () => status.messages.find((m) => m.type === 'job_completed' && m.run_id === runId), 60_000);
  status.socket.close();
  const run = await finishedRun(context.client, runId);
  return { run, frames: status.messages.filter((m) => m.type === 'job_progress' && m.run_id === runId).map((m) => m.progress) };
}

function assertHonest(run: any, frames: any[]): void {
  assert.is(run.status, 'completed', run.error_message);
  assert.ok(frames.length > 0, 'progress frames were sent');
  const percents = frames.map((frame) => frame.percent);
  assert.ok(percents.every((percent) => percent !== null), `a total before the first frame: ${JSON.stringify(frames[0])}`);
  assert.equal(percents, [...percents].sort((a, b) => a - b), `the percent never goes backwards: ${percents.join(' ')}`);
  const last = frames.at(-1);
  assert.is(last.percent, 100);
  assert.is(last.eta_seconds, 0);
  assert.is(last.bytes_total, run.bytes_transferred, 'the byte total is what was sent');
  assert.is(last.files_total, run.files_transferred, 'the file total is what was sent');
  assert.is(last.bytes_done, last.bytes_total);
  assert.is(last.files_done, last.files_total);
  assert.equal(run.progress, last, 'GET /runs/:id says the same');
}

progress('a local run: totals before copying, a rate and time left on the way, 100 % with what was sent', async (context) => {
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, `file-${i}.bin`), fileContent(`f${i}`, 200 * 1024));
  const job = await createJob(context.client, { source_dirs: [source], sync_options: { bandwidth_limit_kbps: 2000, count_first: true } });

  const first = await runWatched(context, job.id);
  assertHonest(first.run, first.frames);
  assert.is(first.run.files_transferred, 20);
  assert.is(first.frames[0].bytes_total, 20 * 200 * 1024, 'the first frame already knows the total');
  assert.ok(first.frames.some((frame) => frame.percent > 0 && frame.percent < 100), 'a share on the way');
  assert.ok(first.frames.some((frame) => frame.rate_bytes_per_s > 0 && frame.eta_seconds > 0), 'a rate and a time left on the way');

  // Only what changed is sent, and only that is the total.
  writeFileSync(path.join(source, 'file-3.bin'), fileContent('changed', 300 * 1024));
  writeFileSync(path.join(source, 'new.bin'), fileContent('new', 100 * 1024));
  const second = await runWatched(context, job.id);
  assertHonest(second.run, second.frames);
  assert.is(second.frames.at(-1).bytes_total, 400 * 1024);
  assert.is(second.frames.at(-1).files_total, 2);
});

progress('a snapshot run gets the same progress', async (context) => {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  for (let i = 0; i < 10; i++) writeFileSync(path.join(source, `photo-${i}.jpg`), fileContent(`p${i}`, 150 * 1024));
  const job = await createJob(context.client, { source_dirs: [source], backup_mode: 'snapshots', sync_options: { bandwidth_limit_kbps: 2000, count_first: true } });
  const first = await runWatched(context, job.id);
  assertHonest(first.run, first.frames);
  assert.is(first.frames.at(-1).bytes_total, 10 * 150 * 1024);

  writeFileSync(path.join(source, 'photo-0.jpg'), fileContent('edited', 50 * 1024));
  const second = await runWatched(context, job.id);
  assertHonest(second.run, second.frames);
  assert.is(second.frames.at(-1).bytes_total, 50 * 1024, 'unchanged files are linked, not counted');
});

progress('an SFTP run: the remote engine compares first, then sends; 100 % with what was sent', async (context) => {
  const server = await startSftpServer();
  try {
    const source = path.join(tempDir(), 'letters');
    mkdirSync(path.join(source, 'old'), { recursive: true });
    for (let i = 0; i < 12; i++) writeFileSync(path.join(source, i % 2 ? 'old' : '', `letter-${i}.txt`), fileContent(`l${i}`, 120 * 1024));
    const credential = await context.client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: server.password } });
    const job = await createJob(context.client, {
      source_dirs: [source],
      destination_type: 'sftp',
      destination_config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'backups'), key_based_auth: false },
      credential_id: credential.body.id,
      sync_options: { bandwidth_limit_kbps: 1000 },
    });
    const first = await runWatched(context, job.id);
    assertHonest(first.run, first.frames);
    assert.is(first.frames[0].bytes_total, 12 * 120 * 1024, 'the first frame already knows the total');
    assert.ok(first.frames.some((frame) => frame.percent > 0 && frame.percent < 100), 'a share on the way');

    writeFileSync(path.join(source, 'old', 'letter-1.txt'), fileContent('rewritten', 60 * 1024));
    const second = await runWatched(context, job.id);
    assertHonest(second.run, second.frames);
    assert.is(second.frames.at(-1).bytes_total, 60 * 1024);
    assert.is(second.frames.at(-1).files_total, 1);
  } finally {
    await server.stop();
  }
});

progress('a local job that does not count first reads rsync’s own progress: one pass, a percent that never goes back, 100 % with what was sent', async (context) => {
  const source = path.join(tempDir(), 'music');
  mkdirSync(path.join(source, 'albums'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, i % 2 ? 'albums' : '', `track-${i}.bin`), fileContent(`t${i}`, 200 * 1024));
  const job = await createJob(context.client, { source_dirs: [source], sync_options: { bandwidth_limit_kbps: 2000 } });
  assert.is(job.sync_options.count_first, false);

  const first = await runWatched(context, job.id);
  assertHonest(first.run, first.frames);
  assert.is(first.run.files_transferred, 20);
  assert.is(first.run.bytes_transferred, 20 * 200 * 1024);
  assert.ok(first.frames.some((frame) => frame.percent > 0 && frame.percent < 100), `a share on the way: ${first.frames.map((f) => f.percent).join(' ')}`);
  assert.ok(first.frames.some((frame) => frame.eta_seconds > 0 && frame.rate_bytes_per_s > 0), 'a rate and a time left on the way');
  assert.ok(first.frames.slice(0, -1).every((frame) => frame.bytes_total === null), 'nothing claims to know what will be sent before it is');
  const log = (await context.client.get(`/api/runs/${first.run.id}/logs`)).body.map((entry: { message: string }) => entry.message);
  assert.not.ok(log.some((line: string) => line.startsWith('To send:')), 'no counting pass');

  // A rerun that sends one changed file still moves through the list and ends at 100 % with what it sent.
  writeFileSync(path.join(source, 'albums', 'track-3.bin'), fileContent('changed', 300 * 1024));
  const second = await runWatched(context, job.id);
  assertHonest(second.run, second.frames);
  assert.is(second.frames.at(-1).bytes_total, 300 * 1024);
  assert.is(second.frames.at(-1).files_total, 1);
});

progress('a local tree larger than rsync lists ahead: no percent on the first run before rsync has listed it all, then one from the last run’s count that moves, never goes back, ends at 100 %', async (context) => {
  const source = path.join(tempDir(), 'archive');
  for (let folder = 0; folder < 60; folder++) {
    mkdirSync(path.join(source, `f${String(folder).padStart(2, '0')}`), { recursive: true });
    for (let i = 0; i < 100; i++) writeFileSync(path.join(source, `f${String(folder).padStart(2, '0')}`, `item-${i}.txt`), fileContent(`${folder}-${i}`, 1024));
  }
  const job = await createJob(context.client, { source_dirs: [source], sync_options: { bandwidth_limit_kbps: 2000 } });
  const first = await runWatched(context, job.id);
  assert.is(first.run.status, 'completed', first.run.error_message);
  assert.is(first.run.files_transferred, 6000);
  const percents = first.frames.map((frame) => frame.percent).filter((percent) => percent !== null);
  assert.equal(percents, [...percents].sort((a, b) => a - b), `the percent never goes backwards: ${percents.join(' ')}`);
  assert.is(first.frames.at(-1).percent, 100);
  // rsync lists ~1,000 entries ahead of what it copies: half way through, nothing knows the total yet.
  const early = first.frames.filter((frame) => frame.files_done > 0 && frame.files_done < 3000);
  assert.ok(early.length > 0, `frames on the way: ${first.frames.map((f) => f.files_done).join(' ')}`);
  assert.ok(early.every((frame) => frame.percent === null), `no percent before the total is known: ${early.map((f) => `${f.files_done}:${f.percent}`).join(' ')}`);

  // A nightly run sending a little in every sixth folder: the last run's count gives a percent from the start.
  for (let folder = 0; folder < 60; folder += 6) writeFileSync(path.join(source, `f${String(folder).padStart(2, '0')}`, 'item-50.txt'), fileContent(`changed ${folder}`, 200 * 1024));
  const second = await runWatched(context, job.id);
  assertHonest(second.run, second.frames);
  assert.is(second.run.files_transferred, 10);
  assert.ok(second.frames.some((frame) => frame.percent > 0 && frame.percent < 100), `a share on the way: ${second.frames.map((f) => f.percent).join(' ')}`);
});

progress('a local job with two sources: each is part of the run, the percent only grows', async (context) => {
  const root = tempDir();
  const sources = ['letters', 'pictures'].map((name) => path.join(root, name));
  for (const [index, source] of sources.entries()) {
    mkdirSync(source);
    for (let i = 0; i < 8; i++) writeFileSync(path.join(source, `item-${i}.bin`), fileContent(`${index}-${i}`, 150 * 1024));
  }
  const job = await createJob(context.client, { source_dirs: sources, sync_options: { bandwidth_limit_kbps: 2000 } });
  const { run, frames } = await runWatched(context, job.id);
  assertHonest(run, frames);
  assert.is(run.files_transferred, 16);
  assert.ok(frames.some((frame) => frame.percent >= 50 && frame.percent < 100), `past the first source: ${frames.map((f) => f.percent).join(' ')}`);
});

progress('a snapshot run without counting first gets the same progress from rsync', async (context) => {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  for (let i = 0; i < 10; i++) writeFileSync(path.join(source, `photo-${i}.jpg`), fileContent(`p${i}`, 150 * 1024));
  const job = await createJob(context.client, { source_dirs: [source], backup_mode: 'snapshots', sync_options: { bandwidth_limit_kbps: 2000 } });
  const first = await runWatched(context, job.id);
  assertHonest(first.run, first.frames);
  assert.is(first.frames.at(-1).bytes_total, 10 * 150 * 1024);
  writeFileSync(path.join(source, 'photo-0.jpg'), fileContent('edited', 50 * 1024));
  const second = await runWatched(context, job.id);
  assertHonest(second.run, second.frames);
  assert.is(second.frames.at(-1).bytes_total, 50 * 1024, 'unchanged files are linked, not counted');
});

progress('a dry run of a local job writes nothing and ends at 100 % of what it would have sent', async (context) => {
  const source = path.join(tempDir(), 'notes');
  mkdirSync(source);
  for (let i = 0; i < 5; i++) writeFileSync(path.join(source, `note-${i}.txt`), fileContent(`n${i}`, 10 * 1024));
  const target = tempDir();
  const job = await createJob(context.client, { source_dirs: [source], destination_config: { mount_point: target }, sync_options: { dry_run: true } });
  const { run } = await runWatched(context, job.id);
  assert.is(run.status, 'completed', run.error_message);
  assert.is(run.files_transferred, 5, 'what would be sent');
  assert.equal(run.progress, { percent: 100, bytes_done: 5 * 10 * 1024, bytes_total: 5 * 10 * 1024, files_done: 5, files_total: 5, rate_bytes_per_s: run.progress.rate_bytes_per_s, eta_seconds: 0 });
  assert.equal(readdirSync(target), [], 'nothing written');
});

progress.run();
