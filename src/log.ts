/**
 * A small structured logger: one line per event on stdout/stderr. On a terminal or in a file each
 * line starts with its time and level; under systemd (`journald: true`) each line starts with a
 * syslog priority prefix (`<6>` info, `<4>` warning, `<3>` error, sd-daemon(3)) and carries no time,
 * since journald stamps every line itself and would otherwise show two.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = 'info' | 'warn' | 'error';

/** sd-daemon(3) priorities: LOG_INFO, LOG_WARNING, LOG_ERR. */
const PRIORITY: Record<Level, number> = { info: 6, warn: 4, error: 3 };

export interface LogFormat {
  /** Priority prefixes instead of timestamps, for the systemd journal. */
  journald?: boolean;
}

/** One event as the text written for it (ending in a newline). */
export function formatLogLine(level: Level, message: string, fields: Record<string, unknown> | undefined, format: LogFormat = {}, at = new Date()): string {
  const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
  const text = `${message}${extra}`;
  if (!format.journald) return `${at.toISOString()} ${level} ${text}\n`;
  // journald reads each line on its own: a message of several lines keeps its priority on every one.
  return text
    .split('\n')
    .map((part) => `<${PRIORITY[level]}>${part}\n`)
    .join('');
}

export function createLogger(options: { quiet?: boolean } & LogFormat = {}): Logger {
  const line = (level: Level, message: string, fields?: Record<string, unknown>) => formatLogLine(level, message, fields, options);
  return {
    info: (message, fields) => {
      if (!options.quiet) process.stdout.write(line('info', message, fields));
    },
    warn: (message, fields) => process.stderr.write(line('warn', message, fields)),
    error: (message, fields) => process.stderr.write(line('error', message, fields)),
  };
}

/** A logger that keeps what it is told, for tests that check what was (not) logged. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message, fields) => lines.push(formatLogLine('info', message, fields)),
    warn: (message, fields) => lines.push(formatLogLine('warn', message, fields)),
    error: (message, fields) => lines.push(formatLogLine('error', message, fields)),
  };
}
