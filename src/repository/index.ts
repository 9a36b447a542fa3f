/**
 * The restic-format repository engine: open or create a repository on any store behind
 * `RepositoryBackend`, back up folders into it, restore snapshots from it.
 */
export type { RepositoryBackend, BackendEntry, RepositoryFolder } from './backend.ts';
export { LocalBackend } from './local-backend.ts';
export { initRepository, openRepository, Repository, type RepositoryConfig } from './repository.ts';
export { BlobIndex } from './blob-index.ts';
