/**
 * The backup at an rclone remote as a readable store (listing and streamed downloads), so a restore
 * goes through the one restore engine every destination shares (whole files, renamed into place).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { RemoteEntry } from '../remote/remote-store.ts';
import type { ReadableStore } from '../remote/sync-engine.ts';
import type { RcloneSetup } from './rclone-config.ts';
import { rcloneFailure } from './rclone-errors.ts';
import { runRclone, startRclone } from './rclone-process.ts';
import { COMMON_FLAGS, remotePath } from './rclone-sync.ts';

export function rcloneStore(setup: RcloneSetup, root: string, where: string): ReadableStore {
  return {
    // lsjson prints one JSON array, so the listing is whole in memory here (restores only; a sync goes through rclone itself).
    async *walk(folder: string, signal: AbortSignal): AsyncIterable<Array<[string, RemoteEntry]>> {
      const outcome = await runRclone(setup, ['lsjson', '-R', '--files-only', remotePath(root, folder), ...COMMON_FLAGS], signal);
      if (outcome.code === 3 || outcome.errors.some((line) => /directory not found|not found/i.test(line.msg))) return;
      if (outcome.code !== 0) throw rcloneFailure(outcome, `${where}/${folder}`);
      const entries = JSON.parse(outcome.stdout || '[]') as Array<{ Path: string; Size: number; ModTime: string }>;
      yield entries.map((entry): [string, RemoteEntry] => [entry.Path, { size: entry.Size, mtimeMs: Date.parse(entry.ModTime) }]);
    },
    async get(path: string, signal: AbortSignal): Promise<Readable> {
      const child = startRclone(setup, ['cat', remotePath(root, path), ...COMMON_FLAGS], signal);
      child.stderr.resume();
      // The stream ends only once rclone has exited well: a download it could not finish must fail, not look whole.
      const body = new PassThrough();
      child.stdout.pipe(body, { end: false });
      child.stdout.on('end', () =>
        void child.done.then(
          (code) => (code === 0 ? body.end() : body.destroy(new Error(`${where}/${path} could not be read (rclone exit code ${code})`))),
          (error) => body.destroy(error),
        ),
      );
      return body;
    },
    where: (path: string) => `${where}${path ? `/${path}` : ''}`,
  };
}
