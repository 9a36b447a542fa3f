/**
 * What every test needs: temp dirs removed at exit, a real daemon on an ephemeral port with a temp
 * data dir, and an HTTP client that keeps the session cookie like a browser would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentTotpCode, TOTP_STEP_MS } from '../src/auth/index.ts';
import type { Config } from '../src/config.ts';
import { startDaemon, type Daemon, type DaemonOptions } from '../src/daemon.ts';
import { createMemoryLogger } from '../src/log.ts';
import { waitFor } from './trees.ts';

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

/** The allowed paths of test daemons: the real temp folder, which holds every `tempDir()`. */
export const TEST_ROOT = realpathSync(os.tmpdir());

/**
 * A fresh folder outside `TEST_ROOT`, for what a test daemon must refuse to touch (removed at exit).
 * /var/tmp is on every Debian box and is not the temp folder unless TMPDIR says so; then /dev/shm.
 */
export function outsideDir(prefix = 'cairn-outside-'): string {
  const base = ['/var/tmp', '/dev/shm'].find((candidate) => existsSync(candidate) && path.relative(TEST_ROOT, realpathSync(candidate)).startsWith('..'));
  if (!base) throw new Error(`no writable folder outside ${TEST_ROOT} for the test`);
  const dir = mkdtempSync(path.join(base, prefix));
  tempDirs.push(dir);
  return dir;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(tempDir(), 'data'),
    allowedPaths: [TEST_ROOT],
    watchDrives: false,
    waitForClockSync: false,
    runLogMaxMb: 16,
    ledPath: null,
    notifyCommand: null,
    trustedProxies: [],
    // Plain HTTP for everyone, as before HTTPS: only the TLS tests turn it on.
    tls: false,
    tlsCertFile: null,
    tlsKeyFile: null,
    plainHttp: 'any',
    configFile: null,
    serviceSettings: null,
    ...overrides,
  };
}

export interface TestDaemon extends Daemon {
  config: Config;
  logLines: string[];
  /** A new client without a session. */
  client(): ApiClient;
}

/**
 * `CAIRN_TEST_RESPONSE_CHECK=error`: every test daemon answers 500 where an answer does not match the
 * schema its route documents (docs/API.md, OpenAPI), so a whole suite run checks every answer it gets.
 */
const RESPONSE_CHECK = process.env.CAIRN_TEST_RESPONSE_CHECK === 'error' ? 'error' : 'log';

/** Starts a real daemon (store, auth, API) on 127.0.0.1 with an ephemeral port. */
export async function startTestDaemon(overrides: Partial<Config> = {}, options: DaemonOptions = {}): Promise<TestDaemon> {
  const config = testConfig(overrides);
  const log = createMemoryLogger();
  const daemon = await startDaemon(config, { log, responseCheck: RESPONSE_CHECK, ...options });
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

  /**
   * Turns 2FA on with the previous step's code, leaving every later code for the test. The daemon takes
   * a code one step old at most, so a code sent in a step's last seconds could reach it two steps old:
   * those seconds are waited out first.
   */
  async enableTotp(): Promise<{ secret: string; recoveryCodes: string[] }> {
    const setup = await this.post('/api/auth/totp/setup');
    if (setup.status !== 200) throw new Error(`2FA setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
    const untilNextStep = TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS);
    if (untilNextStep < 5_000) await new Promise((resolve) => setTimeout(resolve, untilNextStep + 50));
    const secret: string = setup.body.secret;
    const enabled = await this.post('/api/auth/totp/enable', { secret, code: currentTotpCode(secret, Date.now() - TOTP_STEP_MS) });
    if (enabled.status !== 200) throw new Error(`2FA enable failed: ${enabled.status} ${JSON.stringify(enabled.body)}`);
    return { secret, recoveryCodes: enabled.body.recovery_codes };
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

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CAIRN_BIN = path.join(REPO_ROOT, 'bin', 'cairn.mjs');

export interface DaemonProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** Ends the process with `signal` and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs `cairn daemon` as a separate process (for crash tests and benchmarks) and waits until it
 * listens. Its allowed paths are `TEST_ROOT`, as for `startTestDaemon`, unless `env` says otherwise. `cairn` is the repository's CLI under this Node unless another command is given.
 */
export async function spawnDaemonProcess(dataDir: string, env: Record<string, string> = {}, cairn: string[] = [process.execPath, CAIRN_BIN]): Promise<DaemonProcess> {
  const child = spawn(cairn[0], [...cairn.slice(1), 'daemon'], {
    env: { ...process.env, CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0', CAIRN_HOST: '127.0.0.1', CAIRN_WATCH_DRIVES: 'false', CAIRN_ALLOWED_PATHS: TEST_ROOT, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code} before listening:\n${output}`)));
    // Generous: a start-up wait, not a speed check (a loaded 2-core box has taken over 20 s).
    setTimeout(() => reject(new Error(`daemon did not listen within 60 s:\n${output}`)), 60_000).unref();
  }).catch((error: unknown) => {
    // A daemon that never said it listens is still ours to end: left running it holds ports and loop drives.
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    dataDir,
    child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when it was still running after `timeoutMs` and was killed. */
  timedOut: boolean;
}

/** Runs the `cairn` command line with `args`, feeding `input` on stdin; killed after `timeoutMs` if given. */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CAIRN_BIN, ...args], { env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? null : setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), options.timeoutMs);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, timedOut });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Keeps the body of every answer `client` gets, so a test can show that no secret ever left the daemon. */
export function recordBodies(client: ApiClient): string[] {
  const bodies: string[] = [];
  const request = client.request.bind(client);
  client.request = async (...args) => {
    const response = await request(...args);
    bodies.push(JSON.stringify(response.body));
    return response;
  };
  return bodies;
}

/** Every file under a folder, as one text (latin1, so any bytes compare), to search for secrets. */
export function allFileText(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map((name) => path.join(dir, String(name)))
    .filter((file) => statSync(file).isFile())
    .map((file) => readFileSync(file, 'latin1'))
    .join('\n');
}

/** The run once it has finished (completed, failed or cancelled). */
export function finishedRun(client: ApiClient, runId: number, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    `run ${runId} to finish`,
    async () => {
      const run = (await client.get(`/api/runs/${runId}`)).body;
      return ['completed', 'failed', 'cancelled'].includes(run.status) ? run : null;
    },
    timeoutMs,
  );
}

/** How many jobs `createJob` has made in this process, so each default name is free. */
let jobsCreated = 0;

/**
 * Creates a job through the API and returns it as the API answered (201, or this throws with the
 * answer). By default a local backup of a fresh empty folder into another, named "Job N"; `overrides`
 * replace whole top-level fields (a new `destination_config` replaces the default one).
 */
export async function createJob(client: ApiClient, overrides: Record<string, unknown> = {}): Promise<any> {
  jobsCreated += 1;
  const body = {
    name: `Job ${jobsCreated}`,
    source_dirs: [tempDir('cairn-source-')],
    destination_type: 'local',
    destination_config: { mount_point: tempDir('cairn-target-'), backup_subdir: '' },
    ...overrides,
  };
  const response = await client.post('/api/jobs', body);
  if (response.status !== 201) throw new Error(`job not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Adds a schedule to a job through the API and returns it as the API answered (201, or this throws):
 * daily at 02:00 unless `overrides` say otherwise.
 */
export async function createSchedule(client: ApiClient, jobId: number, overrides: Record<string, unknown> = {}): Promise<any> {
  const response = await client.post(`/api/jobs/${jobId}/schedules`, { schedule_type: 'daily', hour: 2, minute: 0, ...overrides });
  if (response.status !== 201) throw new Error(`schedule not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** PIDs of running rsync processes whose command line names `needle` (a test's own folder). */
export function rsyncPids(needle: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.startsWith('rsync\0') && cmdline.includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}
