/**
 * The judge: Debian's `restic` run with execFile against a repository folder, its password in the
 * environment (never on the command line).
 */
import { execFile } from 'node:child_process';

export interface ResticResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `restic -r <repo> <args>`; resolves with the exit code and output (never rejects on a non-zero exit). */
export function restic(repo: string, password: string, args: string[], cwd?: string): Promise<ResticResult> {
  return new Promise((resolve) => {
    execFile(
      'restic',
      ['-r', repo, '--no-cache', ...args],
      { cwd, env: { ...process.env, RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: '/nonexistent' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Like `restic`, but throws with restic's output when it fails. */
export async function resticOk(repo: string, password: string, args: string[], cwd?: string): Promise<string> {
  const result = await restic(repo, password, args, cwd);
  if (result.code !== 0) throw new Error(`restic ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}
