/**
 * History: what a job keeps of its past. Today the retention engine shared by every kind of
 * history; the public surface of this folder, nobody imports deeper.
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
export { checkSnapshotFolderNow } from './snapshot-folder-check.ts';
