/**
 * `cairn run JOB`: asks the running daemon to run a job (by id or name), prints its log live, and
 * exits 0 when it completed, 1 when it failed, 3 when it was cancelled. Ctrl-C cancels the run.
 * Uses the public API with a session obtained through the admin socket, like any other client.
 */
import WebSocket from 'ws';
import type { Config } from '../config.ts';
import { openDaemonSession } from './daemon-session.ts';

const EXIT = { completed: 0, failed: 1, usage: 2, cancelled: 3 } as const;

/** Runs the job named (or numbered) `jobRef` on the running daemon; resolves to the exit code above. */
export async function runJobCommand(config: Config, jobRef: string): Promise<number> {
  const api = await openDaemonSession(config, 'cairn run …');
  if (!api) return EXIT.failed;
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
    const status = await followRun(api.url, api.token, started.body.run_id, () => api.call('POST', `/api/jobs/${job.id}/cancel`));
    return EXIT[status as keyof typeof EXIT] ?? EXIT.failed;
  } finally {
    await api.close();
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
