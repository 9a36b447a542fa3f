/**
 * Exclude patterns with the meaning rsync gives them for the local destination, so a job behaves the
 * same whichever destination it uses (paths are relative to the source folder, '/'-separated):
 * - a pattern without '/' (trailing '/' aside) matches a name at any depth: `*.tmp`, `cache`;
 * - a leading '/' anchors it at the source folder: `/build` is only the top-level build;
 * - a pattern with an inner '/' or '**' matches the end of the whole path: `logs/*.log`;
 * - a trailing '/' matches folders only; `*` and `?` stop at '/', `**` crosses it; `[...]` is a class.
 * An excluded folder is skipped whole, and excluded files on the destination are never deleted.
 */

interface CompiledPattern {
  regex: RegExp;
  wholePath: boolean;
  foldersOnly: boolean;
}

export class Excludes {
  private readonly patterns: CompiledPattern[];

  /** The patterns as written (a worker thread compiles its own). */
  constructor(readonly written: readonly string[]) {
    this.patterns = written.filter((pattern) => pattern !== '').map(compile);
  }

  /** True when this entry itself matches a pattern. */
  matches(relativePath: string, isFolder: boolean): boolean {
    const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    return this.patterns.some((pattern) => (!pattern.foldersOnly || isFolder) && pattern.regex.test(pattern.wholePath ? relativePath : name));
  }

  /** True when the file or any folder above it is excluded: what a delete must leave alone. */
  covers(relativeFile: string): boolean {
    const parts = relativeFile.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      if (this.matches(parts.slice(0, depth).join('/'), true)) return true;
    }
    return this.matches(relativeFile, false);
  }
}

function compile(raw: string): CompiledPattern {
  let pattern = raw;
  const foldersOnly = pattern.endsWith('/');
  if (foldersOnly) pattern = pattern.replace(/\/+$/, '');
  const anchored = pattern.startsWith('/');
  if (anchored) pattern = pattern.replace(/^\/+/, '');
  const wholePath = anchored || pattern.includes('/') || pattern.includes('**');
  const body = globToRegex(pattern);
  const regex = !wholePath ? new RegExp(`^${body}$`, 's') : anchored ? new RegExp(`^${body}$`, 's') : new RegExp(`(?:^|/)${body}$`, 's');
  return { regex, wholePath, foldersOnly };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index];
    if (char === '*') {
      if (glob[index + 1] === '*') {
        out += '.*';
        index++;
      } else out += '[^/]*';
    } else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const close = glob.indexOf(']', index + 2);
      if (close === -1) out += '\\[';
      else {
        const inner = glob.slice(index + 1, close).replace(/\\/g, '\\\\');
        out += inner.startsWith('!') ? `[^${inner.slice(1)}]` : `[${inner}]`;
        index = close;
      }
    } else if (char === '\\' && index + 1 < glob.length) {
      out += escapeRegex(glob[++index]);
    } else out += escapeRegex(char);
  }
  return out;
}

function escapeRegex(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}
