/** Drives: listing, mounting, udev plug-in events and what Cairn does when a registered drive appears. */
export { listDrives, listMounts, mountAt, driveByUuid, humanSize, type Drive, type Mount } from './block-devices.ts';
export { DriveListings, driveOperations, LISTING_MAX_AGE_MS } from './drive-listings.ts';
export { DriveService, type DriveServiceDependencies, type DriveView } from './drive-service.ts';
export { mountDrive, unmountDrive, lazyUnmount, mountOptionsFor, UUID_PATTERN } from './mounting.ts';
export { monitorBlockEvents, parseUdevProperties, type BlockEvent, type UdevMonitor } from './udev-monitor.ts';
export { PlugInPolicy, DEBOUNCE_MS, type DriveOperations } from './plug-in.ts';
export { OutcomeSignal, ledWrites, type DriveState } from './outcome-signal.ts';
export { SharedRead } from './shared-read.ts';
