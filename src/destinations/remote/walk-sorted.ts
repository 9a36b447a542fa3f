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
 * not exist. The children are the walk's from then on (it sorts them, and knows a folder it asked
 * for by its child): each answer's own, not shared with another's. `wanted` settles true once the
 * walk reaches the folder, false if the walk ends first: a listing asked ahead may read its first
 * part and wait for it before reading the rest, so folders listed ahead hold a bounded part of a
 * large folder each, not the folder.
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
  /** Its sub-folders (their children: paths would be a second string per sub-folder), and how many of them the walk went into. */
  folders: ListedChild<Entry>[];
  entered: number;
}

interface Asked<Entry> {
  /** The folder's relative path. */
  folder: string;
  listing: Promise<ListedChild<Entry>[]>;
  /** Settles the listing's `wanted`. */
  want(reached: boolean): void;
  /** The listing's sub-folders in path order, once it came: the walk asks for them ahead too. */
  folders?: ListedChild<Entry>[];
}

const byPath = <Entry>(a: ListedChild<Entry>, b: ListedChild<Entry>) => compareBytes(childKey(a.name, !a.file), childKey(b.name, !b.file));

/**
 * Every file below the root as [relative path, entry], in path order, a batch per run of a folder's
 * files between its sub-folders (BATCH_FILES at most); stops with the first failed listing.
 */
export async function* walkSorted<Entry>(listFolder: ListFolder<Entry>, signal: AbortSignal, foldersAhead = FOLDERS_AHEAD): AsyncGenerator<Array<[string, Entry]>> {
  // Keyed by the folder's entry in its parent's listing: its path is made once, when it is asked for.
  const asked = new Map<ListedChild<Entry>, Asked<Entry>>();
  const pathOf = (folder: string, name: string) => (folder ? `${folder}/${name}` : name);
  const ask = (parent: string, child: ListedChild<Entry>): Asked<Entry> => {
    let entry = asked.get(child);
    if (!entry) {
      const folder = pathOf(parent, child.name);
      let want!: (reached: boolean) => void;
      const wanted = new Promise<boolean>((resolve) => (want = resolve));
      const asking: Asked<Entry> = { folder, want, listing: null! };
      asking.listing = listFolder(folder, wanted).then((children) => {
        const sorted = (children ?? []).sort(byPath);
        asking.folders = sorted.filter((item) => !item.file);
        return sorted;
      });
      // Read (and its failure thrown) when the walk reaches it; a walk that stopped before must not leave an unhandled rejection.
      asking.listing.catch(() => undefined);
      entry = asking;
      asked.set(child, entry);
    }
    return entry;
  };
  const take = async (parent: string, child: ListedChild<Entry>): Promise<Frame<Entry>> => {
    const entry = ask(parent, child);
    entry.want(true);
    const children = await entry.listing;
    asked.delete(child);
    return { folder: entry.folder, children, next: 0, folders: entry.folders!, entered: 0 };
  };
  /**
   * Asks for `folders` (of `parent`) in walk order, and below each one whose listing already came,
   * for its own sub-folders before the next one's: the folders the walk reaches next, not only the
   * children of those it is in. (Asking only those, each step into a folder of folders waited for its
   * first child's listing: at a million files over SFTP, 6 of 15 s idle.) False once enough are waiting.
   */
  const askInWalkOrder = (parent: string, folders: ListedChild<Entry>[], from: number): boolean => {
    for (let index = from; index < folders.length; index++) {
      if (asked.size >= foldersAhead) return false;
      const entry = ask(parent, folders[index]);
      if (entry.folders && !askInWalkOrder(entry.folder, entry.folders, 0)) return false;
    }
    return true;
  };
  // The deepest frame's folders not yet entered first, then each frame's above it.
  const askAhead = (stack: Frame<Entry>[]) => {
    for (let depth = stack.length - 1; depth >= 0 && askInWalkOrder(stack[depth].folder, stack[depth].folders, stack[depth].entered); depth--);
  };

  try {
    const stack = [await take('', { name: '' })];
    while (stack.length > 0) {
      signal.throwIfAborted();
      if (asked.size < foldersAhead) askAhead(stack);
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
      else {
        frame.next++;
        stack.push(await take(frame.folder, frame.folders[frame.entered++]));
      }
    }
  } finally {
    // Listings waiting to be reached end now (an SFTP one closes its handle).
    for (const { want } of asked.values()) want(false);
  }
}
