/**
 * WebSockets on the API's listener (contract: WebSocket), under /api/ws/… and /ws/…:
 * - logs/:run_id sends the run's recent lines, then each new `log` line and `status` changes;
 * - status sends `job_started`, `job_progress` and `job_completed` for every job, the drive events,
 *   and `snapshot_created` / `snapshot_removed` as a job's history changes.
 * The token (query `?token=`, bearer header, or the cookie from the same origin; a session token or
 * an API key of any scope) is checked before the upgrade; a refused handshake gets an HTTP error in
 * the contract's shape. When a session or key is revoked, the sockets it opened are closed at once
 * (1008 "credentials revoked"), so revocation does not wait for a reconnect; an expired one's
 * within a heartbeat interval. A client address holds
 * at most `webSocketsPerClient` sockets, and a peer that stops answering pings is dropped, so a
 * phone that vanished from the network does not keep its sockets (and its share of the cap) forever.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type Hapi from '@hapi/hapi';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Callers, Revocations } from '../auth/index.ts';
import { isFinished, type LogEntry, type RunRecord } from '../domain/runs.ts';
import type { EventBus } from '../events.ts';
import { snapshotFieldsOf } from '../history/index.ts';
import type { RunLogs } from '../logs/index.ts';
import type { RunRepository } from '../store/index.ts';
import { ClientSlots } from './client-slots.ts';
import { tooMany, type ConnectionLimit } from './plugins/connection-limit.ts';
import type { ApiLimits } from './server.ts';

/** Lines sent to a log client on connect so a late client sees context. */
export const LOG_BACKLOG_LINES = 200;
/** A client this far behind is disconnected rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface WebSocketDependencies {
  /** Reads the token as a session or an API key. */
  callers: Callers;
  /** Says when a session or key has been revoked, so open sockets are checked again. */
  revocations: Revocations;
  events: EventBus;
  runs: RunRepository;
  logs: RunLogs;
  /** Refuses upgrades on connections over their client's connection cap. */
  connections: Pick<ConnectionLimit, 'admits' | 'perClient'>;
  limits: Pick<ApiLimits, 'webSocketsPerClient' | 'webSocketHeartbeatMs'>;
}

type Route = { kind: 'logs'; runId: number } | { kind: 'status' };

function routeOf(url: URL): Route | null {
  const logs = url.pathname.match(/^(?:\/api)?\/ws\/logs\/(\d{1,10})\/?$/);
  if (logs) return { kind: 'logs', runId: Number(logs[1]) };
  return /^(?:\/api)?\/ws\/status\/?$/.test(url.pathname) ? { kind: 'status' } : null;
}

function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query) return query;
  const bearer = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) return bearer;
  // The cookie is only trusted from the daemon's own origin: another site's page must not ride on it.
  const origin = request.headers.origin;
  if (origin && originHost(origin) !== request.headers.host) return undefined;
  return request.headers.cookie?.match(/(?:^|;\s*)token=([^;]+)/)?.[1];
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function refuse(socket: Duplex, status: number, error: string, code: string, message: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ ...extra, error, message, code });
  const retryAfter = typeof extra.retry_after === 'number' ? `Retry-After: ${extra.retry_after}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${error}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retryAfter}Connection: close\r\n\r\n${body}`,
  );
}

function refuseTooMany(socket: Duplex, error: ReturnType<typeof tooMany>): void {
  refuse(socket, 429, 'Rate limited', error.code, error.message, { retry_after: error.retryAfter });
}

function send(socket: WebSocket, message: object): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
    socket.close(1013, 'client too slow');
    return;
  }
  socket.send(JSON.stringify(message));
}

const logMessage = (entry: LogEntry) => ({
  type: 'log',
  run_id: entry.run_id,
  id: entry.id,
  timestamp: entry.timestamp,
  level: entry.level,
  message: entry.message,
});

/** A verify run's figures (`verify`), added to its progress and status frames; other runs' frames are unchanged. */
const verifyFigures = (run: RunRecord) => (run.verify ? { verify: { ...run.verify } } : {});

const statusMessage = (run: RunRecord) => ({
  type: 'status',
  run_id: run.id,
  status: run.status,
  files_transferred: run.files_transferred,
  bytes_transferred: run.bytes_transferred,
  files_deleted: run.files_deleted,
  error_message: run.error_message,
  progress: run.progress ? { ...run.progress } : null,
  ...verifyFigures(run),
});

/** Serves the WebSockets on `server`'s listener; returns a function that closes every socket. */
export function attachWebSockets(server: Hapi.Server, deps: WebSocketDependencies): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const slots = new ClientSlots(deps.limits.webSocketsPerClient);
  const stopHeartbeat = startHeartbeat(wss, deps.limits.webSocketHeartbeatMs);
  const tokens = new WeakMap<WebSocket, string>();
  const closeUnauthenticated = () => {
    for (const ws of wss.clients) {
      const token = tokens.get(ws);
      if (token !== undefined && !deps.callers.authenticate(token)) ws.close(1008, 'credentials revoked');
    }
  };
  const stopRevocations = deps.revocations.onRevoked(closeUnauthenticated);
  // Keys and sessions also expire on their own; their sockets go within a heartbeat of it.
  const expiryTimer = setInterval(closeUnauthenticated, deps.limits.webSocketHeartbeatMs);
  expiryTimer.unref();

  server.listener.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that vanishes mid-handshake must not take the daemon down with an unhandled error.
    socket.on('error', () => socket.destroy());
    try {
      upgrade(request, socket, head);
    } catch {
      refuse(socket, 400, 'Invalid request', 'INVALID_REQUEST', 'Malformed WebSocket request');
    }
  });

  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!deps.connections.admits(socket)) return refuseTooMany(socket, tooMany('TOO_MANY_CONNECTIONS', 'connections', deps.connections.perClient));
    const url = new URL(request.url ?? '/', 'http://cairn.invalid');
    const route = routeOf(url);
    if (!route) return refuse(socket, 404, 'Not found', 'ROUTE_NOT_FOUND', `No such WebSocket: ${url.pathname}`);
    const token = tokenOf(request, url);
    // The address as the HTTP routes note it: an IPv4 peer of a dual-stack socket without its ::ffff: prefix.
    const from = (request.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    if (!token || !deps.callers.authenticate(token, from)) {
      return refuse(socket, 401, 'Unauthorized', 'UNAUTHENTICATED', 'Invalid or expired token');
    }
    if (route.kind === 'logs' && !deps.runs.byId(route.runId)) {
      return refuse(socket, 404, 'Not found', 'RUN_NOT_FOUND', 'Run not found');
    }
    // The slot is the raw socket's, so a handshake that fails after this still gives it back.
    const address = request.socket.remoteAddress ?? 'unknown';
    if (!slots.holdUntilClosed(address, socket)) return refuseTooMany(socket, tooMany('TOO_MANY_WEBSOCKETS', 'WebSockets', slots.limit));
    wss.handleUpgrade(request, socket, head, (ws) => {
      tokens.set(ws, token);
      wss.emit('connection', ws, request);
      if (route.kind === 'logs') void serveRunLog(ws, route.runId, deps).catch(() => ws.close(1011, 'log unavailable'));
      else serveStatus(ws, deps);
    });
  };

  return () =>
    new Promise<void>((resolve) => {
      stopHeartbeat();
      stopRevocations();
      clearInterval(expiryTimer);
      for (const client of wss.clients) client.close(1001, 'daemon stopping');
      wss.close(() => resolve());
    });
}

/** Pings every socket each `intervalMs`; one that has not answered the last ping is terminated. */
function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const answered = new WeakSet<WebSocket>();
  wss.on('connection', (ws) => {
    answered.add(ws);
    ws.on('pong', () => answered.add(ws));
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!answered.has(ws)) {
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function serveRunLog(ws: WebSocket, runId: number, deps: WebSocketDependencies): Promise<void> {
  // Subscribe before reading the backlog, so no line falls between the two; duplicates are skipped by id.
  const early: LogEntry[] = [];
  let lastSentId = 0;
  let backlogSent = false;
  const sendEntry = (entry: LogEntry) => {
    if (entry.id <= lastSentId) return;
    lastSentId = entry.id;
    send(ws, logMessage(entry));
  };
  const unsubscribe = [
    deps.events.on('run:log', (entry) => {
      if (entry.run_id !== runId) return;
      if (backlogSent) sendEntry(entry);
      else early.push(entry);
    }),
    deps.events.on('run:progress', (run) => {
      if (run.id === runId) send(ws, statusMessage(run));
    }),
    deps.events.on('run:started', (run) => {
      if (run.id === runId) send(ws, statusMessage(run));
    }),
    deps.events.on('run:finished', (run) => {
      if (run.id !== runId) return;
      // Lines logged just before the end may still be in the backlog read; send them first.
      if (!backlogSent) return;
      send(ws, statusMessage(run));
      ws.close(1000, 'run finished');
    }),
  ];
  ws.on('close', () => unsubscribe.forEach((off) => off()));

  for (const entry of await deps.logs.tail(runId, LOG_BACKLOG_LINES)) sendEntry(entry);
  for (const entry of early) sendEntry(entry);
  backlogSent = true;
  const run = deps.runs.byId(runId);
  if (!run) return ws.close(1000, 'run deleted');
  send(ws, statusMessage(run));
  if (isFinished(run.status)) ws.close(1000, 'run finished');
}

function serveStatus(ws: WebSocket, deps: WebSocketDependencies): void {
  const unsubscribe = [
    deps.events.on('run:started', (run) =>
      send(ws, { type: 'job_started', job_id: run.job_id, run_id: run.id, job_name: run.job_name, trigger: run.trigger }),
    ),
    deps.events.on('run:progress', (run) =>
      send(ws, {
        type: 'job_progress',
        job_id: run.job_id,
        run_id: run.id,
        files_transferred: run.files_transferred,
        bytes_transferred: run.bytes_transferred,
        files_deleted: run.files_deleted,
        progress: run.progress ? { ...run.progress } : null,
        ...verifyFigures(run),
      }),
    ),
    deps.events.on('run:finished', (run) =>
      send(ws, {
        type: 'job_completed',
        job_id: run.job_id,
        run_id: run.id,
        job_name: run.job_name,
        status: run.status,
        files_transferred: run.files_transferred,
        bytes_transferred: run.bytes_transferred,
        files_deleted: run.files_deleted,
        error_message: run.error_message,
        ...verifyFigures(run),
      }),
    ),
    deps.events.on('snapshot:created', ({ job_id, snapshot }) =>
      send(ws, {
        type: 'snapshot_created',
        job_id,
        // The snapshot's path on the box is not the client's business.
        snapshot: snapshotFieldsOf(snapshot),
      }),
    ),
    deps.events.on('snapshot:removed', ({ job_id, snapshot_id }) => send(ws, { type: 'snapshot_removed', job_id, snapshot_id })),
    ...(['drive:connected', 'drive:mounted', 'drive:safe_to_remove', 'drive:removed'] as const).map((event) =>
      deps.events.on(event, (payload) => send(ws, { type: event.replace(':', '_'), ...payload })),
    ),
  ];
  ws.on('close', () => unsubscribe.forEach((off) => off()));
}
