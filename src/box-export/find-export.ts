/**
 * `cairn import --from-drive`: finds the box exports Cairn wrote beside its backups under a mount
 * point (or takes the file named), newest first, reading only their clear headers.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BOX_EXPORT_FILE } from './box-export-service.ts';
import { readHeader, type SealedHeader } from './sealed-file.ts';
import { byCodeUnits } from '../domain/code-units.ts';

/** How deep below the place given a `.cairn-box-export` is looked for (mount point / backup folders). */
const SEARCH_DEPTH = 4;
/** How many folders are opened at most: a mirror backup may hold millions, and the exports sit near the top. */
const SEARCH_FOLDERS = 2000;

export interface FoundExport {
  file: string;
  text: string;
  header: SealedHeader;
}

/**
 * The exports at `place` (a file, or a folder searched breadth first to SEARCH_DEPTH levels),
 * newest first by their header's time; files that are not box exports are left out.
 */
export async function findExports(place: string): Promise<FoundExport[]> {
  const found: FoundExport[] = [];
  const stat = await fs.stat(place);
  const candidates = stat.isDirectory() ? await searchFolder(place) : [place];
  for (const file of candidates) {
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    try {
      found.push({ file, text, header: readHeader(text) });
    } catch {
      // not an export Cairn can read: skipped, the others may be
    }
  }
  // Newest first.
  return found.sort((a, b) => byCodeUnits(b.header.created_at, a.header.created_at));
}

async function searchFolder(root: string): Promise<string[]> {
  const files: string[] = [];
  let level = [root];
  let opened = 0;
  for (let depth = 0; depth <= SEARCH_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const folder of level) {
      if (++opened > SEARCH_FOLDERS) return files;
      const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.isFile() && entry.name === BOX_EXPORT_FILE) files.push(path.join(folder, entry.name));
        else if (entry.isDirectory()) next.push(path.join(folder, entry.name));
      }
    }
    level = next;
  }
  return files;
}
