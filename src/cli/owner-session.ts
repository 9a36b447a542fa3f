/**
 * A session on the running daemon for a CLI command run on the box (`cairn run`, `cairn pair`),
 * asked for through the admin socket, which only the daemon's user can reach. The command then
 * uses the public API like any other client.
 */
import { requestSession } from '../admin/admin-socket.ts';
import type { Config } from '../config.ts';
import { startDaemonAdvice } from './daemon-advice.ts';

/** The session, or null after telling the owner on stderr why there is none. */
export async function openOwnerSession(config: Config, command: string): Promise<{ url: string; token: string } | null> {
  const session = await requestSession(config.dataDir).catch((error: NodeJS.ErrnoException) => {
    // The service's data dir is root's (0700): an owner who forgot sudo is told so.
    if (error.code === 'EACCES') return 'forbidden' as const;
    throw error;
  });
  if (session === 'forbidden') {
    process.stderr.write(`This user may not reach the daemon's admin socket in ${config.dataDir}; run the command as root (sudo cairn ${command} …).\n`);
    return null;
  }
  if (!session) {
    process.stderr.write(`No Cairn daemon is running with data dir ${config.dataDir}. ${startDaemonAdvice(config)}\n`);
    return null;
  }
  if (!session.ok) {
    process.stderr.write(`The daemon refused: ${session.message}\n`);
    return null;
  }
  return { url: session.url, token: session.token };
}

/** Calls the API with the session's bearer token; the answer's status and JSON body (null when none). */
export async function callApi<T = any>(session: { url: string; token: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(session.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json().catch(() => null) };
}
