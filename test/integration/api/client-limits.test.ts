/**
 * Issue 11: what one client can hold. Connections and WebSockets are capped per client address
 * (a second address, 127.0.0.2 on the loopback, stands for another client), and a client that
 * stops half-way through a request, or a WebSocket peer that stops answering, is cut off.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { createJob, isErrorShape, startTestDaemon, tempDir, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

const OTHER_CLIENT = '127.0.0.2';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One GET on a fresh connection from `localAddress`, so the test knows which address it counts against. */
function getFrom(daemon: TestDaemon, urlPath: string, localAddress = '127.0.0.1', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(daemon.url + urlPath, { localAddress, agent: false, headers }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text ? JSON.parse(text) : null }));
    });
    request.on('error', reject);
  });
}

/** A raw connection that has completed one keep-alive request and stays open, holding one connection. */
async function heldConnection(daemon: TestDaemon): Promise<net.Socket> {
  const { port } = new URL(daemon.url);
  const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answered = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      if (/\r\n\r\n[\s\S]*\}/.test(text)) resolve(text);
    });
  });
  socket.write('GET /api/system/health HTTP/1.1\r\nHost: cairn\r\n\r\n');
  assert.match(await answered, /^HTTP\/1\.1 200/);
  return socket;
}

/** Resolves with how many ms after `since` the socket closed, or null if still open after `withinMs`. */
function closedWithin(socket: net.Socket, since: number, withinMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(Date.now() - since);
    const timer = setTimeout(() => resolve(null), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - since);
    });
  });
}

test('over the per-client connection cap: 429 in the error shape and the connection closed; another client is unaffected', async () => {
  const daemon = await startTestDaemon({}, { apiLimits: { connectionsPerClient: 4 } });
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 4; i++) held.push(await heldConnection(daemon));

    const refused = await getFrom(daemon, '/api/system/health');
    assert.is(refused.status, 429);
    assert.ok(isErrorShape(refused.body, 'TOO_MANY_CONNECTIONS'), JSON.stringify(refused.body));
    assert.is(refused.body.error, 'Rate limited');
    assert.match(refused.body.message, /4 connections/);
    assert.is(refused.headers['retry-after'], '1');
    assert.is(refused.headers.connection, 'close');

    const other = await getFrom(daemon, '/api/system/health', OTHER_CLIENT);
    assert.is(other.status, 200, 'a second address has its own allowance');
    assert.is(other.body.status, 'ok');

    // The held connections still work, and closing one frees its place.
    held[0].write('GET /api/system/health HTTP/1.1\r\nHost: cairn\r\n\r\n');
    assert.match(await new Promise<string>((resolve) => held[0].once('data', (chunk) => resolve(String(chunk)))), /^HTTP\/1\.1 200/);
    held.shift()!.destroy();
    await waitFor('the freed place to be usable', async () => (await getFrom(daemon, '/api/system/health')).status === 200, 5000);
  } finally {
    for (const socket of held) socket.destroy();
    await daemon.stop();
  }
});

interface OpenedSocket {
  socket: WebSocket;
  messages: any[];
  closed: Promise<number>;
}

/** Opens a WebSocket; resolves when open, or with the HTTP refusal's status and body. */
function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<OpenedSocket | { status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    const messages: any[] = [];
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('open', () => resolve({ socket, messages, closed }));
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
    });
    socket.on('error', reject);
  });
}

function opened(result: OpenedSocket | { status: number; body: any }): OpenedSocket {
  if ('status' in result) throw new Error(`refused: ${result.status} ${JSON.stringify(result.body)}`);
  return result;
}

test('over the per-client WebSocket cap: refused 429 before the upgrade; the open ones keep working; another client may open its own', async () => {
  const daemon = await startTestDaemon({}, { apiLimits: { webSocketsPerClient: 3 } });
  const sockets: OpenedSocket[] = [];
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const token = (await client.get('/api/auth/token')).body.token;
    const statusUrl = `${daemon.url.replace(/^http/, 'ws')}/api/ws/status?token=${token}`;
    sockets.push(opened(await openSocket(statusUrl)), opened(await openSocket(statusUrl)));
    const source = path.join(tempDir(), 'documents');
    mkdirSync(source);
    writeFileSync(path.join(source, 'note.txt'), 'hello');
    const job = await createJob(client, {
      name: 'Small',
      source_dirs: [source],
      destination_config: { mount_point: tempDir(), backup_subdir: '', auto_mount: false, auto_unmount: false },
    });
    const logRun = (await client.post(`/api/jobs/${job.id}/run`)).body.run_id;
    await waitFor('the first run to end', async () => (await client.get(`/api/runs/${logRun}`)).body.status === 'completed');
    // A run log socket counts too: it makes the third.
    sockets.push(opened(await openSocket(`${daemon.url.replace(/^http/, 'ws')}/api/ws/logs/${logRun}?token=${token}`)));

    const refused = await openSocket(statusUrl);
    assert.ok('status' in refused, 'the fourth socket from one client is refused');
    assert.is(refused.status, 429);
    assert.ok(isErrorShape(refused.body, 'TOO_MANY_WEBSOCKETS'), JSON.stringify(refused.body));
    assert.match(refused.body.message, /3 WebSockets/);

    const other = opened(await openSocket(statusUrl, { localAddress: OTHER_CLIENT }));
    sockets.push(other);

    const runId = (await client.post(`/api/jobs/${job.id}/run`)).body.run_id;
    for (const [index, open] of [sockets[0], sockets[1], other].entries()) {
      await waitFor(`job_completed on socket ${index}`, () => open.messages.find((m) => m.type === 'job_completed' && m.run_id === runId));
    }

    // Closing one gives its place back.
    sockets[0].socket.close();
    await sockets[0].closed;
    await waitFor('a place to be free again', async () => {
      const again = await openSocket(statusUrl);
      if ('status' in again) return false;
      sockets.push(again);
      return true;
    }, 5000);
  } finally {
    for (const { socket } of sockets) socket.terminate();
    await daemon.stop();
  }
});

test('a client that sends half a request is cut off after the headers timeout; keep-alive clients and WebSockets are not', async () => {
  const daemon = await startTestDaemon({}, {
    apiLimits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, idleTimeoutMs: 1000, timeoutCheckIntervalMs: 100 },
  });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const token = (await client.get('/api/auth/token')).body.token;
    const status = opened(await openSocket(`${daemon.url.replace(/^http/, 'ws')}/api/ws/status?token=${token}`));
    const keptAlive = await heldConnection(daemon);

    const { port } = new URL(daemon.url);
    const stuck = net.connect({ host: '127.0.0.1', port: Number(port) });
    await new Promise((resolve) => stuck.once('connect', resolve));
    stuck.on('error', () => undefined);
    let answer = '';
    stuck.on('data', (chunk) => (answer += chunk));
    const sent = Date.now();
    stuck.write('GET /api/system/health HTTP/1.1\r\nHost: cairn\r\n');
    const closedAfter = await closedWithin(stuck, sent, 10_000);
    assert.ok(closedAfter !== null, 'the half request was still holding its connection after 10 s');
    assert.ok(closedAfter >= 400, `cut off after ${closedAfter} ms, before the timeout`);
    assert.match(answer, /^(HTTP\/1\.1 4\d\d |$)/, 'whatever it is told is a 4xx');

    const slowBody = net.connect({ host: '127.0.0.1', port: Number(port) });
    await new Promise((resolve) => slowBody.once('connect', resolve));
    slowBody.on('error', () => undefined);
    slowBody.resume();
    const bodyStarted = Date.now();
    slowBody.write('POST /api/auth/login HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user');
    assert.ok((await closedWithin(slowBody, bodyStarted, 10_000)) !== null, 'a body that never completes is cut off too');

    // Idle past every timeout above, the keep-alive connection and the WebSocket still serve.
    assert.ok(!keptAlive.destroyed);
    keptAlive.write('GET /api/system/health HTTP/1.1\r\nHost: cairn\r\n\r\n');
    assert.match(await new Promise<string>((resolve) => keptAlive.once('data', (chunk) => resolve(String(chunk)))), /^HTTP\/1\.1 200/);
    keptAlive.destroy();
    assert.is(status.socket.readyState, WebSocket.OPEN);
    status.socket.close();
  } finally {
    await daemon.stop();
  }
});

test('a WebSocket peer that stops answering pings is dropped; one that answers stays', async () => {
  const daemon = await startTestDaemon({}, { apiLimits: { webSocketHeartbeatMs: 200 } });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const token = (await client.get('/api/auth/token')).body.token;
    const url = `${daemon.url.replace(/^http/, 'ws')}/api/ws/status?token=${token}`;
    const silent = opened(await openSocket(url, { autoPong: false }));
    const alive = opened(await openSocket(url));
    const closedAt = await Promise.race([silent.closed, new Promise((resolve) => setTimeout(() => resolve('open'), 5000))]);
    assert.is.not(closedAt, 'open', 'the silent peer was still connected after 5 s');
    assert.is(alive.socket.readyState, WebSocket.OPEN);
    alive.socket.close();
  } finally {
    await daemon.stop();
  }
});

test.run();
