/**
 * The history screen's text: charts of the dashboard's 30-day series (runs, failures, bytes per day)
 * and the cross-job run list (GET /runs) with its page and filter. Pure, no blessed.
 */
import type { Run, RunStatus, SeriesDay } from '../wire.ts';
import { fit, formatBytes } from './format.ts';
import { plain, type Paint } from './paint.ts';
import { runLine } from './runs.ts';

/** Eighths of a cell, from empty to full: a column's top cell shows the fraction left over. */
const EIGHTHS = ' ▁▂▃▄▅▆▇█';

/**
 * A column chart of `values` (one column per value, oldest first) `height` rows tall, top row first;
 * the largest value fills its column and any value above 0 shows at least ▁, so a day with one run
 * never reads as a day with none.
 */
export function columnChart(values: readonly number[], height: number): string[] {
  const max = Math.max(0, ...values);
  const eighths = values.map((value) => (value <= 0 || max === 0 ? 0 : Math.max(1, Math.round((value / max) * height * 8))));
  return Array.from({ length: height }, (_, row) => {
    const floor = (height - 1 - row) * 8;
    return eighths.map((filled) => EIGHTHS[Math.min(8, Math.max(0, filled - floor))]).join('');
  });
}

/** One chart of a series: its title with the scale (the largest day), then the columns. */
export interface SeriesChart {
  title: string;
  lines: string[];
}

/**
 * The three charts of the 30-day series, each `height` rows: runs per day, failures per day and bytes
 * per day; the title gives the largest day, so the bars have a scale.
 */
export function seriesCharts(series: readonly SeriesDay[], height = 3): SeriesChart[] {
  const chart = (title: string, values: number[], scale: (max: number) => string): SeriesChart => ({
    title: `${title} (top ${scale(Math.max(0, ...values))})`,
    lines: columnChart(values, height),
  });
  return [
    chart('runs/day', series.map((day) => day.runs), String),
    chart('failures/day', series.map((day) => day.failures), String),
    chart('bytes/day', series.map((day) => day.bytes), formatBytes),
  ];
}

/**
 * The charts as text, side by side, each under its title and above a date axis ("11-06 … 12-05"): as
 * many as fit in `width`, in the order runs, failures, bytes (at 80 columns the bytes chart gives way;
 * the totals line still says them), at least the first; "no history yet" over an empty series.
 */
export function historyChartText(series: readonly SeriesDay[], width: number, height = 3, paint: Paint = plain): string {
  if (series.length === 0) return 'no history yet';
  const charts = seriesCharts(series, height);
  const columns = series.length;
  const axis = fit(`${series[0].date.slice(5)}${' '.repeat(Math.max(1, columns - 10))}${series[series.length - 1].date.slice(5)}`, Math.max(columns, 11));
  const blockWidth = Math.max(columns, ...charts.map((chart) => chart.title.length), axis.length) + 3;
  const blocks = charts.map((chart, index) => {
    const colour = index === 1 ? (line: string) => (line.trim() === '' ? line : paint(line, 'red')) : (line: string) => line;
    return [chart.title, ...chart.lines.map(colour), axis];
  });
  const pad = (line: string, raw: string) => line + ' '.repeat(Math.max(0, blockWidth - raw.length));
  const shown = blocks.slice(0, Math.max(1, Math.floor(width / blockWidth)));
  const raws = charts.map((chart) => [chart.title, ...chart.lines, axis]);
  return shown[0].map((_, row) => shown.map((block, index) => pad(block[row], raws[index][row])).join('').trimEnd()).join('\n');
}

/** The 30 days' totals in one line: "30 days: 43 runs, 2 failed, 82 MB". */
export function seriesTotals(series: readonly SeriesDay[]): string {
  const sum = (pick: (day: SeriesDay) => number) => series.reduce((total, day) => total + pick(day), 0);
  return `${series.length} days: ${sum((day) => day.runs)} runs, ${sum((day) => day.failures)} failed, ${formatBytes(sum((day) => day.bytes))}`;
}

/** The status filters the history screen cycles through, "all" first. */
export const STATUS_FILTERS: ReadonlyArray<RunStatus | null> = [null, 'failed', 'completed', 'cancelled', 'running'];

/** The filter after `current` in STATUS_FILTERS, back to "all" after the last. */
export function nextStatusFilter(current: RunStatus | null): RunStatus | null {
  return STATUS_FILTERS[(STATUS_FILTERS.indexOf(current) + 1) % STATUS_FILTERS.length];
}

/** A run of any job: its job's name, then the line the dashboard's Runs box shows. */
export function historyRunLine(run: Run, paint: Paint = plain, now = Date.now(), nameWidth = 14): string {
  return `${fit(run.job_name, nameWidth)} ${runLine(run, paint, now)}`;
}

/** "runs 51–100 of 230 · failed" (the page shown and the filter), or "no runs" / "no failed runs". */
export function runsPageText(page: { offset: number; shown: number; total: number }, status: RunStatus | null): string {
  const filter = status ?? 'all';
  if (page.total === 0) return status ? `no ${status} runs` : 'no runs';
  return `runs ${page.offset + 1}–${page.offset + page.shown} of ${page.total} · ${filter}`;
}
