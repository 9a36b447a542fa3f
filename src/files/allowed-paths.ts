/**
 * The folders an API client may look into or change: the configured allowed roots, checked after
 * every symlink is resolved, so `..` and links that lead out are refused the same way.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { forbidden, invalid, notFound } from '../domain/errors.ts';

/** A path as a client sent it: absolute, no NUL, no control characters, not absurdly long. */
export function checkClientPath(value: string, field = 'path'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) throw invalid('INVALID_PATH', `"${field}" must be an absolute path`);
  if (!path.isAbsolute(value)) throw invalid('INVALID_PATH', `"${field}" must be an absolute path such as /mnt/backup`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid('INVALID_PATH', `"${field}" must not contain control characters`);
  return path.resolve(value);
}

/** True when `candidate` is `root` or lies below it (both already resolved). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  // "..x" is a name inside root; only ".." itself or "../…" leads out.
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

export class AllowedPaths {
  /** The roots themselves, resolved once (a root that does not exist is kept as written). */
  constructor(private readonly roots: readonly string[]) {}

  list(): string[] {
    return [...this.roots];
  }

  /** The allowed root holding a resolved path, if any. */
  private async rootOf(resolved: string): Promise<string | undefined> {
    for (const root of this.roots) {
      const realRoot = await fs.realpath(root).catch(() => root);
      if (isInside(realRoot, resolved)) return realRoot;
    }
    return undefined;
  }

  /**
   * The real path of an existing entry inside an allowed root; 403 when it (or where a link leads)
   * is outside them, 404 when it does not exist.
   */
  async existing(clientPath: string, field = 'path'): Promise<{ real: string; root: string }> {
    const requested = checkClientPath(clientPath, field);
    if (!(await this.rootOf(requested))) throw outside(requested);
    const real = await fs.realpath(requested).catch(() => null);
    if (!real) throw notFound('PATH_NOT_FOUND', `${requested} does not exist`);
    const root = await this.rootOf(real);
    if (!root) throw outside(requested, true);
    return { real, root };
  }

  /**
   * A path that may not exist yet (mkdir, a mount point): its nearest existing ancestor must be
   * inside an allowed root after resolution. Returns the resolved path to create.
   */
  async creatable(clientPath: string, field = 'path'): Promise<string> {
    const requested = checkClientPath(clientPath, field);
    if (!(await this.rootOf(requested))) throw outside(requested);
    let ancestor = requested;
    const missing: string[] = [];
    for (;;) {
      const real = await fs.realpath(ancestor).catch(() => null);
      if (real) {
        if (!(await this.rootOf(real))) throw outside(requested, true);
        return path.join(real, ...missing.reverse());
      }
      missing.push(path.basename(ancestor));
      ancestor = path.dirname(ancestor);
    }
  }
}

function outside(requested: string, throughLink = false) {
  return forbidden(
    'PATH_NOT_ALLOWED',
    throughLink ? `${requested} leads outside the allowed paths through a symbolic link` : `${requested} is outside the allowed paths`,
  );
}
