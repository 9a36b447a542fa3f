/** The selected job's recent runs → the dashboard's Runs box. */
import type { Run } from '../wire.ts';
import { formatAge, formatBytes, sparkline } from './format.ts';
import { isProblem } from './jobs.ts';
import { plain, type Paint } from './paint.ts';
import { verifySummary } from './snapshots.ts';

/** How long a finished run took, in seconds; 0 while it has not both started and ended. */
export function runSeconds(run: Pick<Run, 'started_at' | 'completed_at'>): number {
  return run.started_at && run.completed_at ? (Date.parse(run.completed_at) - Date.parse(run.started_at)) / 1000 : 0;
}

/**
 * One line per run: id, status, trigger, when, totals (a verify run: what it checked and found); a
 * failed or cancelled one in red with its reason.
 */
export function runLine(run: Run, paint: Paint = plain, now = Date.now()): string {
  const totals = run.verify ? verifySummary(run.verify) : `${run.files_transferred} files ${formatBytes(run.bytes_transferred)}`;
  const line = `#${run.id} ${run.status.padEnd(9)} ${run.trigger.padEnd(9)} ${formatAge(run.completed_at ?? run.started_at, now)}  ${totals}`;
  return isProblem(run.status) ? paint(`${line}  ${run.error_message ?? ''}`, 'red') : line;
}

/**
 * The Runs box: newest first (as the API lists them), headed by charts of bytes and time, oldest
 * first, once there are two runs to compare; "no runs yet" when there are none.
 */
export function runsText(runs: readonly Run[], paint: Paint = plain, now = Date.now()): string {
  const history = [...runs].reverse();
  const chart = history.length > 1 ? `bytes ${sparkline(history.map((run) => run.bytes_transferred))}  time ${sparkline(history.map(runSeconds))}\n` : '';
  return chart + runs.map((run) => runLine(run, paint, now)).join('\n') || 'no runs yet';
}
