/**
 * A CLI command's way into the running daemon (`cairn run`, `pair`, `export`, `import`): a session
 * from the admin socket (so only root on the box gets one), then the public API like any other client.
 */
import { requestSession } from '../admin/admin-socket.ts';
import type { Config } from '../config.ts';
import { startDaemonAdvice } from './daemon-advice.ts';

/** An answer of the API: its status, its JSON body (null when not JSON) and its raw text. */
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  text: string;
}

export interface DaemonSession {
  url: string;
  token: string;
  /** Calls the API with the session; `body` is sent as JSON. */
  call<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>>;
  /** Ends the session (logout); never throws. */
  close(): Promise<void>;
}

/**
 * A session on the daemon of `config`'s data dir; null after telling the owner on stderr why there is
 * none (no daemon running, not root, refused). `command` names the command in the advice (`cairn run …`).
 */
export async function openDaemonSession(config: Config, command: string): Promise<DaemonSession | null> {
  const session = await requestSession(config.dataDir).catch((error: NodeJS.ErrnoException) => {
    // The service's data dir is root's (0700): an owner who forgot sudo is told so.
    if (error.code === 'EACCES') return 'forbidden' as const;
    throw error;
  });
  if (session === 'forbidden') {
    process.stderr.write(`This user may not reach the daemon's admin socket in ${config.dataDir}; run the command as root (sudo ${command}).\n`);
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
  const { url, token } = session;
  const call = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (an export file): the text is the answer
    }
    return { status: response.status, body: parsed, text };
  };
  return {
    url,
    token,
    call,
    close: async () => {
      await call('POST', '/api/auth/logout').catch(() => undefined);
    },
  };
}
