/** Run log entries → lines of the log view, with the view's level filter and search. */

export interface LogLine {
  id: number;
  timestamp: string;
  level: 'info' | 'warning' | 'error';
  message: string;
}

export type LevelFilter = 'all' | 'warning' | 'error';

const LEVEL_RANK = { info: 0, warning: 1, error: 2 } as const;

/** Entries at or above the filter's level that contain the search text (case-insensitive). */
export function visibleLines(lines: LogLine[], filter: LevelFilter, search: string): LogLine[] {
  const minimum = filter === 'all' ? 0 : LEVEL_RANK[filter];
  const needle = search.toLowerCase();
  return lines.filter((line) => LEVEL_RANK[line.level] >= minimum && (needle === '' || line.message.toLowerCase().includes(needle)));
}

/** One entry as text: time, level tag, message. `color` adds blessed tags for the level. */
export function renderLine(line: LogLine, color: boolean): string {
  const time = line.timestamp.slice(11, 19);
  const tag = line.level === 'info' ? 'INF' : line.level === 'warning' ? 'WRN' : 'ERR';
  const text = `${time} ${tag} ${escapeTags(line.message)}`;
  if (!color || line.level === 'info') return text;
  return line.level === 'warning' ? `{yellow-fg}${text}{/yellow-fg}` : `{red-fg}${text}{/red-fg}`;
}

/** Blessed reads `{…}` as markup; a file name with braces must be shown as it is. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (brace) => (brace === '{' ? '{open}' : '{close}'));
}
