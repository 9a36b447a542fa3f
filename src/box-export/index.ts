/** The box's own backup: the sealed export format, the export/import workflows, and finding exports on a drive. */
export {
  BOX_EXPORT_FILE,
  BoxExportService,
  checkPassphrase,
  EXPORT_MAX_BYTES,
  PASSPHRASE_MIN_LENGTH,
  type BoxExportDependencies,
  type DestinationToImport,
  type ImportSummary,
  type RemoteImportSummary,
} from './box-export-service.ts';
export { EXPORT_PASSPHRASE_FILE, ExportPassphrase } from './export-passphrase.ts';
export { findExports, type FoundExport } from './find-export.ts';
export { open, readHeader, seal, SCRYPT_COST, SEALED_FORMAT, SEALED_VERSION, type SealedHeader } from './sealed-file.ts';
export { BOX_STATE_FORMAT, BOX_STATE_VERSION, type BoxState } from './box-state.ts';
