/**
 * `cairn setup-code`: on the box, shows the one-time code that creating the owner account from
 * another computer needs. The running daemon makes it while the box has no owner and keeps it in
 * `<data dir>/setup-code` (0600), so this needs the daemon's user (root for the service).
 */
import { promises as fs } from 'node:fs';
import { readSetupCode } from '../auth/index.ts';
import type { Config } from '../config.ts';
import { runningDaemonPid } from '../data-dir-lock.ts';

const SERVICE_DATA_DIR = '/var/lib/cairn';

/**
 * Prints the code and returns 0; otherwise says why there is none (the box has an owner: 0; no
 * daemon runs on the data dir, or the data dir cannot be read: 1).
 */
export async function setupCodeCommand(config: Config): Promise<number> {
  const problem = await unreadable(config.dataDir);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    return 1;
  }
  if ((await runningDaemonPid(config.dataDir)) === null) {
    process.stderr.write(
      `No Cairn daemon is running on ${config.dataDir}, so no setup code is in effect. Start it ` +
        '(`sudo systemctl start cairn`): while the box has no owner, it makes a new code at every start.\n',
    );
    return 1;
  }
  const code = await readSetupCode(config.dataDir);
  if (code === null) {
    process.stdout.write('This box already has an owner: log in instead (a forgotten password: `cairn user reset-password`).\n');
    return 0;
  }
  process.stdout.write(
    `Setup code: ${code}\n` +
      'Give it when you create the owner account from another computer (in the API: "setup_code" in POST /api/auth/setup).\n' +
      'On this box, `cairn tui` needs none. The code stops working once the owner exists.\n',
  );
  return 0;
}

/** Why the data dir cannot be read by this user, or null when it can. */
async function unreadable(dataDir: string): Promise<string | null> {
  try {
    await fs.access(dataDir, fs.constants.R_OK | fs.constants.X_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return `Cannot read ${dataDir}: run this as the daemon's user (\`sudo cairn setup-code\`).`;
    const hint = dataDir === SERVICE_DATA_DIR ? '' : ` The service keeps its data in ${SERVICE_DATA_DIR}: \`sudo CAIRN_DATA_DIR=${SERVICE_DATA_DIR} cairn setup-code\`.`;
    return `No Cairn data in ${dataDir}.${hint}`;
  }
}
