/** Browsing and creating folders inside the allowed paths (contract: System → Browse, Create Directory). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { conflict, invalid } from '../domain/errors.ts';
import { AllowedPaths } from './allowed-paths.ts';
import { pathProblem } from './fs-errors.ts';

export interface BrowseEntry {
  name: string;
  path: string;
  is_dir: boolean;
  size: number | null;
  modified: string | null;
  /** The entry is a symbolic link (browsing into it is allowed only if it stays inside). */
  is_link: boolean;
}

export interface BrowseResult {
  path: string;
  /** The folder above, or null at an allowed root. */
  parent: string | null;
  entries: BrowseEntry[];
}

/** Entries listed at most; a folder with more says so through `truncated`. */
const MAX_ENTRIES = 5000;

export async function browse(allowed: AllowedPaths, clientPath: string | undefined): Promise<BrowseResult & { truncated: boolean }> {
  const { real, root } = await allowed.existing(clientPath ?? allowed.list()[0]);
  const problem = (error: unknown) => {
    throw pathProblem(real, error);
  };
  const stat = await fs.stat(real).catch(problem);
  if (!stat.isDirectory()) throw invalid('NOT_A_FOLDER', `${real} is not a folder`);
  const names = (await fs.readdir(real).catch(problem)).sort((a, b) => a.localeCompare(b));
  const entries: BrowseEntry[] = [];
  for (const name of names.slice(0, MAX_ENTRIES)) {
    const full = path.join(real, name);
    const link = await fs.lstat(full).catch(() => null);
    if (!link) continue;
    const target = link.isSymbolicLink() ? await fs.stat(full).catch(() => null) : link;
    const isDir = target?.isDirectory() ?? false;
    entries.push({
      name,
      path: full,
      is_dir: isDir,
      size: isDir || !target ? null : target.size,
      modified: target ? target.mtime.toISOString() : null,
      is_link: link.isSymbolicLink(),
    });
  }
  // Folders first, as a file picker shows them.
  entries.sort((a, b) => Number(b.is_dir) - Number(a.is_dir));
  return { path: real, parent: real === root ? null : path.dirname(real), entries, truncated: names.length > MAX_ENTRIES };
}

/**
 * Creates a folder (and missing parents) inside the allowed paths; 409 PATH_EXISTS when something is
 * already there, and a 4xx naming the path for any filesystem failure (see `AllowedPaths.makeFolder`).
 */
export async function makeDirectory(allowed: AllowedPaths, clientPath: string): Promise<string> {
  const target = await allowed.creatable(clientPath);
  const existing = await fs.lstat(target).catch(() => null);
  if (existing) throw conflict('PATH_EXISTS', `${target} already exists`);
  return allowed.makeFolder(target);
}
