/**
 * The daemon's configuration: environment variables over an optional JSON config file over defaults.
 * This is the only module that reads `process.env`; everything else receives a `Config`.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { readServiceSettings, SERVICE_SETTINGS_FILE } from './service-settings.ts';

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
  /**
   * Scheduled runs wait until the system clock is synchronised (schedules/clock-sync.ts): for a box
   * without a battery-backed clock (the appliance sets it); off elsewhere, where nothing may say so.
   */
  waitForClockSync: boolean;
  /**
   * Megabytes of one run's log kept on disk (logs/run-log-writer.ts): past it, per-file lines are
   * counted rather than written, so a million-file run at `verbose` cannot fill an SD card.
   */
  runLogMaxMb: number;
  /** An LED folder under /sys/class/leds that shows drive outcomes (the Pi's ACT LED), or null. */
  ledPath: string | null;
  /** A program run with the outcome in its environment when a drive is done, or null. */
  notifyCommand: string | null;
  /**
   * Reverse proxies whose X-Forwarded-For is believed, as `address/prefix` ranges (a single address
   * gets /32 or /128); empty: the header is ignored and the TCP peer is the client.
   */
  trustedProxies: string[];
  /**
   * Serve HTTPS on the port (beside plain HTTP, told apart by the first byte a client sends). The
   * certificate is the owner's (`tlsCertFile` + `tlsKeyFile`) or one the daemon makes at first start.
   */
  tls: boolean;
  /** The owner's certificate (PEM, the server's first, then any chain), or null for the daemon's own. */
  tlsCertFile: string | null;
  /** The private key of `tlsCertFile` (PEM); set exactly when `tlsCertFile` is. */
  tlsKeyFile: string | null;
  /**
   * Who is served plain HTTP: `loopback` (connections opened on this box: the TUI, the CLI, a
   * reverse proxy on the box) or `any` address. Others are answered 403 `HTTPS_REQUIRED`.
   */
  plainHttp: PlainHttp;
  /** Where the settings came from, for the start-up banner. */
  configFile: string | null;
  /**
   * The installed service's settings file when the settings were read from it (the CLI run by hand
   * on an installed box); null otherwise. Says where the daemon runs, so advice can be right.
   */
  serviceSettings: string | null;
}

/** Who may use plain HTTP (`Config.plainHttp`). */
export type PlainHttp = 'loopback' | 'any';

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
    parse: (raw) => parseBoolean(raw),
  } satisfies Setting<boolean>,
  waitForClockSync: {
    env: 'CAIRN_WAIT_FOR_CLOCK_SYNC',
    file: 'wait_for_clock_sync',
    accepts: 'true or false',
    fallback: false,
    parse: (raw) => parseBoolean(raw),
  } satisfies Setting<boolean>,
  runLogMaxMb: {
    env: 'CAIRN_RUN_LOG_MAX_MB',
    file: 'run_log_max_mb',
    accepts: 'a whole number of megabytes from 1 to 100000',
    fallback: 16,
    parse: (raw) => {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      return Number.isInteger(value) && value >= 1 && value <= 100_000 ? value : undefined;
    },
  } satisfies Setting<number>,
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
  trustedProxies: {
    env: 'CAIRN_TRUSTED_PROXIES',
    file: 'trusted_proxies',
    accepts: 'a comma-separated list of IP addresses or CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8, or empty for none',
    fallback: [],
    parse: (raw) => {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!list) return undefined;
      const entries = list.map((entry) => (typeof entry === 'string' ? entry.trim() : null)).filter((entry) => entry !== '');
      const ranges = entries.map((entry) => (entry === null ? undefined : addressRange(entry)));
      return ranges.every((range) => range !== undefined) ? (ranges as string[]) : undefined;
    },
  } satisfies Setting<string[]>,
  tls: {
    env: 'CAIRN_TLS',
    file: 'tls',
    accepts: 'true or false',
    fallback: true,
    parse: (raw) => parseBoolean(raw),
  } satisfies Setting<boolean>,
  tlsCertFile: {
    env: 'CAIRN_TLS_CERT',
    file: 'tls_cert',
    accepts: 'an absolute path to a PEM certificate file, or empty for the certificate Cairn makes',
    fallback: null,
    parse: (raw) => absolutePathOrNone(raw),
  } satisfies Setting<string | null>,
  tlsKeyFile: {
    env: 'CAIRN_TLS_KEY',
    file: 'tls_key',
    accepts: 'an absolute path to the PEM private key of CAIRN_TLS_CERT, or empty',
    fallback: null,
    parse: (raw) => absolutePathOrNone(raw),
  } satisfies Setting<string | null>,
  plainHttp: {
    env: 'CAIRN_PLAIN_HTTP',
    file: 'plain_http',
    accepts: 'loopback (only connections from this box) or any',
    fallback: 'loopback',
    parse: (raw) => (raw === 'loopback' || raw === 'any' ? raw : undefined),
  } satisfies Setting<PlainHttp>,
};

/** true/false (or 1/0) as a boolean, undefined (invalid) for anything else. */
function parseBoolean(raw: unknown): boolean | undefined {
  return raw === true || raw === 'true' || raw === '1' ? true : raw === false || raw === 'false' || raw === '0' ? false : undefined;
}

/** `address` or `address/prefix` as `address/prefix`, or undefined when it is neither. */
function addressRange(text: string): string | undefined {
  const [address, prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefix === undefined) return `${address}/${maxPrefix}`;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix ? `${address}/${Number(prefix)}` : undefined;
}

/** An absolute path, null for an empty value, undefined (invalid) for anything else. */
function absolutePathOrNone(raw: unknown): string | null | undefined {
  if (raw === null || raw === '') return null;
  return typeof raw === 'string' && path.isAbsolute(raw.trim()) && !raw.includes('\0') ? path.resolve(raw.trim()) : undefined;
}

type SettingName = keyof typeof settings;

/**
 * Builds the configuration, or throws a ConfigError naming the first bad setting.
 * Precedence: the environment, then the installed service's settings file, then the JSON file named
 * by `CAIRN_CONFIG` (same settings in snake_case), then the defaults. The service's file
 * (`CAIRN_SERVICE_SETTINGS`, default /etc/default/cairn) is read only when the environment names
 * neither `CAIRN_CONFIG` nor `CAIRN_DATA_DIR`, and only if it exists: then `cairn run` and `cairn tui`
 * on an installed box reach the service with no variables, as systemd gives the daemon that file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const serviceFile = env.CAIRN_CONFIG === undefined && env.CAIRN_DATA_DIR === undefined ? path.resolve(cwd, env.CAIRN_SERVICE_SETTINGS || SERVICE_SETTINGS_FILE) : null;
  const fromService = serviceFile ? serviceSettingsIn(serviceFile) : null;
  const ownEnv = env;
  env = { ...fromService, ...env };

  const configFile = env.CAIRN_CONFIG ? path.resolve(cwd, env.CAIRN_CONFIG) : null;
  const fromFile = configFile ? readConfigFile(configFile) : {};

  const value = <N extends SettingName>(name: N): (typeof settings)[N]['fallback'] => {
    const setting: Setting<unknown> = settings[name];
    const names = [{ env: setting.env, file: setting.file }, ...(setting.formerly ? [setting.formerly] : [])];
    // The environment (with the service's file under it) wins over the JSON file; in each, the current name over the former one.
    const fromEnv = ({ env: name }: { env: string }): [unknown, string] => [env[name], ownEnv[name] !== undefined ? name : `${name} in ${serviceFile}`];
    const candidates: Array<[unknown, string]> = [
      ...names.map(fromEnv),
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

  const tlsCertFile = value('tlsCertFile');
  const tlsKeyFile = value('tlsKeyFile');
  // One without the other cannot serve: refuse at start rather than fall back to the made certificate unnoticed.
  if ((tlsCertFile === null) !== (tlsKeyFile === null)) {
    throw new ConfigError(
      `${settings.tlsCertFile.env} and ${settings.tlsKeyFile.env} (${settings.tlsCertFile.file}, ${settings.tlsKeyFile.file}) go together: set both to serve your own certificate, or neither for the one Cairn makes.`,
    );
  }

  return {
    host: value('host'),
    port: value('port'),
    dataDir: path.resolve(cwd, value('dataDir')),
    allowedPaths: value('allowedPaths'),
    watchDrives: value('watchDrives'),
    waitForClockSync: value('waitForClockSync'),
    runLogMaxMb: value('runLogMaxMb'),
    ledPath: value('ledPath'),
    notifyCommand: value('notifyCommand'),
    trustedProxies: value('trustedProxies'),
    tls: value('tls'),
    tlsCertFile,
    tlsKeyFile,
    plainHttp: value('plainHttp'),
    configFile,
    serviceSettings: fromService ? serviceFile : null,
  };
}

/** The service's settings file as variables, null when it does not exist; unreadable is a ConfigError. */
function serviceSettingsIn(file: string): Record<string, string> | null {
  try {
    return readServiceSettings(file);
  } catch (error) {
    throw new ConfigError(
      `The installed service's settings ${file} cannot be read (${(error as Error).message}); run the command as root (sudo), or name the data dir with CAIRN_DATA_DIR.`,
    );
  }
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

/**
 * True when the daemon's output goes to the systemd journal: systemd sets `JOURNAL_STREAM` when
 * stdout/stderr are connected to it, and `INVOCATION_ID` for every service it starts. The log then
 * carries `<N>` priority prefixes and no timestamps of its own (journald adds them).
 */
export function journaldRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.JOURNAL_STREAM || env.INVOCATION_ID);
}
