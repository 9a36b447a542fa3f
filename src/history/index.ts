/**
 * History: what a job keeps of its past. The retention engine shared by every kind of history, the
 * drive snapshot engine, and the service the API reads and edits history through; the public surface
 * of this folder, nobody imports deeper.
 */
export {
  applyRetention,
  type KeepReason,
  type RetentionContext,
  type RetentionDecision,
  type RetentionSnapshot,
} from './retention.ts';
export { retentionPreviewOf, type RetentionPreview } from './retention-preview.ts';
export * from './drive-snapshots/index.ts';
export {
  SnapshotService,
  snapshotFieldsOf,
  type JobSnapshotFields,
  type RetentionPreviewView,
  type SnapshotServiceDependencies,
  type SnapshotView,
} from './snapshot-service.ts';
export { snapshotPathParts, type TreeEntry, type TreeEntryType, type TreePage, type TreeQuery } from './snapshot-tree.ts';
export { checkSnapshotFolderNow } from './snapshot-folder-check.ts';
