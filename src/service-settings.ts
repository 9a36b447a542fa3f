/**
 * The installed service's settings file: `NAME=value` lines that systemd gives the daemon as its
 * environment (`EnvironmentFile=` in systemd/cairn.service) and that scripts/install.sh writes.
 * config.ts reads it too, so the CLI run by hand on the box finds the service's data dir and port.
 */
import { readFileSync } from 'node:fs';

/** Where scripts/install.sh writes the settings and the unit reads them. */
export const SERVICE_SETTINGS_FILE = '/etc/default/cairn';

/**
 * The variables in `file`, or null when there is no such file (not an installed box).
 * Throws the file system's error when the file exists but cannot be read (e.g. EACCES).
 */
export function readServiceSettings(file: string): Record<string, string> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return parseEnvironmentFile(text);
}

/**
 * The subset of systemd's environment file syntax that install.sh and owners write: `NAME=value`
 * per line, `#` or `;` comment lines, a value optionally in single or double quotes. Lines systemd
 * would ignore (no `=`, a bad name) are ignored here too, so the CLI sees what the daemon sees.
 */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!match) continue;
    const quoted = /^(["'])(.*)\1$/.exec(match[2]);
    variables[match[1]] = quoted ? quoted[2] : match[2];
  }
  return variables;
}
