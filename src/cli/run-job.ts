/**
 * `cairn run JOB`: asks the running daemon to run a job (by id or name), prints its log live, and
 * exits 0 when it completed, 1 when it failed, 3 when it was cancelled. Ctrl-C cancels the run.
 * Uses the public API with a session obtained through the admin socket, like any other client.
 */
import WebSocket from 'ws';
import { requestSession } from '../admin/admin-socket.ts';
import type { Config } from '../config.ts';
import { startDaemonAdvice } from './daemon-advice.ts';

const EXIT = { completed: 0, failed: 1, usage: 2, cancelled: 3 } as const;

interface Api {
  call<T = any>(method: string, path: string): Promise<{ status: number; body: T }>;
}

function apiClient(url: string, token: string): Api {
  return {
    async call(method, path) {
      const response = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
  };
}

/** Runs the job named (or numbered) `jobRef` on the running daemon; resolves to the exit code above. */
export async function runJobCommand(config: Config, jobRef: string): Promise<number> {
  const session = await requestSession(config.dataDir).catch((error: NodeJS.ErrnoException) => {
    // The service's data dir is root's (0700): an owner who forgot sudo is told so.
    if (error.code === 'EACCES') return 'forbidden' as const;
    throw error;
  });
  if (session === 'forbidden') {
    process.stderr.write(`This user may not reach the daemon's admin socket in ${config.dataDir}; run the command as root (sudo cairn run …).\n`);
    return EXIT.failed;
  }
  if (!session) {
    process.stderr.write(`No Cairn daemon is running with data dir ${config.dataDir}. ${startDaemonAdvice(config)}\n`);
    return EXIT.failed;
  }
  if (!session.ok) {
    process.stderr.write(`The daemon refused: ${session.message}\n`);
    return EXIT.failed;
  }
  const api = apiClient(session.url, session.token);
  try {
    const jobs = (await api.call<Array<{ id: number; name: string }>>('GET', '/api/jobs')).body ?? [];
    const job = jobs.find((candidate) => String(candidate.id) === jobRef) ?? jobs.find((candidate) => candidate.name === jobRef);
    if (!job) {
      process.stderr.write(`No job "${jobRef}". Jobs: ${jobs.map((j) => `${j.id} ${j.name}`).join(', ') || 'none yet'}\n`);
      return EXIT.usage;
    }
    const started = await api.call('POST', `/api/jobs/${job.id}/run`);
    if (started.status !== 200) {
      process.stderr.write(`Could not start "${job.name}": ${started.body?.message ?? started.status}\n`);
      return EXIT.failed;
    }
    process.stdout.write(`Run ${started.body.run_id} of "${job.name}" started.\n`);
    const status = await followRun(session.url, session.token, started.body.run_id, () => api.call('POST', `/api/jobs/${job.id}/cancel`));
    return EXIT[status as keyof typeof EXIT] ?? EXIT.failed;
  } finally {
    await api.call('POST', '/api/auth/logout').catch(() => undefined);
  }
}

/** Prints the run's log until it ends; resolves to its final status. */
function followRun(url: string, token: string, runId: number, cancel: () => Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws/logs/${runId}?token=${encodeURIComponent(token)}`);
    let finalStatus: string | null = null;
    const onInterrupt = () => {
      process.stderr.write('\nCancelling the run…\n');
      void cancel();
    };
    process.on('SIGINT', onInterrupt);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'log') {
        const time = String(message.timestamp).slice(11, 19);
        const stream = message.level === 'info' ? process.stdout : process.stderr;
        stream.write(`${time} ${message.level.padEnd(7)} ${message.message}\n`);
      } else if (message.type === 'status' && ['completed', 'failed', 'cancelled'].includes(message.status)) {
        finalStatus = message.status;
        const detail = message.error_message ? `: ${message.error_message}` : '';
        process.stdout.write(`Run ${runId} ${message.status}${detail}\n`);
      }
    });
    socket.on('close', () => {
      process.off('SIGINT', onInterrupt);
      if (finalStatus) resolve(finalStatus);
      else reject(new Error('the connection to the daemon closed before the run ended'));
    });
    socket.on('error', (error) => reject(error));
  });
}
