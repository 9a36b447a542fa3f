/**
 * Where a repository's files live. Paths are restic's layout, '/'-separated and relative to the
 * repository: `config`, `keys/<id>`, `data/<id[0:2]>/<id>`, `index/<id>`, `snapshots/<id>`,
 * `locks/<id>`. One engine writes through this interface to every destination.
 *
 * `LocalBackend` keeps one in a local folder; `RemoteBackend` (remote-backend.ts) in a remote
 * destination's folder through its `RemoteStore`.
 */
export type RepositoryFolder = 'keys' | 'data' | 'index' | 'snapshots' | 'locks';

export interface BackendEntry {
  /** The file's name (for data: the pack id, without the two-letter folder). */
  name: string;
  size: number;
}

export interface RepositoryBackend {
  /** Every file in `folder` (data: across its 256 sub-folders); a missing folder lists nothing. Order is unspecified. */
  list(folder: RepositoryFolder): AsyncIterable<BackendEntry>;
  /**
   * The bytes of one file, or `length` bytes from `offset` when given. Throws a CairnError with code
   * `REPOSITORY_FILE_MISSING` when the file is not there, and when it is shorter than the range asks.
   */
  read(path: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /**
   * Like `read` with a range, into `target` (its whole length, from `offset`), for callers that
   * reuse their buffers: a restore's reads would otherwise leave megabytes of garbage each. Optional.
   */
  readInto?(path: string, offset: number, target: Buffer): Promise<void>;
  /** Stores `data` at `path`: afterwards the file is complete and durable, or absent. Existing files are replaced. */
  write(path: string, data: Buffer): Promise<void>;
  /**
   * Stores the local file `localFile` at `path`, as `write` stores bytes (complete and durable, or
   * absent), and removes `localFile` in every case. With `tempFolder`, optional: the engine fills
   * its packs in files there rather than in memory, and the backend moves them into place.
   */
  writeFile?(path: string, localFile: string): Promise<void>;
  /**
   * A local folder for the files given to `writeFile`: the repository's own folder for a local one,
   * so `writeFile` renames and no byte is written twice. A remote repository has none and fills its
   * packs in memory: a temp folder would be RAM on the appliance (/tmp is tmpfs there), only hidden
   * from the daemon's RSS, or else every byte backed up written once more to its SD card.
   */
  tempFolder?(): Promise<string>;
  /** Removes one file; one already gone is not an error. */
  remove(path: string): Promise<void>;
  /** The file's size, or null when it is not there. */
  stat(path: string): Promise<{ size: number } | null>;
  /** Creates the empty layout (folders) for a new repository, where the store has folders. */
  prepare?(): Promise<void>;
  /** The repository (or one of its files) as a user would name it in a message; no secrets. */
  where(path?: string): string;
}

/** A backend a destination opened for a caller, who closes it when done (a connection, a session). */
export type ClosableRepositoryBackend = RepositoryBackend & { close(): Promise<void> };

/** The path of the file of `type` named `id` in restic's layout. */
export function filePath(folder: RepositoryFolder, id: string): string {
  return folder === 'data' ? `data/${id.slice(0, 2)}/${id}` : `${folder}/${id}`;
}
