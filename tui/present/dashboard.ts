/** The dashboard's header line and jobs table → text (the boxes below have runs.ts and drives.ts). */
import type { Job, Provider } from '../wire.ts';
import { isProblem, JOB_COLUMNS, jobRows, type LiveRun } from './jobs.ts';
import { plain, type Paint } from './paint.ts';

/** " Cairn · URL · live" (or "reconnecting…"), a warning while schedules wait for the clock, then the notice when there is one. */
export function headerText(baseUrl: string, connected: boolean, notice: string, paint: Paint = plain, clockWaiting = false): string {
  const link = connected ? paint('live', 'green') : paint('reconnecting…', 'yellow');
  const clock = clockWaiting ? ` · ${paint('clock not synchronised: schedules wait', 'yellow')}` : '';
  return ` Cairn · ${baseUrl} · ${link}${clock}${notice ? ` · ${notice}` : ''}`;
}

/** Whether health says scheduled runs wait for the system clock (`CLOCK_NOT_SYNCHRONIZED`). */
export function clockWaitingIn(health: { reasons?: Array<{ code: string }> } | null): boolean {
  return health?.reasons?.some((reason) => reason.code === 'CLOCK_NOT_SYNCHRONIZED') ?? false;
}

/** The jobs table with its header row (destinations as addresses, from `providers`); a failed or cancelled status in red; one placeholder row when there are no jobs. */
export function jobTable(jobs: readonly Job[], live: Map<number, LiveRun>, providers: readonly Provider[], paint: Paint = plain, now = Date.now(), tick = 0): string[][] {
  const rows = jobRows([...jobs], live, providers, now, tick).map((row) => row.map((cell, i) => (i === 2 && isProblem(cell) ? paint(cell, 'red') : cell)));
  return [JOB_COLUMNS, ...(rows.length > 0 ? rows : [['no jobs yet', '', '', '', '']])];
}
