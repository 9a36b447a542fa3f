/**
 * How rsync reports trouble: its exit codes as sentences a user can act on, and its stderr lines
 * sorted into failed files, vanished files and plain errors, with the files named the way the run
 * log names them (relative to the destination root, e.g. `photos/2024/img.jpg`).
 */
import path from 'node:path';
import type { ErrorKind } from '../../domain/errors.ts';
import type { LogLevel } from '../../domain/runs.ts';

interface ExitMeaning {
  message: string;
  kind: ErrorKind;
  /** Whether running again later may succeed without anyone changing anything. */
  retryable: boolean;
}

const EXIT_CODES: Record<number, ExitMeaning> = {
  1: { message: 'rsync refused its arguments (syntax or usage error)', kind: 'internal', retryable: false },
  2: { message: 'rsync protocol incompatibility', kind: 'internal', retryable: false },
  3: { message: 'rsync could not select the files or folders to read or write (is a folder missing or unreadable?)', kind: 'unavailable', retryable: true },
  4: { message: 'this rsync does not support a requested action', kind: 'internal', retryable: false },
  5: { message: 'rsync could not start its transfer protocol', kind: 'internal', retryable: false },
  6: { message: 'rsync could not write to its log file', kind: 'internal', retryable: false },
  10: { message: 'rsync socket I/O error', kind: 'unavailable', retryable: true },
  // A full, read-only or failing drive stays so: retrying would only rewrite the same bytes into the same wall.
  11: { message: 'file I/O error (is the destination full, read-only or failing?)', kind: 'unavailable', retryable: false },
  // Cairn's copies are local: the stream is a pipe between two rsync processes, and breaks only when
  // one dies. Killed (the out-of-memory killer, a stray kill), a later run may pass; one that died of a
  // file I/O error is the 11 below (see exitCodeMeaning).
  12: { message: 'rsync data stream error: the other rsync process stopped mid-transfer (killed, or out of memory?)', kind: 'unavailable', retryable: true },
  13: { message: 'rsync program diagnostics error', kind: 'internal', retryable: false },
  14: { message: 'rsync IPC error', kind: 'internal', retryable: true },
  20: { message: 'rsync was stopped by a signal', kind: 'unavailable', retryable: true },
  21: { message: 'rsync waitpid error', kind: 'internal', retryable: true },
  22: { message: 'rsync could not allocate memory', kind: 'unavailable', retryable: true },
  23: { message: 'partial transfer: some files could not be copied', kind: 'unavailable', retryable: false },
  24: { message: 'some source files vanished before they could be copied', kind: 'unavailable', retryable: true },
  25: { message: 'rsync stopped at its deletion limit (--max-delete)', kind: 'unavailable', retryable: false },
  30: { message: 'rsync timed out sending or receiving data', kind: 'unavailable', retryable: true },
  35: { message: 'rsync timed out waiting for a connection', kind: 'unavailable', retryable: true },
};

/** A destination's file I/O failure in an rsync error line: no space (28), read-only (30), I/O error (5), quota (122). */
const FILE_IO_FAILURE = /\((28|30|5|122)\)$/;

/**
 * What an rsync exit code means, as a sentence plus the error kind and whether a retry may help.
 * `cause` is the error line that explains it (RsyncProblems.lastError): a broken stream (12) whose
 * cause is a file I/O failure means what 11 means, as some rsync versions report a full drive so.
 */
export function exitCodeMeaning(code: number, cause: string | null = null): ExitMeaning {
  if (code === 12 && cause !== null && FILE_IO_FAILURE.test(cause.trim())) return EXIT_CODES[11];
  return EXIT_CODES[code] ?? { message: `rsync failed with exit code ${code}`, kind: 'internal', retryable: false };
}

/** A user-facing sentence for rsync's exit code. */
export function exitCodeMessage(code: number): string {
  return exitCodeMeaning(code).message;
}

/** Where one copy reads and writes, to turn the paths rsync prints into names relative to the destination root. */
export interface CopyPlaces {
  /** The source's folder name under the destination root. */
  name: string;
  source: string;
  target: string;
}

/** The first few of a list and how many there were in all. */
export class SomeNames {
  private readonly names = new Set<string>();
  count = 0;

  constructor(private readonly keep = 1000) {}

  add(name: string): void {
    if (this.names.has(name)) return;
    this.count += 1;
    if (this.names.size < this.keep) this.names.add(name);
  }

  /** "a, b, c and 4 more": short enough for an error message. */
  describe(shown = 5): string {
    const first = [...this.names].slice(0, shown);
    const more = this.count - first.length;
    return more > 0 ? `${first.join(', ')} and ${more} more` : first.join(', ');
  }

  list(): string[] {
    return [...this.names];
  }
}

/** rsync's stderr, sorted as it arrives: what failed, what vanished, and the last real error. */
export class RsyncProblems {
  readonly failed = new SomeNames();
  readonly vanished = new SomeNames();
  private lastCause: string | null = null;
  private lastLine: string | null = null;

  constructor(private readonly places: CopyPlaces) {}

  /**
   * The last error line that explains the failure: not rsync's closing "rsync error: … (code N)"
   * summary, and not a broken pipe that merely follows the other half of rsync dying.
   */
  get lastError(): string | null {
    return this.lastCause ?? this.lastLine;
  }

  /** Records one stderr line; returns the level it belongs in the run log at. */
  add(line: string): LogLevel {
    if (line.trim() !== '') this.lastLine = line;
    const vanished = /^file has vanished: "(.*)"$/.exec(line);
    if (vanished) {
      this.vanished.add(nameForLog(vanished[1], this.places));
      return 'warning';
    }
    if (/^rsync (warning|error): /.test(line)) return line.startsWith('rsync warning') ? 'warning' : 'error';
    if (/^(cannot delete non-empty directory|IO error encountered -- skipping file deletion|skipping non-regular file)/.test(line)) {
      return 'warning';
    }
    if (line.trim() !== '' && !CONSEQUENCE.test(line)) this.lastCause = line;
    const file = fileNamedIn(line);
    if (file !== null) this.failed.add(nameForLog(file, this.places));
    return 'error';
  }
}

const CONSEQUENCE = /Broken pipe|connection unexpectedly closed|error in rsync protocol data stream/;

/** The file an rsync error line is about, as rsync wrote it; null when it names none. */
export function fileNamedIn(line: string): string | null {
  const makeWay = /^could not make way for (?:new )?[\w ]+?: (.+)$/.exec(line);
  if (makeWay) return makeWay[1];
  const verification = /^ERROR: (.+) failed verification -- update (?:discarded|retained)\.?$/.exec(line);
  if (verification) return verification[1];
  if (!line.startsWith('rsync: ')) return null;
  // Names may hold quotes themselves, so take everything between the first and the last quote.
  const first = line.indexOf('"');
  const last = line.lastIndexOf('"');
  if (first === -1 || last <= first) return null;
  const quoted = line.slice(first + 1, last);
  // `rename "temp" -> "final"`: the final name is the one the user knows.
  const renamed = quoted.lastIndexOf('" -> "');
  return renamed === -1 ? quoted : quoted.slice(renamed + '" -> "'.length);
}

/**
 * A path from rsync's output as the run log names files: relative to the destination root.
 * rsync prints source paths as given, target paths relative to the target, and temp files as
 * `.name.XXXXXX` beside the file they are for (named here by that file).
 */
export function nameForLog(raw: string, places: CopyPlaces): string {
  const given = path.isAbsolute(raw) ? path.normalize(raw) : path.join(places.target, raw);
  const temp = path.basename(given).match(/^\.(.+)\.[A-Za-z0-9]{6}$/);
  const absolute = temp ? path.join(path.dirname(given), temp[1]) : given;
  for (const base of [places.target, places.source]) {
    const relative = path.relative(base, absolute);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative === '' ? `${places.name}/` : `${places.name}/${relative}`;
  }
  return raw;
}
