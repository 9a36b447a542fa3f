/** Data → text for the terminal UI: pure functions, no blessed, unit-tested. */

/** 1536 → "1.5 KB", in powers of 1024 like most file tools. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** How long ago, short: "just now", "5m ago", "3h ago", "2d ago". */
export function formatAge(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 0) return formatIn(iso, now);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

/** How long until, short: "in 5m", "in 3h", "in 2d". */
export function formatIn(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((new Date(iso).getTime() - now) / 1000));
  if (seconds < 60) return 'in <1m';
  if (seconds < 3600) return `in ${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `in ${Math.round(seconds / 3600)}h`;
  return `in ${Math.round(seconds / 86_400)}d`;
}

/** A text progress bar of `width` cells for a fraction 0–1; an unknown total shows activity instead. */
export function progressBar(fraction: number | null, width: number, tick = 0): string {
  if (fraction === null) {
    const position = tick % width;
    return Array.from({ length: width }, (_, i) => (i === position ? '█' : '░')).join('');
  }
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Cuts text to `width` cells with an ellipsis. */
export function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, Math.max(0, width - 1))}…`;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, oldest first: ▁ for the smallest, █ for the largest. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const max = Math.max(...values);
  return values.map((value) => (max === 0 ? SPARKS[0] : SPARKS[Math.round((value / max) * (SPARKS.length - 1))])).join('');
}
