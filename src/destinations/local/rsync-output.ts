/**
 * Reads rsync's output, one line at a time: itemized changes (`--out-format=%i|%l|%n%L`) become
 * totals and log lines; error text on stderr is kept to name the files a partial transfer missed.
 */
import type { TransferTotals } from '../../domain/runs.ts';
import type { Verbosity } from '../types.ts';

/** The `--out-format` the parser expects: item flags, file length, name (and link target). */
export const OUT_FORMAT = '%i|%l|%n%L';

export interface ParsedItem {
  kind: 'file' | 'link' | 'dir' | 'deleted' | 'other';
  /** Path relative to the copy's root, e.g. `2024/img.jpg`. */
  name: string;
  /** Bytes of content sent (regular files), else 0. */
  bytes: number;
  /** True when content or the entry itself changed (not just attributes). */
  changed: boolean;
}

/** Parses one stdout line; null when it is not an itemized change (stats and the like). */
export function parseItemLine(line: string): ParsedItem | null {
  const match = line.match(/^([*<>ch.][^|]{10})\|(\d+)\|(.*)$/);
  if (!match) return null;
  const [, flags, length, name] = match;
  if (flags.startsWith('*deleting')) return { kind: 'deleted', name, bytes: 0, changed: true };
  const type = flags[1];
  const sent = flags[0] === '>' || flags[0] === '<';
  const created = flags[0] === 'c';
  if (type === 'f') return { kind: 'file', name, bytes: sent ? Number(length) : 0, changed: sent };
  if (type === 'L') return { kind: 'link', name, bytes: 0, changed: created || sent };
  if (type === 'd') return { kind: 'dir', name, bytes: 0, changed: created };
  return { kind: 'other', name, bytes: 0, changed: created || sent };
}

/** Adds an item to running totals; returns whether the totals moved. */
export function countItem(totals: TransferTotals, item: ParsedItem): boolean {
  if (item.kind === 'file' && item.changed) {
    totals.files_transferred += 1;
    totals.bytes_transferred += item.bytes;
    return true;
  }
  if (item.kind === 'deleted' && !item.name.endsWith('/')) {
    totals.files_deleted += 1;
    return true;
  }
  return false;
}

/** The log line for an item at a verbosity, or null when that verbosity does not show it. */
export function describeItem(item: ParsedItem, prefix: string, verbosity: Verbosity): string | null {
  const name = `${prefix}/${item.name}`;
  if (verbosity === 'quiet') return null;
  if (item.kind === 'deleted') return `deleted ${name}`;
  if ((item.kind === 'file' || item.kind === 'link') && item.changed) return name;
  return verbosity === 'verbose' ? name : null;
}

/** Paths named in rsync's error lines, e.g. `send_files failed to open "/src/x": Permission denied (13)`. */
export function filesNamedIn(stderrLines: string[]): string[] {
  const files = new Set<string>();
  for (const line of stderrLines) {
    const match = line.match(/^(?:rsync(?:: \[\w+\])?:? .*?|file has vanished: )"(.+?)"/);
    if (match) files.add(match[1]);
  }
  return [...files];
}

/** Paths rsync reported as vanished while it ran (exit code 24). */
export function vanishedFiles(stderrLines: string[]): string[] {
  return stderrLines.flatMap((line) => {
    const match = line.match(/^file has vanished: "(.+)"$/);
    return match ? [match[1]] : [];
  });
}

/** "a, b, c and 4 more" — short enough for an error message. */
export function listSome(items: string[], shown = 5): string {
  if (items.length <= shown) return items.join(', ');
  return `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}

const EXIT_MESSAGES: Record<number, string> = {
  1: 'rsync refused its arguments (syntax or usage error)',
  2: 'rsync protocol incompatibility',
  3: 'rsync could not select the input or output files or folders',
  4: 'rsync does not support a requested action',
  5: 'rsync could not start its transfer protocol',
  10: 'rsync socket I/O error',
  11: 'rsync file I/O error (is the destination full or read-only?)',
  12: 'rsync data stream error (did the drive go away?)',
  13: 'rsync program diagnostics error',
  14: 'rsync IPC error',
  20: 'rsync was stopped by a signal',
  21: 'rsync waitpid error',
  22: 'rsync could not allocate memory',
  23: 'partial transfer: some files could not be copied',
  24: 'some source files vanished before they could be copied',
  25: 'rsync stopped at its deletion limit',
  30: 'rsync timed out sending or receiving data',
  35: 'rsync timed out waiting for a connection',
};

/** A user-facing sentence for rsync's exit code. */
export function exitCodeMessage(code: number): string {
  return EXIT_MESSAGES[code] ?? `rsync failed with exit code ${code}`;
}
