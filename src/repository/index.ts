/**
 * The restic-format repository engine: open or create a repository on any store behind
 * `RepositoryBackend`, back up folders into it, restore snapshots from it, forget snapshots by a
 * retention policy, prune what no snapshot uses, and check that it is whole.
 */
export type { RepositoryBackend, BackendEntry, ClosableRepositoryBackend, RepositoryFolder } from './backend.ts';
export { filePath } from './backend.ts';
export { LocalBackend } from './local-backend.ts';
export { RemoteBackend, type RepositoryStore } from './remote-backend.ts';
export { initRepository, openRepository, openRepositoryWithKey, Repository, type RememberedKey, type RepositoryConfig } from './repository.ts';
export { BlobIndex } from './blob-index.ts';
export { backup, type BackupOptions, type BackupProgress, type BackupResult } from './backup.ts';
export { findNode, restore, type RestoreOptions, type RestoreResult } from './restore.ts';
export { HardLinkIndex } from './restore-links.ts';
export { decodeTree, parseTime, type TreeNode } from './tree.ts';
export { listSnapshots, findSnapshot, type Snapshot } from './snapshots.ts';
export { forget, type ForgetOptions, type ForgetResult } from './forget.ts';
export { prune, type PruneOptions, type PruneProgress, type PruneResult } from './prune.ts';
export { check, type CheckOptions, type CheckProblem, type CheckProgress, type CheckResult } from './check.ts';
export { acquireLock, withLock, type HeldLock } from './locks.ts';
