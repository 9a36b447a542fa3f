/**
 * Reads rsync's stdout one line at a time: itemized changes (`--out-format`, see rsync-args.ts)
 * become totals and log lines; the `--stats` block gives rsync's own totals to check them against.
 */
import type { TransferTotals } from '../../domain/runs.ts';
import type { Verbosity } from '../types.ts';

export interface ParsedItem {
  kind: 'file' | 'link' | 'dir' | 'special' | 'deleted' | 'other';
  /** Path relative to the copy's root as rsync prints it, e.g. `2024/img.jpg`, `old/` (a folder), `./`. */
  name: string;
  /** File length (regular files). */
  length: number;
  /** Content was (or, on a dry run, would be) sent. */
  sent: boolean;
  /** The entry is new or changed beyond its attributes (content, link target). */
  changed: boolean;
  /**
   * Nothing was sent and no attribute changed (the attribute flags are all blank, as for a folder
   * made or a file linked locally): rsync lists such entries only when asked to list every entry
   * (`-ii`, RsyncCopy.listUnchanged).
   */
  unchanged: boolean;
  /** A regular file hard-linked from the `--link-dest` copy with nothing changed (`hf` and blank flags). */
  linked: boolean;
}

// %i is 11 characters: update type, file type, then 9 attribute flags ("*deleting  " for deletions).
const ITEM_LINE = /^([<>ch.*][^|]{10})\|(\d+)\|(\d+)\|(.*)$/;
const BLANK_ATTRIBUTES = ' '.repeat(9);
const FILE_TYPES: Record<string, ParsedItem['kind']> = { f: 'file', L: 'link', d: 'dir', D: 'special', S: 'special' };

/** Parses one stdout line; null when it is not an itemized change (stats, "created directory …"). */
export function parseItemLine(line: string): ParsedItem | null {
  const match = ITEM_LINE.exec(line);
  if (!match) return null;
  const [, flags, length, , name] = match;
  if (flags.startsWith('*deleting')) return { kind: 'deleted', name, length: 0, sent: false, changed: true, unchanged: false, linked: false };
  const sent = flags[0] === '>' || flags[0] === '<';
  const changed = sent || flags[0] === 'c';
  const unchanged = !sent && flags.endsWith(BLANK_ATTRIBUTES);
  const linked = unchanged && flags[0] === 'h' && flags[1] === 'f';
  return { kind: FILE_TYPES[flags[1]] ?? 'other', name, length: Number(length), sent, changed, unchanged, linked };
}

/** Adds an item to running totals; returns whether the totals moved. */
export function countItem(totals: TransferTotals, item: ParsedItem): boolean {
  if (item.kind === 'file' && item.sent) {
    totals.files_transferred += 1;
    totals.bytes_transferred += item.length;
    return true;
  }
  if (item.kind === 'deleted' && !item.name.endsWith('/')) {
    totals.files_deleted += 1;
    return true;
  }
  return false;
}

/**
 * The log line for an item at a verbosity, or null when that verbosity does not show it. `prefix` is
 * the source's folder name, so names read relative to the destination root: `photos/2024/img.jpg`.
 */
export function describeItem(item: ParsedItem, prefix: string, verbosity: Verbosity): string | null {
  if (verbosity === 'quiet') return null;
  const name = item.name === './' ? `${prefix}/` : `${prefix}/${item.name}`;
  if (item.kind === 'deleted') return `deleted ${name}`;
  if ((item.kind === 'file' || item.kind === 'link' || item.kind === 'special') && item.changed) return name;
  return verbosity === 'verbose' ? name : null;
}

/** rsync's own totals from `--stats`; a field stays undefined until its line is seen. */
export interface RsyncStats {
  filesTransferred?: number;
  bytesTransferred?: number;
  /** Deleted entries that are not folders. */
  filesDeleted?: number;
  /** Entries in the whole file list (files, folders, links, specials; `Number of files`). */
  entries?: number;
}

const STATS_LINES: Array<[RegExp, (stats: RsyncStats, match: RegExpExecArray) => void]> = [
  [/^Number of files: ([\d,.' ]+)(?: \(.*\))?$/, (stats, match) => (stats.entries = numberIn(match[1]))],
  [/^Number of regular files transferred: ([\d,.' ]+)$/, (stats, match) => (stats.filesTransferred = numberIn(match[1]))],
  [/^Total transferred file size: ([\d,.' ]+) bytes?$/, (stats, match) => (stats.bytesTransferred = numberIn(match[1]))],
  [
    /^Number of deleted files: ([\d,.' ]+)(?: \((.*)\))?$/,
    (stats, match) => (stats.filesDeleted = numberIn(match[1]) - numberIn(/\bdir: ([\d,.' ]+)/.exec(match[2] ?? '')?.[1] ?? '0')),
  ],
];

/** Records a `--stats` line into `stats`; returns whether the line was one of the totals. */
export function parseStatsLine(line: string, stats: RsyncStats): boolean {
  for (const [pattern, record] of STATS_LINES) {
    const match = pattern.exec(line);
    if (match) {
      record(stats, match);
      return true;
    }
  }
  return false;
}

/**
 * One line of rsync's whole-transfer progress (`--info=progress2`), which rsync rewrites in place
 * with `\r`: bytes it sent so far in this process (the file being sent included), that as a share
 * of the whole file list's size, and, when a file ends, how many list entries are left to check of
 * how many (`to-chk=N/M`; `ir-chk` while rsync is still listing the tree, see list-share.ts).
 */
export interface WholeProgress {
  bytes: number;
  /** rsync's own percent of the list's total size (whole numbers). */
  percent: number;
  /** Entries of the file list (files, folders, links) left to check and in all; absent mid-file. */
  toCheck?: { left: number; of: number; final: boolean };
}

// "     1,100,000   2%  203.56MB/s    0:00:00 (xfr#2, to-chk=229/233)"; the rate may read "0.00kB/s" or "???".
const PROGRESS_LINE = /^\s*(\d[\d,.' ]*)\s+(\d{1,3})%\s+\S+\s+[\d:?]+(?:\s+\(xfr#\d+, (to|ir)-chk=(\d+)\/(\d+)\))?\s*$/;

/** Parses a `--info=progress2` line; null for anything else (item lines, stats, blank pieces). */
export function parseProgressLine(line: string): WholeProgress | null {
  const match = PROGRESS_LINE.exec(line);
  if (!match) return null;
  const [, bytes, percent, kind, left, of] = match;
  const progress: WholeProgress = { bytes: numberIn(bytes), percent: Math.min(100, Number(percent)) };
  if (kind) progress.toCheck = { left: Number(left), of: Number(of), final: kind === 'to' };
  return progress;
}

// rsync groups digits with its locale's separator ("5,242,880").
function numberIn(text: string): number {
  return Number(text.replace(/\D/g, ''));
}

/**
 * A line safe to show in a terminal: control characters that rsync did not already escape are
 * written the way rsync writes them (`\#033`), so a file name cannot send escapes to a viewer.
 */
export function printable(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\#${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
