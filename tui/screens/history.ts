/**
 * The history screen: charts of the last 30 days (runs, failures, bytes per day, from GET /dashboard)
 * over every job's runs (GET /runs, a page at a time, narrowed by status); any run's log opens in
 * the log view. It asks the daemon only when it opens and on a key (filter, page, reload), never by
 * itself, so at rest it costs nothing.
 */
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { footerFor, keysOf } from '../keys.ts';
import { historyChartText, historyRunLine, nextStatusFilter, runsPageText, seriesTotals } from '../present/history.ts';
import { plain, tagged } from '../present/paint.ts';
import type { Run, RunStatus, SeriesDay } from '../wire.ts';
import { showLog } from './log-view.ts';

/** Runs per page: a screenful on a large terminal, few enough to fetch at once on a Pi. */
const PAGE = 50;

/** Shows the history until the owner goes back. */
export async function showHistory(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  const paint = color ? tagged : plain;
  let series: SeriesDay[] = [];
  let runs: Run[] = [];
  let total = 0;
  let offset = 0;
  let status: RunStatus | null = null;
  let notice = '';

  const charts = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 8, border: 'line', label: ' Last 30 days ', tags: true });
  const list = blessed.list({ parent: screen, top: 8, left: 0, width: '100%', height: '100%-9', border: 'line', label: ' Runs of every job ', keys: true, vi: true, mouse: true, tags: true, style: color ? { selected: { bg: 'blue' } } : { selected: { inverse: true } } });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true });
  const elements = [charts, list, footer];

  const draw = () => {
    const width = Number(screen.width) - 4;
    charts.setContent(series.length === 0 ? 'loading…' : `${historyChartText(series, width, 3, paint)}\n${seriesTotals(series)}`);
    const selected = (list as unknown as { selected: number }).selected ?? 0;
    list.setItems((runs.length > 0 ? runs.map((run) => historyRunLine(run, paint)) : [runsPageText({ offset, shown: 0, total }, status)]) as never);
    list.select(Math.min(selected, Math.max(0, runs.length - 1)));
    list.setLabel(` Runs of every job · ${runsPageText({ offset, shown: runs.length, total }, status)} `);
    footer.setContent(`${blessed.escape(footerFor('history'))}${notice ? `  · ${notice}` : ''}`);
    screen.render();
  };
  const say = (error: unknown) => {
    notice = paint(blessed.escape(error instanceof ApiError ? error.message : String(error)), 'red');
    draw();
  };
  const loadRuns = async () => {
    try {
      const page = await api.allRuns({ limit: PAGE, offset, ...(status ? { status } : {}) });
      runs = page.runs;
      total = page.total;
      notice = '';
    } catch (error) {
      return say(error);
    }
    draw();
  };
  const loadSeries = async () => {
    try {
      series = (await api.dashboard()).series;
    } catch (error) {
      return say(error);
    }
    draw();
  };

  list.focus();
  draw();
  await Promise.all([loadSeries(), loadRuns()]);

  await new Promise<void>((resolve) => {
    const bindings: Array<[string, () => void]> = [
      [
        'open-run-log',
        () => {
          const run = runs[(list as unknown as { selected: number }).selected ?? 0];
          if (!run) return;
          // After this key press, so the Enter does not land in the log view.
          void new Promise((next) => setImmediate(next)).then(async () => {
            for (const element of elements) element.hide();
            await showLog(screen, api, { id: run.id, job_name: run.job_name }, color);
            for (const element of elements) element.show();
            list.focus();
            draw();
          });
        },
      ],
      [
        'filter-status',
        () => {
          status = nextStatusFilter(status);
          offset = 0;
          void loadRuns();
        },
      ],
      [
        'next-page',
        () => {
          if (offset + PAGE >= total) return;
          offset += PAGE;
          void loadRuns();
        },
      ],
      [
        'previous-page',
        () => {
          if (offset === 0) return;
          offset = Math.max(0, offset - PAGE);
          void loadRuns();
        },
      ],
      ['reload-screen', () => void Promise.all([loadSeries(), loadRuns()])],
      ['close-screen', () => resolve()],
    ];
    for (const [action, handler] of bindings) list.key(keysOf(action), handler);
  });
  for (const element of elements) element.destroy();
}
