/**
 * What GET /dashboard says about health → text: the failing/overdue badge beside a job's status, and
 * free-space gauges for drives and destinations. Pure, no blessed.
 */
import type { DashboardDrive, DashboardJob, DestinationSpace, Drive } from '../wire.ts';
import { formatBytes, progressBar } from './format.ts';
import { plain, type Paint } from './paint.ts';

/** Used space from this fraction on is yellow, and red from the second: the alert rule's default is 90 %. */
const WARN_USED = 0.75;
const FULL_USED = 0.9;
/** Cells of the bar: with the text it fits the dashboard's Drives box (30 columns inside on an 80-column terminal). */
const GAUGE_WIDTH = 6;

/**
 * The badge a job's status cell carries: "FAILING" (with "×N" from the second failure in a row) in
 * red, "OVERDUE" in yellow, both when both apply; empty for a healthy, running or never-run job.
 */
export function stateBadge(job: Pick<DashboardJob, 'state' | 'overdue' | 'consecutive_failures'>, paint: Paint = plain): string {
  const badges: string[] = [];
  if (job.state === 'failing') badges.push(paint(job.consecutive_failures > 1 ? `FAILING ×${job.consecutive_failures}` : 'FAILING', 'red'));
  if (job.overdue) badges.push(paint('OVERDUE', 'yellow'));
  return badges.join(' ');
}

/**
 * The jobs table (header row first, `jobs` in the same order as its other rows) with each job's badge
 * appended to its status cell (column `statusColumn`); jobs the dashboard does not know keep their cell.
 */
export function withBadges(table: readonly string[][], jobs: ReadonlyArray<{ id: number }>, dashboard: readonly DashboardJob[], paint: Paint = plain, statusColumn = 2): string[][] {
  const byId = new Map(dashboard.map((entry) => [entry.job_id, entry]));
  return table.map((row, index) => {
    const entry = index === 0 ? undefined : byId.get(jobs[index - 1]?.id ?? -1);
    const badge = entry ? stateBadge(entry, paint) : '';
    return badge === '' ? [...row] : row.map((cell, column) => (column === statusColumn ? `${cell} ${badge}` : cell));
  });
}

/**
 * A free-space gauge: how full as a bar and a percentage, then what is free ("████░░ 70% · 3.0 GB free"), yellow from 75 % used and red from
 * 90 %; "space unknown" when the free bytes are unknown, and just "3.0 GB free" without a total.
 */
export function spaceGauge(freeBytes: number | null, totalBytes: number | null, paint: Paint = plain): string {
  if (freeBytes === null) return 'space unknown';
  if (totalBytes === null || totalBytes <= 0) return `${formatBytes(freeBytes)} free`;
  const used = Math.min(1, Math.max(0, (totalBytes - freeBytes) / totalBytes));
  const text = `${progressBar(used, GAUGE_WIDTH)} ${Math.round(used * 100)}% · ${formatBytes(freeBytes)} free`;
  return used >= FULL_USED ? paint(text, 'red') : used >= WARN_USED ? paint(text, 'yellow') : text;
}

/** A drive's gauge line from the dashboard (its filesystem while mounted), or null when it is not there or not mounted. */
export function driveGauge(drive: Pick<Drive, 'uuid'>, dashboardDrives: readonly DashboardDrive[], paint: Paint = plain): string | null {
  const known = dashboardDrives.find((entry) => entry.uuid === drive.uuid);
  if (!known || known.free_bytes === null) return null;
  return spaceGauge(known.free_bytes, known.filesystem_bytes, paint);
}

/**
 * The destinations' space: per job whose destination's protocol can tell, its name, then its gauge
 * indented below (as drives show); jobs whose space is unknown (S3, a drive not plugged in) are left
 * out rather than listed as unknown.
 */
export function destinationGauges(jobs: readonly DashboardJob[], paint: Paint = plain): string[] {
  return jobs
    .filter((job): job is DashboardJob & { destination_space: DestinationSpace } => job.destination_space !== null && job.destination_space.free_bytes !== null)
    .flatMap((job) => [job.name, `  ${spaceGauge(job.destination_space.free_bytes, job.destination_space.total_bytes, paint)}`]);
}
