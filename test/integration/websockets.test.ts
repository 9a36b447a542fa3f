/** Live logs and status over WebSockets, as a phone app or the TUI sees them. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { createJob, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';
import { fileContent, waitFor } from '../trees.ts';

const ws = suite<{ daemon: TestDaemon; client: ApiClient; token: string; jobId: number }>('websockets');

ws.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.token = (await context.client.get('/api/auth/token')).body.token;
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, `file-${i}.bin`), fileContent(`f${i}`, 200 * 1024));
  const job = await createJob(context.client, {
    name: 'Live',
    source_dirs: [source],
    destination_config: { mount_point: tempDir(), backup_subdir: '', auto_mount: false, auto_unmount: false },
    sync_options: { bandwidth_limit_kbps: 2000 },
  });
  context.jobId = job.id;
});
ws.after.each(async ({ daemon }) => {
  await daemon.stop();
});

interface Collected {
  messages: any[];
  closed: Promise<number>;
  socket: WebSocket;
}

function connect(url: string): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const messages: any[] = [];
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('open', () => resolve({ messages, closed, socket }));
    socket.on('unexpected-response', (_request, response) => reject(new Error(`refused: ${response.statusCode}`)));
    socket.on('error', reject);
  });
}

const wsUrl = (daemon: TestDaemon, pathAndQuery: string) => daemon.url.replace(/^http/, 'ws') + pathAndQuery;

ws('the log socket streams every line and ends with the final status', async ({ daemon, client, token, jobId }) => {
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  const live = await connect(wsUrl(daemon, `/api/ws/logs/${runId}?token=${token}`));
  assert.is(await live.closed, 1000);
  const logs = live.messages.filter((m) => m.type === 'log');
  const stored = (await client.get(`/api/runs/${runId}/logs`)).body;
  assert.equal(logs.map((m) => m.message), stored.map((entry: any) => entry.message), 'every line, in order, none twice');
  const final = live.messages.at(-1);
  assert.equal(
    { type: final.type, run_id: final.run_id, status: final.status, files: final.files_transferred, bytes: final.bytes_transferred },
    { type: 'status', run_id: runId, status: 'completed', files: 20, bytes: 20 * 200 * 1024 },
  );
});

ws('a client that connects after the run sees its recent lines and final status (path without /api too)', async ({ daemon, client, token, jobId }) => {
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('the run to end', async () => (await client.get(`/api/runs/${runId}`)).body.status === 'completed');
  const late = await connect(wsUrl(daemon, `/ws/logs/${runId}?token=${token}`));
  await late.closed;
  assert.ok(late.messages.filter((m) => m.type === 'log').length >= 20);
  assert.is(late.messages.at(-1).status, 'completed');
});

ws('the status socket announces started, progress and completed', async ({ daemon, client, token, jobId }) => {
  const status = await connect(wsUrl(daemon, `/api/ws/status?token=${token}`));
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('job_completed', () => status.messages.find((m) => m.type === 'job_completed'));
  status.socket.close();
  const types = status.messages.map((m) => m.type);
  assert.is(types[0], 'job_started');
  assert.is(types.at(-1), 'job_completed');
  assert.ok(types.includes('job_progress'), 'progress while it ran');
  assert.equal(status.messages[0], { type: 'job_started', job_id: jobId, run_id: runId, job_name: 'Live', trigger: 'manual' });
  const completed = status.messages.at(-1);
  assert.is(completed.status, 'completed');
  assert.is(completed.job_name, 'Live');
  const progress = status.messages.filter((m) => m.type === 'job_progress').map((m) => m.bytes_transferred);
  assert.equal(progress, [...progress].sort((a, b) => a - b), 'progress only grows');
  assert.ok(progress.length <= 40, `throttled (${progress.length} updates)`);
});

ws('a missing or bad token is refused before the upgrade, and an unknown run is a 404', async ({ daemon, client, token, jobId }) => {
  const runId = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  for (const [url, status] of [
    [`/api/ws/status`, 401],
    [`/api/ws/status?token=nonsense`, 401],
    [`/api/ws/logs/${runId}?token=${token}x`, 401],
    [`/api/ws/logs/999?token=${token}`, 404],
    [`/api/ws/elsewhere?token=${token}`, 404],
  ] as const) {
    const error = await connect(wsUrl(daemon, url)).then(
      () => null,
      (e: Error) => e.message,
    );
    assert.is(error, `refused: ${status}`, url);
  }
  await client.post('/api/auth/logout');
  const afterLogout = await connect(wsUrl(daemon, `/api/ws/status?token=${token}`)).then(() => null, (e: Error) => e.message);
  assert.is(afterLogout, 'refused: 401', 'a logged-out token no longer opens sockets');
});

ws.run();
