/**
 * The composition root: builds the store, vault, auth and API from the config, starts them, and
 * stops them in reverse order. Nothing else wires modules together.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Hapi from '@hapi/hapi';
import { startAdminSocket } from './admin/admin-socket.ts';
import { createApiServer } from './api/server.ts';
import { AuthService, RateLimiter, SessionService, type RateLimiterOptions } from './auth/index.ts';
import type { Config } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { createLogger, type Logger } from './log.ts';
import { loadOrCreateKeyFile, openStore, type Store } from './store/index.ts';
import { openVault } from './vault/index.ts';
import { VERSION } from './version.ts';

export const SESSION_KEY_FILE = 'session.key';

export interface Daemon {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  url: string;
  server: Hapi.Server;
  store: Store;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  log?: Logger;
  /** Login rate limits; tests shorten them. */
  loginRateLimit?: RateLimiterOptions;
}

/** Starts the daemon; throws with a message for the owner when it cannot. */
export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? createLogger();
  const teardown: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of teardown.reverse()) await step().catch((error) => log.error('stop step failed', { error: String(error) }));
    teardown.length = 0;
  };

  try {
    await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    teardown.push(await lockDataDir(config.dataDir));

    const store = await openStore(config.dataDir);
    teardown.push(() => store.close());
    const vault = await openVault(config.dataDir);
    const sessions = new SessionService(
      store.sessions,
      store.users,
      await loadOrCreateKeyFile(path.join(config.dataDir, SESSION_KEY_FILE), 32),
    );
    const auth = new AuthService(store.users, sessions, vault);
    const loginLimiter = new RateLimiter(options.loginRateLimit);

    const server = await createApiServer({
      host: config.host,
      port: config.port,
      version: VERSION,
      log,
      auth,
      sessions,
      loginLimiter,
      settings: store.settings,
    });
    await server.start();
    teardown.push(() => server.stop({ timeout: 5000 }));

    teardown.push(await startAdminSocket(config.dataDir, { auth, onPasswordReset: () => loginLimiter.clear() }));

    const url = `http://${server.info.host.includes(':') ? `[${server.info.host}]` : server.info.host}:${server.info.port}`;
    log.info(`Cairn ${VERSION} listening on ${url}`, { data_dir: config.dataDir });
    return { url, server, store, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
