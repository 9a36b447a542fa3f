/**
 * `cairn tui`: opens the terminal UI on the daemon at `--url`, or by default on the daemon of this
 * box (the host and port of its configuration). The daemon is asked first whether it answers, so a
 * stopped daemon gets advice on the shell instead of a screen that cannot log in.
 */
import type { Config } from '../config.ts';
import { startDaemonAdvice } from './daemon-advice.ts';

const PROBE_TIMEOUT_MS = 5_000;

/** The API base URL of the daemon on this box: an any-address listener is reached on loopback. */
export function localDaemonUrl(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** Runs the TUI until the owner quits, and exits the process (the terminal's input would keep it alive). */
export async function openTuiCommand(config: Config, url: string | undefined, noColor: boolean): Promise<number> {
  const target = url ?? localDaemonUrl(config);
  const problem = await unreachable(target);
  if (problem) {
    const advice = url ? '' : ` ${startDaemonAdvice(config)}`;
    process.stderr.write(`Cannot reach the Cairn daemon at ${target} (${problem}).${advice}\n`);
    return 1;
  }
  const { startTui } = await import('../../tui/main.ts');
  process.exit(await startTui({ url: target, noColor }));
}

/** Why `url` does not answer as a Cairn daemon, or null when it does. */
async function unreachable(url: string): Promise<string | null> {
  try {
    const response = await fetch(`${url.replace(/\/$/, '')}/api/system/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok ? null : `it answered ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (error as Error).message;
  }
}
