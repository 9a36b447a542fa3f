/**
 * Hard-link snapshots of a local/USB job on its drive: make one, list them, verify one against its
 * manifest, delete or prune crash-safely, and tell whether a drive's filesystem can hold them.
 * The public surface of this folder (re-exported by src/history/index.ts).
 */
export { createSnapshot, type SnapshotPlace, type SnapshotResult } from './create.ts';
export { hardLinkSupport, requireHardLinks, filesystemOfMagic, type HardLinkSupport } from './hard-links.ts';
export { listSnapshots, SUMMARY_NAME, type SnapshotInfo } from './snapshot-list.ts';
export { MANIFEST_NAME, ManifestReader, type ManifestEntry } from './manifest-file.ts';
export { deleteSnapshot, finishLeftovers, pruneSnapshots, type PruneResult } from './removal.ts';
export { snapshotBaseName, snapshotTimeOf, INCOMPLETE_PREFIX, DELETING_PREFIX } from './names.ts';
export { verifySnapshot, type VerifyOptions, type VerifyResult } from './verify.ts';
