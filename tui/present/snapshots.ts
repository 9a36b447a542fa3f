/**
 * A job's history → text: its snapshots (time in the settings' zone, files, size, bytes added,
 * the rules that keep each), a snapshot's folder page, a retention preview, a verify's figures,
 * and the job's history line on the dashboard.
 */
import type { Job, RetentionPreview, RunStatus, Snapshot, TreePage, VerifyFigures } from '../wire.ts';
import { fit, formatAge, formatBytes } from './format.ts';
import { escapeTags } from './logs.ts';
import { keptByText, reasonText } from './retention.ts';
import { plain, type Paint } from './paint.ts';

/** "2026-12-05 03:15" for an instant, read in `timezone` (an IANA name); the UTC text when the zone is unknown. */
export function localTime(iso: string, timezone: string): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
  } catch {
    return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((item) => item.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

/** 12345 → "12,345". */
const count = (value: number) => value.toLocaleString('en-US');

/** The column heads of `snapshotLine`. */
export const SNAPSHOT_HEADER = `${'Time'.padEnd(16)}  ${'Files'.padStart(9)}  ${'Size'.padStart(8)}  ${'Added'.padStart(8)}  Kept by`;

/**
 * One line per snapshot: time, files, total size, bytes added, the rules that keep it; one the
 * current policy would remove in yellow.
 */
export function snapshotLine(snapshot: Snapshot, timezone: string, paint: Paint = plain): string {
  const line = `${localTime(snapshot.time, timezone).padEnd(16)}  ${count(snapshot.files).padStart(9)}  ${formatBytes(snapshot.total_size).padStart(8)}  ${`+${formatBytes(snapshot.bytes_added)}`.padStart(8)}  ${escapeTags(keptByText(snapshot.kept_by))}`;
  return snapshot.kept_by.length === 0 ? paint(line, 'yellow') : line;
}

/** "Photos · 2 snapshots · keep: last=7" — the snapshots screen's title line. */
export function snapshotsTitle(jobName: string, total: number, policyText: string): string {
  return `${jobName} · ${total === 1 ? '1 snapshot' : `${count(total)} snapshots`} · keep: ${policyText === '' ? 'everything (no policy)' : policyText}`;
}

/** A tree entry's name as listed: folders end in "/", links show as such. */
function entryName(entry: TreePage['entries'][number]): string {
  return entry.type === 'dir' ? `${entry.name}/` : entry.type === 'symlink' ? `${entry.name} →` : entry.name;
}

/** One line per entry of a folder page: name, size (files), modification time in `timezone`; names escaped for blessed. */
export function treeLines(page: TreePage, timezone: string, width = 60): string[] {
  return page.entries.map((entry) => `${escapeTags(fit(entryName(entry), width))}  ${(entry.size === null || entry.type !== 'file' ? '' : formatBytes(entry.size)).padStart(8)}  ${localTime(entry.mtime, timezone)}`);
}

/** "2026-12-05 03:15 /documents/photos · 201–400 of 950" (or "empty folder"). */
export function treeTitle(snapshotTime: string, page: TreePage): string {
  const where = `/${page.path.replace(/^\.?\/*/, '').replace(/\/$/, '')}`;
  if (page.total === 0) return `${snapshotTime} ${where} · empty folder`;
  const last = page.offset + page.entries.length;
  return `${snapshotTime} ${where} · ${page.offset + 1}–${last} of ${count(page.total)}`;
}

/** A folder inside the snapshot: its path joined with `name`, no leading slash. */
export function childPath(path: string, name: string): string {
  const base = path.replace(/^\.?\/*/, '').replace(/\/$/, '');
  return base === '' ? name : `${base}/${name}`;
}

/** The folder above `path` ("" at the top). */
export function parentPath(path: string): string {
  const base = path.replace(/^\.?\/*/, '').replace(/\/$/, '');
  const slash = base.lastIndexOf('/');
  return slash < 0 ? '' : base.slice(0, slash);
}

/**
 * A retention preview as lines: a summary ("keeps 3, removes 2"), then each snapshot newest first,
 * kept ones with the rules that keep them, removed ones in red.
 */
export function previewLines(preview: RetentionPreview, timezone: string, paint: Paint = plain): string[] {
  const rows = [
    ...preview.keep.map((item) => ({ time: item.time, line: `keep    ${localTime(item.time, timezone)}  ${escapeTags(item.reasons.map(reasonText).join(', '))}` })),
    ...preview.remove.map((item) => ({ time: item.time, line: paint(`remove  ${localTime(item.time, timezone)}`, 'red') })),
  ].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  return [`This policy keeps ${preview.keep.length} and removes ${preview.remove.length} snapshot${preview.remove.length === 1 ? '' : 's'}:`, ...rows.map((row) => row.line)];
}

/** The damaged files a verify found so far. */
export function damagedOf(figures: VerifyFigures): number {
  return figures.mismatched + figures.missing + figures.unreadable;
}

/** "201 files checked, all match" or "201 files checked, 2 damaged (1 changed, 1 missing)". */
export function verifySummary(figures: VerifyFigures): string {
  const checked = `${count(figures.files_checked)} file${figures.files_checked === 1 ? '' : 's'} checked, ${formatBytes(figures.bytes_read)} read`;
  const damaged = damagedOf(figures);
  if (damaged === 0) return `${checked}, all match`;
  const kinds = [
    [figures.mismatched, 'changed'],
    [figures.missing, 'missing'],
    [figures.unreadable, 'unreadable'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`);
  return `${checked}, ${damaged} damaged (${kinds.join(', ')})`;
}

/**
 * A verify's state for the snapshots screen: running with its figures so far, then its outcome:
 * "verified … all match" in green, damage or another failure (its message) in red.
 */
export function verifyStatusText(run: { run_id: number; status: RunStatus; verify: VerifyFigures | null; error_message: string | null }, paint: Paint = plain): string {
  const figures = run.verify;
  const what = `verify (run ${run.run_id})`;
  if (run.status === 'pending' || run.status === 'running') return `${what} running${figures ? `: ${verifySummary(figures).replace(/, all match$/, '')}` : '…'}`;
  if (run.status === 'completed' && figures && damagedOf(figures) === 0) return paint(`${what} passed: ${verifySummary(figures)}`, 'green');
  if (run.status === 'cancelled') return paint(`${what} cancelled`, 'yellow');
  const detail = figures && damagedOf(figures) > 0 ? verifySummary(figures) : (run.error_message ?? run.status);
  return paint(`${what} ${run.status}: ${detail}`, 'red');
}

/**
 * The dashboard's line about a job's history: nothing for a mirror job; "3 snapshots · newest 2h
 * ago", "no snapshots yet", or "snapshots: not read yet" (the daemon has not looked at the folder).
 */
export function historyLine(job: Pick<Job, 'backup_mode' | 'snapshot_count' | 'latest_snapshot_at'>, now = Date.now()): string {
  if (job.backup_mode === 'mirror') return '';
  if (job.snapshot_count === null) return 'snapshots: not read yet';
  if (job.snapshot_count === 0) return 'no snapshots yet';
  const newest = job.latest_snapshot_at ? ` · newest ${formatAge(job.latest_snapshot_at, now)}` : '';
  return `${job.snapshot_count === 1 ? '1 snapshot' : `${count(job.snapshot_count)} snapshots`}${newest}`;
}
