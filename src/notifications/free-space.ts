/** How full the filesystem holding a folder is, as `df` counts it. */
import { promises as fs } from 'node:fs';

export interface FolderSpace {
  /** The folder measured: the first of the given ones that exists. */
  folder: string;
  /** used / (used + available to unprivileged users), rounded up, as df's Use%. */
  usedPercent: number;
  freeBytes: number;
}

/** The space of the first existing folder among `folders` (deepest first is best); null when none exists. */
export async function spaceOf(folders: readonly string[]): Promise<FolderSpace | null> {
  for (const folder of folders) {
    const stats = await fs.statfs(folder).catch(() => null);
    if (!stats) continue;
    const used = (stats.blocks - stats.bfree) * stats.bsize;
    const available = stats.bavail * stats.bsize;
    const usedPercent = used + available === 0 ? 0 : Math.ceil((used / (used + available)) * 100);
    return { folder, usedPercent, freeBytes: available };
  }
  return null;
}
