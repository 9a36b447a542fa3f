/**
 * The terminal UI's only connection to the daemon: the public REST API and WebSockets, with a
 * bearer token kept in memory for this session only.
 */
import WebSocket from 'ws';
import { Backoff } from './pacing.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type LoginResult = { kind: 'session' } | { kind: 'totp'; totpToken: string };

export class TuiApi {
  private token: string | null = null;

  constructor(readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', `Cannot reach the Cairn daemon at ${this.baseUrl}`);
    }
    // A login answers with the session cookie; the UI keeps it in memory and sends it as a bearer token.
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('token='));
    if (cookie) this.token = cookie.slice('token='.length).split(';')[0] || null;
    const data = (await response.json().catch(() => null)) as any;
    if (!response.ok) throw new ApiError(response.status, data?.code ?? 'ERROR', data?.message ?? `HTTP ${response.status}`);
    return data as T;
  }

  /** Password step; a session, or the need for a 2FA code. */
  async login(username: string, password: string): Promise<LoginResult> {
    const result = await this.call<any>('POST', '/api/auth/login', { username, password });
    return result.totp_required ? { kind: 'totp', totpToken: result.totp_token } : { kind: 'session' };
  }

  /** Whether the box has no owner yet, and whether creating it from here needs the setup code (not on the box itself). */
  async setupRequired(): Promise<{ required: boolean; codeRequired: boolean }> {
    const answer = await this.call<{ setup_required: boolean; setup_code_required?: boolean }>('GET', '/api/auth/setup-required');
    return { required: answer.setup_required, codeRequired: answer.setup_code_required === true };
  }

  /** Creates the owner account and its session; `setupCode` when setupRequired() says it is needed. */
  async setup(username: string, password: string, setupCode?: string): Promise<void> {
    await this.call('POST', '/api/auth/setup', setupCode === undefined ? { username, password } : { username, password, setup_code: setupCode });
  }

  /** Second step with an authenticator code (or a recovery code when `recovery`). */
  async completeLogin(totpToken: string, code: string, recovery = false): Promise<void> {
    if (recovery) await this.call('POST', '/api/auth/totp/recovery', { totp_token: totpToken, recovery_code: code });
    else await this.call('POST', '/api/auth/totp/validate', { totp_token: totpToken, code });
  }

  jobs = () => this.call<any[]>('GET', '/api/jobs');
  runsOf = (jobId: number) => this.call<any[]>('GET', `/api/jobs/${jobId}/runs?limit=20`);
  run = (jobId: number) => this.call<{ run_id: number }>('POST', `/api/jobs/${jobId}/run`);
  cancel = (jobId: number) => this.call('POST', `/api/jobs/${jobId}/cancel`);
  restore = (jobId: number, body: Record<string, unknown>) => this.call<{ run_id: number; target_dir: string }>('POST', `/api/jobs/${jobId}/restore`, body);
  clone = (jobId: number) => this.call<{ name: string }>('POST', `/api/jobs/${jobId}/clone`);
  createJob = (body: Record<string, unknown>) => this.call<any>('POST', '/api/jobs', body);
  updateJob = (jobId: number, body: Record<string, unknown>) => this.call<any>('PUT', `/api/jobs/${jobId}`, body);
  createSchedule = (jobId: number, body: unknown) => this.call<any>('POST', `/api/jobs/${jobId}/schedules`, body);
  updateSchedule = (scheduleId: number, body: unknown) => this.call<any>('PUT', `/api/schedules/${scheduleId}`, body);
  deleteSchedule = (scheduleId: number) => this.call('DELETE', `/api/schedules/${scheduleId}`);
  deleteJob = (jobId: number) => this.call('DELETE', `/api/jobs/${jobId}`);
  setEnabled = (jobId: number, enabled: boolean) => this.call('PUT', `/api/jobs/${jobId}`, { enabled });
  drives = () => this.call<any[]>('GET', '/api/system/drives');
  /** The last `count` lines of a run's log (the API pages from the start, so the total is asked first). */
  logTail = async (runId: number, count: number) => {
    const total = await this.logTotal(runId);
    const lines: any[] = [];
    for (let offset = Math.max(0, total - count); offset < total; offset += 10_000) {
      lines.push(...(await this.call<any[]>('GET', `/api/runs/${runId}/logs?offset=${offset}&limit=10000`)));
    }
    return lines;
  };

  private async logTotal(runId: number): Promise<number> {
    const response = await fetch(`${this.baseUrl}/api/runs/${runId}/logs?limit=1`, { headers: { authorization: `Bearer ${this.token ?? ''}` } });
    return Number(response.headers.get('x-total-count') ?? 0);
  }
  settings = () => this.call<Record<string, unknown>>('GET', '/api/settings');
  updateSettings = (body: Record<string, unknown>) => this.call<Record<string, unknown>>('PUT', '/api/settings', body);
  totpStatus = () => this.call<{ enabled: boolean }>('GET', '/api/auth/totp/status');
  totpSetup = () => this.call<{ secret: string; otpauth_url: string }>('POST', '/api/auth/totp/setup');
  totpEnable = (secret: string, code: string) => this.call<{ recovery_codes: string[] }>('POST', '/api/auth/totp/enable', { secret, code });
  totpDisable = (code: string) => this.call('POST', '/api/auth/totp/disable', { code });
  credentials = () => this.call<any[]>('GET', '/api/credentials');
  createCredential = (body: Record<string, unknown>) => this.call<any>('POST', '/api/credentials', body);
  updateCredential = (id: number, body: Record<string, unknown>) => this.call<any>('PUT', `/api/credentials/${id}`, body);
  deleteCredential = (id: number) => this.call('DELETE', `/api/credentials/${id}`);
  logout = () => this.call('POST', '/api/auth/logout').catch(() => undefined);

  /**
   * A WebSocket to `path` that reconnects by itself, waiting longer after each failed attempt (1 s
   * doubling to 30 s, back to 1 s once connected) so an unreachable daemon costs a handful of
   * attempts, not a loop; `onState` says whether it is connected. `retryNow()` skips the wait
   * when something else has just reached the daemon.
   */
  socket(path: string, onMessage: (message: any) => void, onState: (connected: boolean) => void, reconnect = true): { close(): void; retryNow(): void } {
    let socket: WebSocket | null = null;
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    const backoff = new Backoff();
    const open = () => {
      timer = null;
      socket = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}${path}?token=${encodeURIComponent(this.token ?? '')}`);
      socket.on('open', () => {
        backoff.reset();
        onState(true);
      });
      socket.on('message', (data) => onMessage(JSON.parse(String(data))));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (closed) return;
        onState(false);
        if (reconnect) timer = setTimeout(open, backoff.next());
      });
    };
    open();
    return {
      retryNow() {
        if (closed || timer === null) return;
        clearTimeout(timer);
        open();
      },
      close() {
        closed = true;
        if (timer) clearTimeout(timer);
        socket?.close();
      },
    };
  }
}
