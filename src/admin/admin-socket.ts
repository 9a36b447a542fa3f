/**
 * The admin socket: a Unix socket in the data dir that only its owner can reach. Through it, CLI
 * commands run on the box reach the running daemon:
 * - `reset-password`: made by the process that owns the store, instead of being overwritten by it;
 * - `session`: a session for the CLI (`cairn run`), which then uses the public API like any client.
 * One JSON request line, one JSON answer line.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AuthService } from '../auth/index.ts';
import { isCairnError } from '../domain/errors.ts';
import type { PublicUser } from '../domain/users.ts';

export const ADMIN_SOCKET = 'admin.sock';

export interface ResetPasswordRequest {
  command: 'reset-password';
  username?: string;
  password: string;
}

export interface SessionRequest {
  command: 'session';
}

type AdminRequest = ResetPasswordRequest | SessionRequest;
type Failure = { ok: false; message: string };
type ResetAnswer = { ok: true; user: PublicUser } | Failure;
export type SessionAnswer = { ok: true; token: string; url: string } | Failure;

export interface AdminSocketDependencies {
  auth: AuthService;
  /** The daemon's API base URL, reachable from this box. */
  url: string;
  /** Called after a reset so lockouts from the owner's failed attempts are forgotten. */
  onPasswordReset(): void;
}

/** Listens on `<dataDir>/admin.sock`; returns a function that closes it. */
export async function startAdminSocket(dataDir: string, deps: AdminSocketDependencies): Promise<() => Promise<void>> {
  const socketPath = path.join(dataDir, ADMIN_SOCKET);
  await fs.rm(socketPath, { force: true });
  const server = net.createServer((connection) => {
    let buffer = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.length > 64 * 1024) return connection.destroy();
      const end = buffer.indexOf('\n');
      if (end === -1) return;
      void answer(buffer.slice(0, end), deps).then((reply) => connection.end(JSON.stringify(reply) + '\n'));
    });
    connection.on('error', () => connection.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  await fs.chmod(socketPath, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      void fs.rm(socketPath, { force: true });
    });
}

async function answer(line: string, deps: AdminSocketDependencies): Promise<ResetAnswer | SessionAnswer> {
  try {
    const request = JSON.parse(line) as AdminRequest;
    if (request.command === 'session') {
      return { ok: true, token: await deps.auth.startOwnerSession(), url: deps.url };
    }
    if (request.command !== 'reset-password' || typeof request.password !== 'string') {
      return { ok: false, message: 'unknown admin command' };
    }
    const user = await deps.auth.resetPassword(request.username, request.password);
    deps.onPasswordReset();
    return { ok: true, user };
  } catch (error) {
    return { ok: false, message: isCairnError(error) ? error.message : 'the daemon could not reset the password' };
  }
}

/**
 * Sends a reset to the running daemon. Resolves to null when no daemon listens (the caller then
 * changes the store directly).
 */
export function sendResetPassword(dataDir: string, request: Omit<ResetPasswordRequest, 'command'>): Promise<ResetAnswer | null> {
  return sendAdminRequest(dataDir, { command: 'reset-password', ...request });
}

/** Asks the running daemon for a session for this CLI; null when no daemon listens. */
export function requestSession(dataDir: string): Promise<SessionAnswer | null> {
  return sendAdminRequest(dataDir, { command: 'session' });
}

function sendAdminRequest<Answer>(dataDir: string, request: AdminRequest): Promise<Answer | null> {
  return new Promise((resolve, reject) => {
    const connection = net.connect(path.join(dataDir, ADMIN_SOCKET));
    let reply = '';
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(JSON.stringify(request) + '\n'));
    connection.on('data', (chunk) => (reply += chunk));
    connection.on('end', () => {
      try {
        resolve(JSON.parse(reply) as Answer);
      } catch {
        reject(new Error('the daemon gave no answer'));
      }
    });
    connection.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(error);
    });
  });
}
