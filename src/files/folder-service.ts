/**
 * Folders as the API offers them (contract: System → Browse, Create Directory, Allowed paths): the
 * one object the API edge holds for the filesystem, so every path a client names goes through the
 * allowed-paths rule on its way in.
 */
import type { AllowedPaths } from './allowed-paths.ts';
import { browse, makeDirectory, type BrowseResult } from './browse.ts';

export class FolderService {
  constructor(private readonly allowed: AllowedPaths) {}

  /** The allowed roots, as configured. */
  roots(): string[] {
    return this.allowed.list();
  }

  /** A folder's entries (the first root when no path is given); see browse.ts. */
  browse(clientPath: string | undefined): Promise<BrowseResult & { truncated: boolean }> {
    return browse(this.allowed, clientPath);
  }

  /** Creates a folder inside the allowed paths; its real path. 409 PATH_EXISTS when something is there. */
  makeDirectory(clientPath: string): Promise<string> {
    return makeDirectory(this.allowed, clientPath);
  }
}
