/**
 * The rclone config for one run: one remote named `cairn`, written in the data dir with mode 0600
 * just before rclone starts and removed when it ends. The secrets are in it (password options
 * obscured, as rclone requires) and nowhere else outside the vault; rclone never sees them in argv.
 * A connection test has no data dir to write in: it hands rclone the same remote in its environment
 * (readable by root alone), so the secrets touch no disk at all.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { invalid } from '../../domain/errors.ts';
import { obscure, rcloneBackends } from './rclone-binary.ts';

/** An rclone remote: its backend (`sftp`, `drive`, `b2` …) and options, secret ones apart. */
export interface RcloneRemote {
  type: string;
  options: Record<string, string>;
  /** Options that are secret (passwords, tokens): kept out of every log line by the redaction wrapper. */
  secretOptions: Record<string, string>;
}

/** The name of the one remote in every config Cairn writes. */
export const REMOTE_NAME = 'cairn';

/** A remote's options with rclone's password options obscured; refuses a backend rclone does not have. */
async function optionsForFile(remote: RcloneRemote): Promise<Record<string, string>> {
  const known = (await rcloneBackends()).get(remote.type);
  if (!known) throw invalid('RCLONE_UNKNOWN_BACKEND', `rclone has no backend "${remote.type}" (see rclone config providers)`);
  const passwords = new Set(known.filter((option) => option.IsPassword).map((option) => option.Name));
  const all = { ...remote.options, ...remote.secretOptions };
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(all)) result[key] = passwords.has(key) ? await obscure(value) : value;
  return result;
}

/** The config text; a key or value that could break out of its line is refused (it would inject options). */
export async function configText(remote: RcloneRemote): Promise<string> {
  const lines = [`[${REMOTE_NAME}]`, `type = ${remote.type}`];
  for (const [key, value] of Object.entries(await optionsForFile(remote))) {
    if (!/^[a-z0-9_]+$/.test(key) || /[\r\n\0]/.test(value)) throw invalid('RCLONE_OPTION_INVALID', `The rclone option "${key}" cannot be written to a config file`);
    lines.push(`${key} = ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** How a started rclone finds the remote: its `--config` argument and environment. */
export interface RcloneSetup {
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Makes the remote known to rclone for `work`: a config file beside `near` (a file in the data dir),
 * removed afterwards; with `near` null, the environment. Either way an empty config file is named, so
 * a config of the machine's own (~/.config/rclone) is never read.
 */
export async function withRemote<T>(near: string | null, remote: RcloneRemote, work: (setup: RcloneSetup) => Promise<T>): Promise<T> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C' };
  if (near === null) {
    const options = await optionsForFile(remote);
    env.RCLONE_CONFIG_CAIRN_TYPE = remote.type;
    for (const [key, value] of Object.entries(options)) env[`RCLONE_CONFIG_CAIRN_${key.toUpperCase()}`] = value;
    return work({ args: ['--config', '/dev/null'], env });
  }
  const text = await configText(remote);
  await fs.mkdir(path.dirname(near), { recursive: true, mode: 0o700 });
  const file = path.join(path.dirname(near), `.${path.basename(near)}.rclone-${randomBytes(4).toString('hex')}.conf`);
  await fs.writeFile(file, text, { mode: 0o600, flag: 'wx' });
  try {
    return await work({ args: ['--config', file], env });
  } finally {
    await fs.rm(file, { force: true });
  }
}
