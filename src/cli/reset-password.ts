/**
 * `cairn user reset-password`: the owner, on the box, sets a new password; 2FA is turned off and
 * every session ends. Goes through the running daemon when there is one, else edits the store.
 */
import { sendResetPassword } from '../admin/admin-socket.ts';
import { AuthService, SessionService } from '../auth/index.ts';
import type { Config } from '../config.ts';
import { runningDaemonPid } from '../data-dir-lock.ts';
import { PASSWORD_MAX, PASSWORD_MIN } from '../domain/users.ts';
import { openStore } from '../store/index.ts';
import { openVault } from '../vault/index.ts';
import { readSecret } from './prompt.ts';

export async function resetPasswordCommand(config: Config, username: string | undefined): Promise<number> {
  const password = await readSecret('New password: ');
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    process.stderr.write(`The password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.\n`);
    return 2;
  }
  if (process.stdin.isTTY && (await readSecret('Repeat it: ')) !== password) {
    process.stderr.write('The two passwords differ; nothing was changed.\n');
    return 2;
  }

  const viaDaemon = await sendResetPassword(config.dataDir, { username, password }).catch((error: Error) => ({
    ok: false as const,
    message: `could not reach the daemon: ${error.message}`,
  }));
  const answer = viaDaemon ?? (await resetInStore(config, username, password));
  if (!answer.ok) {
    process.stderr.write(`Password not reset: ${answer.message}\n`);
    return 1;
  }
  process.stdout.write(
    `Password of ${answer.user.username} reset. Two-factor authentication is off and every session has ended; log in with the new password.\n`,
  );
  return 0;
}

async function resetInStore(config: Config, username: string | undefined, password: string) {
  const pid = await runningDaemonPid(config.dataDir);
  if (pid !== null) {
    return { ok: false as const, message: `a daemon (pid ${pid}) holds ${config.dataDir} but does not answer on its admin socket; run this as the user the daemon runs as` };
  }
  const store = await openStore(config.dataDir);
  try {
    const sessions = new SessionService(store.sessions, store.users, Buffer.alloc(32));
    const auth = new AuthService(store.users, sessions, await openVault(config.dataDir));
    return { ok: true as const, user: await auth.resetPassword(username, password) };
  } catch (error) {
    return { ok: false as const, message: (error as Error).message };
  } finally {
    await store.close();
  }
}
