/** The files of one source folder, walked in path order as the sync engine compares them with the destination. */
import { lstatSync, promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import type { Excludes } from './excludes.ts';
import { walkSorted, type ListedChild } from './walk-sorted.ts';

export interface LocalFile {
  absolute: string;
  size: number;
  mtimeMs: number;
}

/** How many names a warning lists before "and N more". */
export const NAMES_SHOWN = 5;

/** A count of things, and the first few of them by name: what a log line needs, in memory that does not grow. */
export class NameSample {
  count = 0;
  readonly names: string[] = [];

  add(name: string): void {
    this.count++;
    if (this.names.length < NAMES_SHOWN) this.names.push(name);
  }

  /** Adds all of `other` (its names through `rename`), counting those it did not keep. */
  addAll(other: Pick<NameSample, 'count' | 'names'>, rename: (name: string) => string = (name) => name): void {
    for (const name of other.names) this.add(rename(name));
    this.count += other.count - other.names.length;
  }

  /** "a, b, c, d, e and 12 more". */
  describe(): string {
    const shown = this.names.join(', ');
    return this.count > this.names.length ? `${shown} and ${this.count - this.names.length} more` : shown;
  }
}

/** What a walk of the source met besides the files it yields. */
export interface LocalProblems {
  /** Symlinks and special files: remote destinations store regular files only. */
  skipped: NameSample;
  /** Folders or files that could not be read, with why. */
  unreadable: NameSample;
}

export function emptyProblems(): LocalProblems {
  return { skipped: new NameSample(), unreadable: new NameSample() };
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

/**
 * The regular files below `root` that `excludes` leaves in, as [path relative to root ('/'-separated),
 * file], in path order (sorted-paths.ts), in batches (walk-sorted.ts). Symlinks, special files and
 * what could not be read go to `problems` instead.
 */
export function walkLocalTree(root: string, excludes: Excludes, signal: AbortSignal, problems: LocalProblems): AsyncGenerator<Array<[string, LocalFile]>> {
  return walkSorted<LocalFile>(async (folder) => {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(path.join(root, folder), { withFileTypes: true });
    } catch (error) {
      // A folder removed while the backup runs is not a failure of the backup; one it may not read is.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || hasUndecodableName(folder)) problems.unreadable.add(`${folder || '.'} (${describe(folder, code)})`);
      return null;
    }
    const children: ListedChild<LocalFile>[] = [];
    for (let start = 0; start < entries.length; start += STATS_AT_ONCE) {
      // Let the daemon answer its API between slices of a large folder.
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const entry of entries.slice(start, start + STATS_AT_ONCE)) {
        const child = childOf(root, folder, entry, excludes, problems);
        if (child) children.push(child);
      }
    }
    return children;
  }, signal);
}

/**
 * Files whose metadata is read in one go. A synchronous lstat costs a third of what a promise one
 * costs (no hop to the thread pool and back), and a walk makes one per file: on a no-change run it
 * was the largest part of the engine's CPU time (issue 17). rsync reads them the same way, one at a time.
 */
const STATS_AT_ONCE = 256;

function childOf(root: string, folder: string, entry: Dirent, excludes: Excludes, problems: LocalProblems): ListedChild<LocalFile> | null {
  const relative = folder === '' ? entry.name : `${folder}/${entry.name}`;
  if (entry.isDirectory()) return excludes.matches(relative, true) ? null : { name: entry.name };
  if (excludes.matches(relative, false)) return null;
  if (!entry.isFile()) {
    problems.skipped.add(relative);
    return null;
  }
  // Joined by hand: `root` is a real path and `relative` names from readdir, so there is nothing to
  // normalise, and path.join's work was an eighth of a 100,000-file walk's garbage.
  const absolute = root.endsWith('/') ? root + relative : `${root}/${relative}`;
  try {
    const stat = lstatSync(absolute, { throwIfNoEntry: false });
    if (stat) return stat.isFile() ? { name: entry.name, file: { absolute, size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) } } : null;
    // Gone since the folder was read: not in this backup, and not an error, unless its name could not be decoded.
    if (hasUndecodableName(relative)) problems.unreadable.add(`${relative} (${describe(relative, 'ENOENT')})`);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.unreadable.add(`${relative} (${describe(relative, code)})`);
    return null;
  }
}

/**
 * True when the source holds a regular file, not excluded, whose path is spelled like `relative`
 * once case and Unicode form are set aside: a server that folds case or normalises names lists the
 * file just sent under such a spelling, and it must not look extraneous. Asks the disk (only for
 * files about to be deleted), so no set of every name is kept.
 */
export class LocalSpellings {
  /** The last folders read, by path: deletes come in path order, so neighbours share them. */
  private readonly folders = new Map<string, Promise<Dirent[]>>();

  constructor(
    private readonly root: string,
    private readonly excludes: Excludes,
  ) {}

  async has(relative: string): Promise<boolean> {
    const parts = relative.split('/');
    let candidates = [''];
    for (const [depth, part] of parts.entries()) {
      const last = depth === parts.length - 1;
      const next: string[] = [];
      for (const folder of candidates) {
        for (const entry of await this.read(folder)) {
          if (spelling(entry.name) !== spelling(part)) continue;
          const found = folder ? `${folder}/${entry.name}` : entry.name;
          if (last ? entry.isFile() && !this.excludes.matches(found, false) : entry.isDirectory() && !this.excludes.matches(found, true)) next.push(found);
        }
      }
      if (next.length === 0) return false;
      candidates = next;
    }
    return true;
  }

  private read(folder: string): Promise<Dirent[]> {
    let entries = this.folders.get(folder);
    if (!entries) {
      entries = fs.readdir(path.join(this.root, folder), { withFileTypes: true }).catch(() => []);
      this.folders.set(folder, entries);
      if (this.folders.size > 32) this.folders.delete(this.folders.keys().next().value!);
    }
    return entries;
  }
}

/** How a case-folding, Unicode-normalising server may spell a path. */
export function spelling(relative: string): string {
  return relative.normalize('NFC').toLowerCase();
}
