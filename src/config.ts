/**
 * The daemon's configuration: environment variables over an optional JSON config file over defaults.
 * This is the only module that reads `process.env`; everything else receives a `Config`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Config {
  /** Address the API listens on. */
  host: string;
  /** TCP port of the API; 0 picks a free one (tests). */
  port: number;
  /** Absolute folder holding the store, keys and run logs. */
  dataDir: string;
  /**
   * Absolute folders the API may make the daemon read or write (job sources, local destinations,
   * restore targets, browse, mkdir, mount points); see files/allowed-paths.ts.
   */
  allowedPaths: string[];
  /** Watch udev for drives being plugged in (off only for tests and boxes without udev). */
  watchDrives: boolean;
  /** An LED folder under /sys/class/leds that shows drive outcomes (the Pi's ACT LED), or null. */
  ledPath: string | null;
  /** A program run with the outcome in its environment when a drive is done, or null. */
  notifyCommand: string | null;
  /** Where the settings came from, for the start-up banner. */
  configFile: string | null;
}

/** A setting that cannot be used; the message names it and what it accepts. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Setting<T> {
  env: string;
  file: string;
  /** An earlier name of the setting, still read when the current one is not given. */
  formerly?: { env: string; file: string };
  accepts: string;
  fallback: T;
  parse(raw: unknown): T | undefined;
}

const settings = {
  host: {
    env: 'CAIRN_HOST',
    file: 'host',
    accepts: 'a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0',
    fallback: '127.0.0.1',
    parse: (raw) => (typeof raw === 'string' && /^[A-Za-z0-9.:_-]+$/.test(raw.trim()) ? raw.trim() : undefined),
  } satisfies Setting<string>,
  port: {
    env: 'CAIRN_PORT',
    file: 'port',
    accepts: 'a whole number from 0 to 65535',
    fallback: 8080,
    parse: (raw) => {
      const text = String(raw).trim();
      if (!/^\d{1,5}$/.test(text)) return undefined;
      const port = Number(text);
      return port <= 65535 ? port : undefined;
    },
  } satisfies Setting<number>,
  dataDir: {
    env: 'CAIRN_DATA_DIR',
    file: 'data_dir',
    accepts: 'a folder path (created if missing)',
    fallback: './data',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' && !raw.includes('\0') ? raw.trim() : undefined),
  } satisfies Setting<string>,
  allowedPaths: {
    env: 'CAIRN_ALLOWED_PATHS',
    file: 'allowed_paths',
    // Its name while it bounded browsing only (before issue 11); installs that set it keep working.
    formerly: { env: 'CAIRN_ALLOWED_BROWSE_PATHS', file: 'allowed_browse_paths' },
    accepts: 'a comma-separated list of absolute paths, e.g. /home,/srv,/mnt,/media',
    // Where a Pi keeps what is worth backing up (/home, /srv) and where drives are mounted (/mnt, /media).
    fallback: ['/home', '/srv', '/mnt', '/media'],
    parse: (raw) => {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!list) return undefined;
      const paths = list.map((p) => (typeof p === 'string' ? p.trim() : '')).filter((p) => p !== '');
      const allAbsolute = paths.every((p) => path.isAbsolute(p) && !p.includes('\0'));
      return paths.length > 0 && allAbsolute ? paths.map((p) => path.resolve(p)) : undefined;
    },
  } satisfies Setting<string[]>,
  watchDrives: {
    env: 'CAIRN_WATCH_DRIVES',
    file: 'watch_drives',
    accepts: 'true or false',
    fallback: true,
    parse: (raw) => (raw === true || raw === 'true' || raw === '1' ? true : raw === false || raw === 'false' || raw === '0' ? false : undefined),
  } satisfies Setting<boolean>,
  ledPath: {
    env: 'CAIRN_LED_PATH',
    file: 'led_path',
    accepts: 'an absolute path to an LED folder such as /sys/class/leds/ACT, or empty for none',
    fallback: null,
    parse: (raw) => absolutePathOrNone(raw),
  } satisfies Setting<string | null>,
  notifyCommand: {
    env: 'CAIRN_NOTIFY_COMMAND',
    file: 'notify_command',
    accepts: 'an absolute path to an executable (run without a shell), or empty for none',
    fallback: null,
    parse: (raw) => absolutePathOrNone(raw),
  } satisfies Setting<string | null>,
};

/** An absolute path, null for an empty value, undefined (invalid) for anything else. */
function absolutePathOrNone(raw: unknown): string | null | undefined {
  if (raw === null || raw === '') return null;
  return typeof raw === 'string' && path.isAbsolute(raw.trim()) && !raw.includes('\0') ? path.resolve(raw.trim()) : undefined;
}

type SettingName = keyof typeof settings;

/**
 * Builds the configuration, or throws a ConfigError naming the first bad setting.
 * `CAIRN_CONFIG` may name a JSON file with the same settings in snake_case; the environment wins over it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const configFile = env.CAIRN_CONFIG ? path.resolve(cwd, env.CAIRN_CONFIG) : null;
  const fromFile = configFile ? readConfigFile(configFile) : {};

  const value = <N extends SettingName>(name: N): (typeof settings)[N]['fallback'] => {
    const setting: Setting<unknown> = settings[name];
    const names = [{ env: setting.env, file: setting.file }, ...(setting.formerly ? [setting.formerly] : [])];
    // The environment wins over the file; in each, the current name over the former one.
    const candidates: Array<[unknown, string]> = [
      ...names.map(({ env: name }): [unknown, string] => [env[name], name]),
      ...names.map(({ file: key }): [unknown, string] => [fromFile[key], `${key} in ${configFile}`]),
    ];
    const [raw, source] = candidates.find(([found]) => found !== undefined) ?? [undefined, ''];
    if (raw === undefined) return setting.fallback as (typeof settings)[N]['fallback'];
    const parsed = setting.parse(raw);
    if (parsed === undefined) {
      throw new ConfigError(`${source}=${JSON.stringify(raw)} is not valid: expected ${setting.accepts}.`);
    }
    return parsed as (typeof settings)[N]['fallback'];
  };

  return {
    host: value('host'),
    port: value('port'),
    dataDir: path.resolve(cwd, value('dataDir')),
    allowedPaths: value('allowedPaths'),
    watchDrives: value('watchDrives'),
    ledPath: value('ledPath'),
    notifyCommand: value('notifyCommand'),
    configFile,
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`CAIRN_CONFIG names ${file}, which cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`The config file ${file} must hold a JSON object.`);
  }
  const known = new Set(Object.values(settings as Record<string, Setting<unknown>>).flatMap((s) => [s.file, ...(s.formerly ? [s.formerly.file] : [])]));
  const unknown = Object.keys(parsed).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      `The config file ${file} has unknown setting(s) ${unknown.join(', ')}; accepted: ${[...known].join(', ')}.`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** How the owner sets the allowed paths, for messages that tell them how to allow a folder. */
export const ALLOWED_PATHS_SETTING = `${settings.allowedPaths.file} (${settings.allowedPaths.env})`;

/** The NO_COLOR convention (https://no-color.org): any non-empty value turns colours off. */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.NO_COLOR);
}
