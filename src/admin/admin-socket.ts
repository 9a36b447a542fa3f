/**
 * The admin socket: a Unix socket in the data dir (only its owner can reach it) through which
 * `cairn user reset-password` on the box reaches a running daemon, so the change is made by the
 * process that owns the store instead of being overwritten by it. One JSON request line, one
 * JSON answer line.
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

type AdminAnswer = { ok: true; user: PublicUser } | { ok: false; message: string };

export interface AdminSocketDependencies {
  auth: AuthService;
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

async function answer(line: string, deps: AdminSocketDependencies): Promise<AdminAnswer> {
  try {
    const request = JSON.parse(line) as ResetPasswordRequest;
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
export function sendResetPassword(dataDir: string, request: Omit<ResetPasswordRequest, 'command'>): Promise<AdminAnswer | null> {
  return new Promise((resolve, reject) => {
    const connection = net.connect(path.join(dataDir, ADMIN_SOCKET));
    let reply = '';
    connection.setEncoding('utf8');
    connection.on('connect', () => connection.write(JSON.stringify({ command: 'reset-password', ...request }) + '\n'));
    connection.on('data', (chunk) => (reply += chunk));
    connection.on('end', () => {
      try {
        resolve(JSON.parse(reply) as AdminAnswer);
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
