/**
 * A folder tree walked depth first in path order (see sorted-paths.ts), from one-folder listings
 * (a local readdir, SFTP readdir, WebDAV PROPFIND Depth 1). Memory holds the folders on the way
 * down and a few listings asked ahead, never the tree: a million files cost what one folder costs.
 * The next folders are listed while the current one is used, since on a network a tree of many
 * folders listed one by one spends its time waiting on round trips.
 */
import { childKey, compareBytes } from './sorted-paths.ts';

export interface ListedChild<Entry> {
  name: string;
  /** Set for a file; a folder has none and is walked in turn. */
  file?: Entry;
}

/**
 * Answers for one folder (relative path, '' for the root) with its children, or null when it does
 * not exist. `wanted` settles true once the walk reaches the folder, false if the walk ends first: a
 * listing asked ahead may read its first part and wait for it before reading the rest, so folders
 * listed ahead hold a bounded part of a large folder each, not the folder.
 */
export type ListFolder<Entry> = (relative: string, wanted: Promise<boolean>) => Promise<ListedChild<Entry>[] | null>;

/** Folders listed ahead of the walk: enough to hide round trips, few enough to keep memory flat. */
export const FOLDERS_AHEAD = 8;

/** Files in one batch at most: a folder of a million files passes on (and the join builds) a thousand at a time. */
const BATCH_FILES = 1000;

interface Frame<Entry> {
  folder: string;
  children: ListedChild<Entry>[];
  /** The next child to walk. */
  next: number;
  /** The next child that may be a folder not yet asked for. */
  ahead: number;
}

interface Asked<Entry> {
  listing: Promise<ListedChild<Entry>[] | null>;
  /** Settles the listing's `wanted`. */
  want(reached: boolean): void;
}

/**
 * Every file below the root as [relative path, entry], in path order, a batch per run of a folder's
 * files between its sub-folders (BATCH_FILES at most); stops with the first failed listing.
 */
export async function* walkSorted<Entry>(listFolder: ListFolder<Entry>, signal: AbortSignal, foldersAhead = FOLDERS_AHEAD): AsyncGenerator<Array<[string, Entry]>> {
  const asked = new Map<string, Asked<Entry>>();
  const ask = (folder: string): Asked<Entry> => {
    let entry = asked.get(folder);
    if (!entry) {
      let want!: (reached: boolean) => void;
      const wanted = new Promise<boolean>((resolve) => (want = resolve));
      const listing = listFolder(folder, wanted);
      // Read (and its failure thrown) when the walk reaches it; a walk that stopped before must not leave an unhandled rejection.
      listing.catch(() => undefined);
      entry = { listing, want };
      asked.set(folder, entry);
    }
    return entry;
  };
  const take = async (folder: string): Promise<Frame<Entry>> => {
    const { listing, want } = ask(folder);
    want(true);
    const children = ((await listing) ?? []).sort((a, b) => compareBytes(childKey(a.name, !a.file), childKey(b.name, !b.file)));
    asked.delete(folder);
    return { folder, children, next: 0, ahead: 0 };
  };
  const pathOf = (folder: string, name: string) => (folder ? `${folder}/${name}` : name);
  // Asks for the folders the walk reaches next (the deepest frame's first), while few are waiting.
  const askAhead = (stack: Frame<Entry>[]) => {
    for (let depth = stack.length - 1; depth >= 0 && asked.size < foldersAhead; depth--) {
      const frame = stack[depth];
      frame.ahead = Math.max(frame.ahead, frame.next);
      while (frame.ahead < frame.children.length && asked.size < foldersAhead) {
        const child = frame.children[frame.ahead++];
        if (!child.file) ask(pathOf(frame.folder, child.name));
      }
    }
  };

  try {
    const stack = [await take('')];
    while (stack.length > 0) {
      signal.throwIfAborted();
      askAhead(stack);
      const frame = stack[stack.length - 1];
      if (frame.next === frame.children.length) {
        stack.pop();
        continue;
      }
      // The frame's files up to its next sub-folder, as one batch; else into that sub-folder.
      const files: Array<[string, Entry]> = [];
      while (frame.next < frame.children.length && frame.children[frame.next].file && files.length < BATCH_FILES) {
        const child = frame.children[frame.next++];
        files.push([pathOf(frame.folder, child.name), child.file!]);
      }
      if (files.length > 0) yield files;
      else stack.push(await take(pathOf(frame.folder, frame.children[frame.next++].name)));
    }
  } finally {
    // Listings waiting to be reached end now (an SFTP one closes its handle).
    for (const { want } of asked.values()) want(false);
  }
}
