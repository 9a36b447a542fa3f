/**
 * A run's log: the whole log so far, then new lines live. Follow mode keeps the end in view;
 * scrolling up leaves it. Level filter and search narrow what is shown. Redraws are batched, so
 * a thousand lines a second stay smooth, and happen only after something changed: an idle log
 * costs nothing.
 */
import blessed from 'blessed';
import type { TuiApi } from '../api.ts';
import { footerFor, keysOf } from '../keys.ts';
import { renderLine, visibleLines, type LevelFilter, type LogLine } from '../present/logs.ts';

const REDRAW_MS = 100;
/** Lines kept in the view; older ones drop off the top. */
const MAX_LINES = 50_000;
const FILTERS: LevelFilter[] = ['all', 'warning', 'error'];

export async function showLog(screen: blessed.Widgets.Screen, api: TuiApi, run: { id: number; job_name: string }, color: boolean): Promise<void> {
  const lines: LogLine[] = [];
  const seen = new Set<number>();
  let follow = true;
  let filter: LevelFilter = 'all';
  let search = '';
  let status = '';

  const header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true });
  const body = blessed.box({ parent: screen, top: 1, left: 0, width: '100%', height: '100%-2', tags: true, scrollable: true, alwaysScroll: true, keys: true, vi: true, mouse: true, scrollbar: { ch: ' ' } as never, style: color ? { scrollbar: { bg: 'blue' } } : {} });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: footerFor('log') });
  body.focus();

  /** The batched redraw waiting to run, if something changed since the last one. */
  let pending: NodeJS.Timeout | null = null;
  const redraw = () => {
    pending = null;
    const shown = visibleLines(lines, filter, search);
    header.setContent(` ${run.job_name} · run ${run.id} · ${status || 'loading'} · ${shown.length}/${lines.length} lines · level ${filter}${search ? ` · "${search}"` : ''}${follow ? ' · following' : ''}`);
    body.setContent(shown.map((line) => renderLine(line, color)).join('\n'));
    if (follow) body.setScrollPerc(100);
    screen.render();
  };
  const changed = () => {
    pending ??= setTimeout(redraw, REDRAW_MS);
  };
  changed();
  const add = (line: LogLine) => {
    if (seen.has(line.id)) return;
    seen.add(line.id);
    lines.push(line);
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    changed();
  };

  /** The log so far from the API, merged with what the socket brought (lines are kept by id, once). */
  const fetchStored = () =>
    api
      .logTail(run.id, MAX_LINES)
      .then((entries) => {
        for (const entry of entries) add(entry);
        lines.sort((a, b) => a.id - b.id);
        changed();
      })
      .catch(() => undefined);

  // The socket starts with the last lines and then sends new ones; the API fills in everything
  // before them once the socket is listening, and once more at the end in case lines came faster
  // than the backlog covers.
  const socket = api.socket(
    `/api/ws/logs/${run.id}`,
    (message) => {
      if (message.type === 'log') add(message);
      if (message.type === 'status') {
        status = message.status;
        changed();
        if (['completed', 'failed', 'cancelled'].includes(status)) void fetchStored();
      }
    },
    (connected) => {
      if (connected) void fetchStored();
    },
    false,
  );
  void fetchStored();

  // Only the owner scrolling up leaves follow mode (redraws move the view too, and must not).
  const leaveFollow = () => {
    if (!follow) return;
    follow = false;
    changed();
  };
  body.key(['up', 'k', 'pageup', 'g', 'home'], leaveFollow);
  body.on('wheelup', leaveFollow);

  await new Promise<void>((resolve) => {
    const bindings: Array<[string[], () => void]> = [
      [keysOf('follow'), () => ((follow = !follow), changed())],
      [keysOf('level'), () => ((filter = FILTERS[(FILTERS.indexOf(filter) + 1) % FILTERS.length]), changed())],
      [
        keysOf('search'),
        () => {
          const prompt = blessed.textbox({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, inputOnFocus: false });
          prompt.setValue('');
          screen.render();
          prompt.readInput((_error, value) => {
            search = value ?? '';
            prompt.destroy();
            changed();
            body.focus();
          });
        },
      ],
      [keysOf('back'), () => resolve()],
    ];
    for (const [keys, handler] of bindings) body.key(keys, handler);
  });

  if (pending !== null) clearTimeout(pending);
  socket.close();
  for (const element of [header, body, footer]) element.destroy();
}
