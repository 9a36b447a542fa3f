/** The daemon-log line that says how a run ended: one line per run, so `journalctl -u cairn` tells the story. */
import type { RunRecord } from '../domain/runs.ts';

/** "2 MB", "1.5 GB": decimal units, as file managers and `df -H` show sizes. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${value >= 10 ? Math.round(value) : Number(value.toFixed(1))} ${units[unit]}`;
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return seconds >= 10 ? `${Math.round(seconds)} s` : `${Number(seconds.toFixed(1))} s`;
}

/**
 * `run 12 of job "Photos" (manual) completed in 3.2 s: 10 files, 2 MB`, or `… failed after 3.2 s: <reason>`.
 * The run must be finished; its messages are already free of secrets (destinations are redacted).
 */
export function describeRunOutcome(run: RunRecord): string {
  const head = `run ${run.id} of job ${JSON.stringify(run.job_name)} (${run.trigger})`;
  const took = run.started_at && run.completed_at ? Date.parse(run.completed_at) - Date.parse(run.started_at) : null;
  const files = `${run.files_transferred} ${run.files_transferred === 1 ? 'file' : 'files'}, ${formatBytes(run.bytes_transferred)}`;
  if (run.status === 'completed') return `${head} completed${took === null ? '' : ` in ${formatSeconds(took)}`}: ${files}`;
  const reason = (run.error_message ?? 'no reason given').replace(/\s*\n\s*/g, ' ');
  if (run.status === 'cancelled') return `${head} cancelled${took === null ? '' : ` after ${formatSeconds(took)}`}: ${reason}`;
  return `${head} failed${took === null ? '' : ` after ${formatSeconds(took)}`}: ${reason}`;
}
