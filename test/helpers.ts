/**
 * What every test needs: temp dirs removed at exit, a real daemon on an ephemeral port with a temp
 * data dir, and an HTTP client that keeps the session cookie like a browser would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../src/config.ts';
import { startDaemon, type Daemon, type DaemonOptions } from '../src/daemon.ts';
import { createMemoryLogger } from '../src/log.ts';

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test process exits. */
export function tempDir(prefix = 'cairn-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(tempDir(), 'data'),
    allowedBrowsePaths: [tempDir()],
    configFile: null,
    ...overrides,
  };
}

export interface TestDaemon extends Daemon {
  config: Config;
  logLines: string[];
  /** A new client without a session. */
  client(): ApiClient;
}

/** Starts a real daemon (store, auth, API) on 127.0.0.1 with an ephemeral port. */
export async function startTestDaemon(overrides: Partial<Config> = {}, options: DaemonOptions = {}): Promise<TestDaemon> {
  const config = testConfig(overrides);
  const log = createMemoryLogger();
  const daemon = await startDaemon(config, { log, ...options });
  return { ...daemon, config, logLines: log.lines, client: () => new ApiClient(daemon.url) };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export const ADMIN = { username: 'admin', password: 'correct horse battery' };

/** Talks to the API like a browser (the `token` cookie) or, with `bearer`, like a phone app. */
export class ApiClient {
  cookie: string | null = null;
  bearer: string | null = null;

  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, urlPath: string, body?: unknown, init: { rawBody?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie) headers.cookie = `token=${this.cookie}`;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const payload = init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(this.baseUrl + urlPath, { method, headers, body: payload });
    for (const cookie of response.headers.getSetCookie()) {
      const match = cookie.match(/^token=([^;]*)/);
      if (match) this.cookie = match[1] === '' ? null : match[1];
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = any>(urlPath: string) {
    return this.request<T>('GET', urlPath);
  }
  post<T = any>(urlPath: string, body?: unknown) {
    return this.request<T>('POST', urlPath, body);
  }
  put<T = any>(urlPath: string, body?: unknown) {
    return this.request<T>('PUT', urlPath, body);
  }
  delete<T = any>(urlPath: string) {
    return this.request<T>('DELETE', urlPath);
  }

  /** Creates the admin (first run) and keeps its session. */
  async setupAdmin(credentials = ADMIN): Promise<ApiResponse> {
    const response = await this.post('/api/auth/setup', credentials);
    if (response.status !== 201) throw new Error(`setup failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  async login(credentials = ADMIN): Promise<ApiResponse> {
    return this.post('/api/auth/login', credentials);
  }
}

/** True when `body` has the contract's error shape with the given code. */
export function isErrorShape(body: any, code?: string): boolean {
  return (
    body !== null &&
    typeof body === 'object' &&
    typeof body.error === 'string' &&
    typeof body.message === 'string' &&
    typeof body.code === 'string' &&
    (code === undefined || body.code === code)
  );
}
