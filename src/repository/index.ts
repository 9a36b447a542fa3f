/**
 * The restic-format repository engine: open or create a repository on any store behind
 * `RepositoryBackend`, back up folders into it, restore snapshots from it.
 */
export type { RepositoryBackend, BackendEntry, ClosableRepositoryBackend, RepositoryFolder } from './backend.ts';
export { filePath } from './backend.ts';
export { LocalBackend } from './local-backend.ts';
export { initRepository, openRepository, Repository, type RepositoryConfig } from './repository.ts';
export { BlobIndex } from './blob-index.ts';
export { backup, type BackupOptions, type BackupProgress, type BackupResult } from './backup.ts';
export { findNode, restore, type RestoreOptions, type RestoreResult } from './restore.ts';
export { decodeTree, parseTime, type TreeNode } from './tree.ts';
export { listSnapshots, findSnapshot, type Snapshot } from './snapshots.ts';
export { acquireLock, withLock, type HeldLock } from './locks.ts';
