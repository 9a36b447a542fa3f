/**
 * Browsing inside one snapshot folder: a client's relative path checked, resolved with realpath and
 * kept inside the snapshot, and one page of a folder's entries, sorted by name. Only the page's
 * entries are stat'ed, so a folder of a million files costs its names, not a million stats.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { invalid, isCairnError } from '../domain/errors.ts';
import { isInside } from '../files/allowed-paths.ts';
import { pathProblem } from '../files/fs-errors.ts';
import { byCodeUnits } from '../domain/code-units.ts';

/** What an entry is; a symbolic link is shown as one and never followed. */
export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a snapshot folder. */
export interface TreeEntry {
  name: string;
  type: TreeEntryType;
  /** Bytes for a file (a symlink: the length of its target); null for a folder or anything else. */
  size: number | null;
  /** Modification time, ISO-8601 UTC (a symlink's own). */
  mtime: string;
}

/** One page of a folder inside a snapshot. */
export interface TreePage {
  /** The folder, relative to the snapshot's top ('' for the top), as normalized. */
  path: string;
  entries: TreeEntry[];
  /** Entries in the whole folder. */
  total: number;
  limit: number;
  offset: number;
}

/** Which part of a folder to list. */
export interface TreeQuery {
  path: string;
  limit: number;
  offset: number;
}

/** Files Cairn keeps at a snapshot's top beside the sources (summary, manifest): not the owner's files. */
const OWN_FILE_PREFIX = '.cairn-';

/**
 * The parts of a client's path inside a snapshot (`photos/2024`; '' or '.' is the top).
 * @throws CairnError 400 `INVALID_PATH` for an absolute path, a `..` part or a NUL byte.
 */
export function snapshotPathParts(clientPath: string): string[] {
  if (clientPath.includes('\0')) throw invalid('INVALID_PATH', '"path" must not contain a NUL byte');
  if (clientPath.startsWith('/')) throw invalid('INVALID_PATH', '"path" must be relative to the snapshot\'s top, such as "photos/2024" (no leading "/")');
  const parts = clientPath.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw invalid('INVALID_PATH', '"path" must not contain ".." (write the folder\'s path from the snapshot\'s top)');
  return parts;
}

/**
 * One page of the folder `query.path` inside the snapshot folder `top` (a real path), sorted by name
 * (code unit order). The snapshot's own `.cairn-*` files are left out at its top.
 * @throws CairnError 400 `INVALID_PATH` (bad path, or one that leads outside the snapshot through a
 *   symbolic link), 400 `NOT_A_FOLDER`, 404 `PATH_NOT_FOUND`, or another 4xx naming the path.
 */
export async function listSnapshotFolder(top: string, query: TreeQuery): Promise<TreePage> {
  const parts = snapshotPathParts(query.path);
  const relative = parts.join('/');
  const shown = `"${relative || '.'}" in the snapshot`;
  const problem = (error: unknown): never => {
    throw isCairnError(error) ? error : pathProblem(shown, error);
  };
  const real = await resolveInSnapshot(top, parts, shown).catch(problem);
  const stat = await fs.stat(real).catch(problem);
  if (!stat.isDirectory()) throw invalid('NOT_A_FOLDER', `${shown} is not a folder`);

  let names = await fs.readdir(real).catch(problem);
  if (real === top) names = names.filter((name) => !name.startsWith(OWN_FILE_PREFIX));
  names.sort(byCodeUnits);
  const entries: TreeEntry[] = [];
  for (const name of names.slice(query.offset, query.offset + query.limit)) {
    const entry = await fs.lstat(path.join(real, name)).catch(() => null);
    if (entry) entries.push(entryOf(name, entry));
  }
  return { path: relative, entries, total: names.length, limit: query.limit, offset: query.offset };
}

/**
 * Follows `parts` below `top` one name at a time, each link resolved and refused as soon as it leads
 * outside: nothing outside the snapshot is looked at, so its answers cannot tell what exists there.
 */
async function resolveInSnapshot(top: string, parts: string[], shown: string): Promise<string> {
  let current = top;
  for (const part of parts) {
    const next = path.join(current, part);
    const stat = await fs.lstat(next);
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    const target = await fs.realpath(next).catch(() => null);
    if (target === null || !isInside(top, target)) throw invalid('INVALID_PATH', `${shown} passes a symbolic link that leads outside the snapshot`);
    current = target;
  }
  return current;
}

function entryOf(name: string, stat: import('node:fs').Stats): TreeEntry {
  const type: TreeEntryType = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'other';
  return { name, type, size: type === 'file' || type === 'symlink' ? stat.size : null, mtime: stat.mtime.toISOString() };
}
