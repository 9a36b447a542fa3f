/**
 * The one rule for every path the API can make the daemon (root) read or write — job sources, local
 * destinations, restore targets, browse, mkdir, mount points: it must lie inside one of the owner's
 * configured roots once every symbolic link is resolved, so `..` and links that lead out are refused
 * the same way. The roots come from the daemon's configuration only, never from the API.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.ts';
import { pathProblem } from './fs-errors.ts';

/** How many symbolic links one path may pass through, as Linux allows (MAXSYMLINKS). */
const MAX_LINKS = 40;

/** A path as a client sent it: absolute, no NUL, no control characters, not absurdly long. */
export function checkClientPath(value: string, field = 'path'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) throw invalid('INVALID_PATH', `"${field}" must be an absolute path`);
  if (!path.isAbsolute(value)) throw invalid('INVALID_PATH', `"${field}" must be an absolute path such as /mnt/backup`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid('INVALID_PATH', `"${field}" must not contain control characters`);
  // The kernel takes ".." after following a link, path.resolve before it: "root/link/../x" would be
  // checked as "root/x" but used as wherever the link's parent is. So ".." is refused, not folded.
  if (value.split('/').includes('..')) throw invalid('INVALID_PATH', `"${field}" must not contain ".." (write the folder's full path)`);
  return path.resolve(value);
}

/** True when `candidate` is `root` or lies below it (both already resolved). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  // "..x" is a name inside root; only ".." itself or "../…" leads out.
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** Where a path that may not exist yet will be: its deepest existing folder (real) and the names below it. */
interface PathToBe {
  existing: string;
  missing: string[];
}

export interface AllowedPathsOptions {
  /** How the owner names the setting, for refusals that tell them how to allow a path. */
  setting?: string;
  /**
   * Folders refused even inside a root: the daemon's data dir, whose keys and database a restore or
   * mkdir must never replace, nor a backup carry off.
   */
  excluded?: readonly string[];
}

export class AllowedPaths {
  private readonly setting: string;
  private readonly excluded: readonly string[];

  /** @param roots absolute folders from the configuration (a root that does not exist is kept as written) */
  constructor(
    private readonly roots: readonly string[],
    options: AllowedPathsOptions = {},
  ) {
    this.setting = options.setting ?? 'allowed_paths';
    this.excluded = options.excluded ?? [];
  }

  list(): string[] {
    return [...this.roots];
  }

  /**
   * The real path of an existing entry inside an allowed root; 403 PATH_NOT_ALLOWED when it (or where
   * a link leads) is outside them, 404 PATH_NOT_FOUND when it does not exist, a 4xx for an unusable
   * path (a link loop, a name too long …).
   */
  async existing(clientPath: string, field = 'path'): Promise<{ real: string; root: string }> {
    const requested = checkClientPath(clientPath, field);
    if (!(await this.rootOf(requested))) throw this.outside(requested);
    const real = await fs.realpath(requested).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw notFound('PATH_NOT_FOUND', `${requested} does not exist`);
      throw pathProblem(requested, error);
    });
    const root = await this.rootOf(real);
    if (!root) throw this.outside(requested, real);
    return { real, root };
  }

  /**
   * The real path a path has or will have (mkdir, a mount point, a source or destination saved before
   * it exists): resolved as far as it exists, dangling links followed, and inside an allowed root.
   * Creates nothing. Refusals as for `existing`, without the 404.
   */
  async creatable(clientPath: string, field = 'path'): Promise<string> {
    const { existing, missing } = await this.toBe(checkClientPath(clientPath, field));
    return path.join(existing, ...missing);
  }

  /**
   * Makes the folder (and missing parents) and returns its real path. Each folder is made inside the
   * already-checked one above it and checked again once made, so nothing is created outside the
   * roots even if a link appears meanwhile. An existing folder is fine; an existing file is a 409.
   * Every filesystem failure is a 4xx naming the path (see `pathProblem`).
   */
  async makeFolder(clientPath: string, field = 'path'): Promise<string> {
    const requested = checkClientPath(clientPath, field);
    const { existing, missing } = await this.toBe(requested);
    let current = existing;
    for (const name of missing) {
      const next = path.join(current, name);
      await fs.mkdir(next, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw pathProblem(next, error);
      });
      current = await fs.realpath(next).catch((error: unknown) => {
        throw pathProblem(next, error);
      });
      if (!(await this.rootOf(current))) throw this.outside(requested, current);
    }
    const stat = await fs.stat(current).catch((error: unknown) => {
      throw pathProblem(current, error);
    });
    if (!stat.isDirectory()) throw conflict('PATH_NOT_FOLDER', `${requested} exists and is not a folder`);
    return current;
  }

  /** Follows `requested` as far as it exists (dangling links too) and checks every real step. */
  private async toBe(requested: string): Promise<PathToBe> {
    if (!(await this.rootOf(requested))) throw this.outside(requested);
    let candidate = requested;
    for (let links = 0; links <= MAX_LINKS; links++) {
      const missing: string[] = [];
      let ancestor = candidate;
      let real: string | null = null;
      let dangling: string | null = null;
      for (;;) {
        real = await fs.realpath(ancestor).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw pathProblem(requested, error);
          return null;
        });
        if (real) break;
        // A link to a missing target: where it points decides, not where the link sits.
        const link = await fs.readlink(ancestor).catch(() => null);
        if (link !== null) {
          // A relative target counts from the link's real folder, as the kernel follows it.
          dangling = path.resolve(await fs.realpath(path.dirname(ancestor)).catch(() => path.dirname(ancestor)), link);
          break;
        }
        missing.unshift(path.basename(ancestor));
        ancestor = path.dirname(ancestor);
      }
      if (dangling !== null) {
        candidate = path.join(dangling, ...missing);
        continue;
      }
      if (!(await this.rootOf(real!))) throw this.outside(requested, path.join(real!, ...missing));
      return { existing: real!, missing };
    }
    throw pathProblem(requested, Object.assign(new Error('too many links'), { code: 'ELOOP' }));
  }

  /**
   * Refuses a real folder that holds an excluded one (the data dir), which `rootOf` allows since it
   * only refuses paths inside them: a backup of it would carry the keys off, and a restore or a
   * destination there could replace or delete them. `what` names the path in the refusal.
   */
  async refuseHolder(real: string, what: string): Promise<void> {
    for (const folder of this.excluded) {
      const realFolder = await fs.realpath(folder).catch(() => folder);
      if (isInside(real, realFolder)) {
        throw forbidden('PATH_NOT_ALLOWED', `${what} holds Cairn's own data folder (${realFolder}); choose a folder that does not, or move the data folder (CAIRN_DATA_DIR) elsewhere`);
      }
    }
  }

  /** The allowed root holding a resolved path, if any (none inside an excluded folder). */
  private async rootOf(resolved: string): Promise<string | undefined> {
    for (const folder of this.excluded) {
      if (isInside(await fs.realpath(folder).catch(() => folder), resolved)) return undefined;
    }
    for (const root of this.roots) {
      const realRoot = await fs.realpath(root).catch(() => root);
      if (isInside(realRoot, resolved)) return realRoot;
    }
    return undefined;
  }

  /** The refusal, naming the path, where it leads, the roots and the setting that would allow it. */
  private outside(requested: string, leadsTo?: string) {
    const where = leadsTo === undefined || leadsTo === requested ? `${requested} is` : `${requested} leads to ${leadsTo} (through a symbolic link),`;
    const real = leadsTo ?? requested;
    const inData = this.excluded.find((folder) => isInside(folder, real) || isInside(folder, requested));
    if (inData) return forbidden('PATH_NOT_ALLOWED', `${where} inside Cairn's own data folder (${inData}), which the API never touches`);
    return forbidden(
      'PATH_NOT_ALLOWED',
      `${where} outside the allowed paths (${this.roots.join(', ')}); the owner can add a folder to ${this.setting} in the daemon's configuration`,
    );
  }
}
