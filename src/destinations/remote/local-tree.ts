/** The files of one source folder, as the sync engine compares them with the destination. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Excludes } from './excludes.ts';

export interface LocalFile {
  absolute: string;
  size: number;
  mtimeMs: number;
}

export interface LocalTree {
  /** Regular files keyed by path relative to the source, '/'-separated. */
  files: Map<string, LocalFile>;
  /** Symlinks and special files: remote destinations store regular files only. */
  skipped: string[];
  /** Folders or files that could not be read, with why. */
  unreadable: string[];
}

/**
 * Node reads names as UTF-8; a name in another encoding comes back with U+FFFD in it and can then
 * not be opened by that name. Such files are reported, never silently left out.
 */
function hasUndecodableName(relative: string): boolean {
  return relative.includes('\uFFFD');
}

function describe(relative: string, code: string | undefined): string {
  return hasUndecodableName(relative) ? 'the name is not valid UTF-8; rename it' : (code ?? 'unreadable');
}

export async function readLocalTree(root: string, excludes: Excludes, signal: AbortSignal): Promise<LocalTree> {
  const tree: LocalTree = { files: new Map(), skipped: [], unreadable: [] };
  const folders: string[] = [''];
  while (folders.length > 0) {
    signal.throwIfAborted();
    const folder = folders.pop()!;
    let entries;
    try {
      entries = await fs.readdir(path.join(root, folder), { withFileTypes: true });
    } catch (error) {
      // A folder removed while the backup runs is not a failure of the backup; one it may not read is.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || hasUndecodableName(folder)) tree.unreadable.push(`${folder || '.'} (${describe(folder, code)})`);
      continue;
    }
    await Promise.all(
      entries.map(async (entry) => {
        const relative = folder === '' ? entry.name : `${folder}/${entry.name}`;
        if (entry.isDirectory()) {
          if (!excludes.matches(relative, true)) folders.push(relative);
          return;
        }
        if (excludes.matches(relative, false)) return;
        if (!entry.isFile()) return void tree.skipped.push(relative);
        const absolute = path.join(root, relative);
        try {
          const stat = await fs.lstat(absolute);
          if (stat.isFile()) tree.files.set(relative, { absolute, size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) });
        } catch (error) {
          // Gone since the folder was read: not in this backup, and not an error. Anything else is.
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' || hasUndecodableName(relative)) tree.unreadable.push(`${relative} (${describe(relative, code)})`);
        }
      }),
    );
  }
  return tree;
}
