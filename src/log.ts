/** A small structured logger: one line per event on stdout/stderr, which journald keeps. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
  return `${new Date().toISOString()} ${level} ${message}${extra}\n`;
}

export function createLogger(options: { quiet?: boolean } = {}): Logger {
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
    info: (message, fields) => lines.push(line('info', message, fields)),
    warn: (message, fields) => lines.push(line('warn', message, fields)),
    error: (message, fields) => lines.push(line('error', message, fields)),
  };
}
