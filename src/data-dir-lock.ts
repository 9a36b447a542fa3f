/**
 * One daemon per data dir: a pid file held while the daemon runs. A pid file whose process is gone
 * (the daemon was killed) is taken over.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const PID_FILE = 'cairn.pid';

/** The pid of a live daemon using `dataDir`, or null. */
export async function runningDaemonPid(dataDir: string): Promise<number | null> {
  const text = await fs.readFile(path.join(dataDir, PID_FILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Takes the data dir for this process; throws when another live daemon holds it. Returns the release function. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const other = await runningDaemonPid(dataDir);
  if (other !== null) {
    throw new Error(`Another Cairn daemon (pid ${other}) is using ${dataDir}; stop it first.`);
  }
  const file = path.join(dataDir, PID_FILE);
  await fs.writeFile(file, `${process.pid}\n`, { mode: 0o644 });
  return async () => {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (text.trim() === String(process.pid)) await fs.rm(file, { force: true });
  };
}
