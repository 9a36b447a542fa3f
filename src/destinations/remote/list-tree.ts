/**
 * A whole remote folder tree from one-folder listings (SFTP readdir, WebDAV PROPFIND Depth 1), with
 * several folders asked at once: on a network, a tree of many folders listed one by one spends its
 * time waiting on round trips.
 */
import type { RemoteEntry } from './remote-store.ts';

export interface ListedChild {
  name: string;
  /** Set for a file; a folder has none and is listed in turn. */
  file?: RemoteEntry;
}

/** Folders listed at once. */
const FOLDERS_AT_ONCE = 8;

/**
 * Every file below the tree's root, keyed by path relative to it. `listFolder` answers for one folder
 * (relative path, '' for the root) with its children, or null when the folder does not exist.
 */
export function listTree(listFolder: (relative: string) => Promise<ListedChild[] | null>, signal: AbortSignal): Promise<Map<string, RemoteEntry>> {
  const found = new Map<string, RemoteEntry>();
  const pending = [''];
  let active = 0;
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      failed = true;
      reject(error);
    };
    const pump = () => {
      if (failed) return;
      if (signal.aborted) return fail(signal.reason);
      if (pending.length === 0 && active === 0) return resolve(found);
      while (active < FOLDERS_AT_ONCE && pending.length > 0) {
        const relative = pending.pop()!;
        active++;
        listFolder(relative).then((children) => {
          for (const child of children ?? []) {
            const path = relative ? `${relative}/${child.name}` : child.name;
            if (child.file) found.set(path, child.file);
            else pending.push(path);
          }
          active--;
          pump();
        }, fail);
      }
    };
    pump();
  });
}
