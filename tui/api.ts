/**
 * The terminal UI's only connection to the daemon: the public REST API and WebSockets, with a
 * bearer token kept in memory for this session only.
 */
import WebSocket from 'ws';
import { Backoff } from './pacing.ts';
import type {
  AlertHistoryPage,
  Channel,
  ChannelBody,
  ChannelKind,
  ChannelTestAnswer,
  Credential,
  Dashboard,
  CredentialBody,
  Drive,
  ErrorBody,
  Job,
  JobBody,
  LogEntry,
  LoginAnswer,
  LogSocketMessage,
  Message,
  Pairing,
  Provider,
  RestoreBody,
  RestoreStarted,
  RecoveryKit,
  RetentionPolicy,
  RetentionPreview,
  Run,
  RunStarted,
  RunsPage,
  RunStatus,
  Schedule,
  ScheduleBody,
  SetupRequired,
  Settings,
  StartedPairing,
  SnapshotList,
  StatusMessage,
  KeyScope,
  TotpEnabled,
  TotpSetup,
  TotpStatus,
  SystemHealth,
  SystemInfo,
  TreePage,
  VerifyBody,
  VerifyStarted,
} from './wire.ts';

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

/** A socket that reconnects by itself (see TuiApi.socket). */
export interface LiveSocket {
  close(): void;
  retryNow(): void;
}

/** The error body's fields when the answer has them; a proxy's HTML page or an empty body has none. */
function errorBodyOf(data: unknown): Partial<ErrorBody> {
  if (data === null || typeof data !== 'object') return {};
  const { code, message } = data as Record<string, unknown>;
  return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : undefined };
}

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
    const data: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const body = errorBodyOf(data);
      throw new ApiError(response.status, body.code ?? 'ERROR', body.message ?? `HTTP ${response.status}`);
    }
    // The daemon's answer is trusted to follow the contract that wire.ts writes down.
    return data as T;
  }

  /** Password step; a session, or the need for a 2FA code. */
  async login(username: string, password: string): Promise<LoginResult> {
    const result = await this.call<LoginAnswer>('POST', '/api/auth/login', { username, password });
    return result.totp_required && result.totp_token ? { kind: 'totp', totpToken: result.totp_token } : { kind: 'session' };
  }

  /** Whether the box has no owner yet, and whether creating it from here needs the setup code (not on the box itself). */
  async setupRequired(): Promise<{ required: boolean; codeRequired: boolean }> {
    const answer = await this.call<SetupRequired>('GET', '/api/auth/setup-required');
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

  jobs = () => this.call<Job[]>('GET', '/api/jobs');
  runsOf = (jobId: number) => this.call<Run[]>('GET', `/api/jobs/${jobId}/runs?limit=20`);
  run = (jobId: number) => this.call<RunStarted>('POST', `/api/jobs/${jobId}/run`);
  cancel = (jobId: number) => this.call<Message & { run_id: number }>('POST', `/api/jobs/${jobId}/cancel`);
  restore = (jobId: number, body: RestoreBody) => this.call<RestoreStarted>('POST', `/api/jobs/${jobId}/restore`, body);
  clone = (jobId: number) => this.call<Job>('POST', `/api/jobs/${jobId}/clone`);
  createJob = (body: JobBody) => this.call<Job>('POST', '/api/jobs', body);
  updateJob = (jobId: number, body: JobBody) => this.call<Job>('PUT', `/api/jobs/${jobId}`, body);
  createSchedule = (jobId: number, body: ScheduleBody) => this.call<Schedule>('POST', `/api/jobs/${jobId}/schedules`, body);
  updateSchedule = (scheduleId: number, body: ScheduleBody) => this.call<Schedule>('PUT', `/api/schedules/${scheduleId}`, body);
  deleteSchedule = (scheduleId: number) => this.call<Message>('DELETE', `/api/schedules/${scheduleId}`);
  deleteJob = (jobId: number) => this.call<Message>('DELETE', `/api/jobs/${jobId}`);
  setEnabled = (jobId: number, enabled: boolean) => this.call<Job>('PUT', `/api/jobs/${jobId}`, { enabled });
  /** The destination types with their address formats and credential fields; a screen asks once when it opens. */
  providers = () => this.call<Provider[]>('GET', '/api/providers');
  drives = () => this.call<Drive[]>('GET', '/api/system/drives');
  /** The last `count` lines of a run's log (the API pages from the start, so the total is asked first). */
  logTail = async (runId: number, count: number): Promise<LogEntry[]> => {
    const total = await this.logTotal(runId);
    const lines: LogEntry[] = [];
    for (let offset = Math.max(0, total - count); offset < total; offset += 10_000) {
      lines.push(...(await this.call<LogEntry[]>('GET', `/api/runs/${runId}/logs?offset=${offset}&limit=10000`)));
    }
    return lines;
  };

  private async logTotal(runId: number): Promise<number> {
    const response = await fetch(`${this.baseUrl}/api/runs/${runId}/logs?limit=1`, { headers: { authorization: `Bearer ${this.token ?? ''}` } });
    return Number(response.headers.get('x-total-count') ?? 0);
  }
  /** A repository job's recovery kit (its password included). */
  recoveryKit = (jobId: number) => this.call<RecoveryKit>('GET', `/api/jobs/${jobId}/recovery-kit`);
  /** A snapshots job's history, newest first. */
  snapshots = (jobId: number) => this.call<SnapshotList>('GET', `/api/jobs/${jobId}/snapshots`);
  /** One page of a folder in a snapshot (`path` relative to its top, "" for the top). */
  snapshotTree = (jobId: number, snapshotId: string, path: string, offset: number, limit: number) =>
    this.call<TreePage>('GET', `/api/jobs/${jobId}/snapshots/${encodeURIComponent(snapshotId)}/tree?path=${encodeURIComponent(path)}&offset=${offset}&limit=${limit}`);
  deleteSnapshot = (jobId: number, snapshotId: string) => this.call<Message>('DELETE', `/api/jobs/${jobId}/snapshots/${encodeURIComponent(snapshotId)}`);
  retention = (jobId: number) => this.call<RetentionPolicy>('GET', `/api/jobs/${jobId}/retention`);
  saveRetention = (jobId: number, policy: RetentionPolicy) => this.call<RetentionPolicy>('PUT', `/api/jobs/${jobId}/retention`, policy);
  /** What `policy` would keep and remove of the job's snapshots now; changes nothing. */
  previewRetention = (jobId: number, policy: RetentionPolicy) => this.call<RetentionPreview>('POST', `/api/jobs/${jobId}/retention/preview`, policy);
  verify = (jobId: number, body: VerifyBody) => this.call<VerifyStarted>('POST', `/api/jobs/${jobId}/verify`, body);
  settings = () => this.call<Settings>('GET', '/api/settings');
  /** The daemon's verdict on itself, with its reasons (the header shows when schedules wait for the clock). */
  health = () => this.call<SystemHealth>('GET', '/api/system/health');
  /** The version, and the HTTPS fingerprint and URLs a phone app pins and connects to. */
  systemInfo = () => this.call<SystemInfo>('GET', '/api/system/info');
  updateSettings = (body: Partial<Record<keyof Settings, unknown>>) => this.call<Settings>('PUT', '/api/settings', body);
  totpStatus = () => this.call<TotpStatus>('GET', '/api/auth/totp/status');
  totpSetup = () => this.call<TotpSetup>('POST', '/api/auth/totp/setup');
  totpEnable = (secret: string, code: string) => this.call<TotpEnabled>('POST', '/api/auth/totp/enable', { secret, code });
  totpDisable = (code: string) => this.call<Message>('POST', '/api/auth/totp/disable', { code });
  credentials = () => this.call<Credential[]>('GET', '/api/credentials');
  createCredential = (body: CredentialBody) => this.call<Credential>('POST', '/api/credentials', body);
  updateCredential = (id: number, body: CredentialBody) => this.call<Credential>('PUT', `/api/credentials/${id}`, body);
  deleteCredential = (id: number) => this.call<Message>('DELETE', `/api/credentials/${id}`);
  /** Starts pairing a phone app: a one-time code (10 minutes) and the QR code's text. */
  startPairing = (scope: KeyScope) => this.call<StartedPairing>('POST', '/api/pairing', { scope });
  pairing = (id: number) => this.call<Pairing>('GET', `/api/pairing/${id}`);
  cancelPairing = (id: number) => this.call<Pairing>('DELETE', `/api/pairing/${id}`);
  logout = () => this.call<Message>('POST', '/api/auth/logout').catch(() => undefined);

  /** The home screen in one call: job states, drive and destination space, totals, the 30-day series. */
  dashboard = () => this.call<Dashboard>('GET', '/api/dashboard');
  /** A page of every job's runs, newest first; `status` narrows it. */
  allRuns = (page: { limit: number; offset: number; status?: RunStatus }) =>
    this.call<RunsPage>('GET', `/api/runs?limit=${page.limit}&offset=${page.offset}${page.status ? `&status=${page.status}` : ''}`);
  /** The channel kinds with their config fields; a screen asks once when it opens. */
  channelKinds = () => this.call<ChannelKind[]>('GET', '/api/notifications/kinds');
  channels = () => this.call<Channel[]>('GET', '/api/notifications/channels');
  createChannel = (body: ChannelBody) => this.call<Channel>('POST', '/api/notifications/channels', body);
  updateChannel = (id: number, body: ChannelBody) => this.call<Channel>('PUT', `/api/notifications/channels/${id}`, body);
  deleteChannel = (id: number) => this.call<Message>('DELETE', `/api/notifications/channels/${id}`);
  /** Really sends a test message; the service's answer, whether it accepted or not. */
  testChannel = (id: number) => this.call<ChannelTestAnswer>('POST', `/api/notifications/channels/${id}/test`);
  alertHistory = (page: { limit: number; offset: number }) => this.call<AlertHistoryPage>('GET', `/api/notifications/history?limit=${page.limit}&offset=${page.offset}`);

  /**
   * A WebSocket to `path` that reconnects by itself, waiting longer after each failed attempt (1 s
   * doubling to 30 s, back to 1 s once connected) so an unreachable daemon costs a handful of
   * attempts, not a loop; `onState` says whether it is connected. `retryNow()` skips the wait
   * when something else has just reached the daemon.
   */
  socket(path: '/api/ws/status', onMessage: (message: StatusMessage) => void, onState: (connected: boolean) => void, reconnect?: boolean): LiveSocket;
  socket(path: `/api/ws/logs/${number}`, onMessage: (message: LogSocketMessage) => void, onState: (connected: boolean) => void, reconnect?: boolean): LiveSocket;
  socket(path: string, onMessage: (message: never) => void, onState: (connected: boolean) => void, reconnect = true): LiveSocket {
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
      // The daemon sends the messages wire.ts describes for this path.
      socket.on('message', (data) => onMessage(JSON.parse(String(data)) as never));
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
