/** A local backup folder read like a remote store, so restores of every destination share one engine. */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Excludes } from '../remote/excludes.ts';
import { emptyProblems, walkLocalTree } from '../remote/local-tree.ts';
import type { RemoteEntry } from '../remote/remote-store.ts';
import type { ReadableStore } from '../remote/sync-engine.ts';

export function localBackupReader(root: string): ReadableStore {
  return {
    async *walk(folder, signal) {
      for await (const files of walkLocalTree(path.join(root, folder), new Excludes([]), signal, emptyProblems())) {
        yield files.map(([relative, file]): [string, RemoteEntry] => [relative, { size: file.size, mtimeMs: file.mtimeMs }]);
      }
    },
    async get(file) {
      return createReadStream(path.join(root, file));
    },
    where: (file) => path.join(root, file),
  };
}
