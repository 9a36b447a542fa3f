/**
 * The destination registry: the only place that knows which destination types exist.
 * Adding a destination means adding it to `destinations` and nothing else.
 */
import { invalid, notFound } from '../domain/errors.ts';
import { localDestination } from './local/index.ts';
import { s3Destination } from './s3/index.ts';
import { sftpDestination } from './sftp/index.ts';
import { webdavDestination } from './webdav/index.ts';
import type { Destination, DestinationCapabilities } from './types.ts';

export type { Destination, DestinationCapabilities, DestinationDescription, SyncContext } from './types.ts';

const destinations: readonly Destination<any>[] = [localDestination, s3Destination, sftpDestination, webdavDestination];

const byType = new Map(destinations.map((destination) => [destination.type, destination]));

/** Every registered destination, in display order. */
export function allDestinations(): readonly Destination[] {
  return destinations;
}

/** The destination for a type; a 400 naming the accepted types when there is none. */
export function destinationOf(type: string): Destination {
  const destination = byType.get(type);
  if (!destination) {
    throw invalid('UNKNOWN_DESTINATION_TYPE', `"destination_type" must be one of: ${[...byType.keys()].join(', ')}`);
  }
  return destination;
}

/** Checks a destination_config against its type's schema; returns the config with defaults applied. */
export function validateDestinationConfig(type: string, config: unknown): Record<string, unknown> {
  const { error, value } = destinationOf(type).configSchema.validate(config, { convert: false, abortEarly: true });
  if (error) throw invalid('VALIDATION_FAILED', `destination_config: ${error.details[0]?.message ?? error.message}`);
  return value as Record<string, unknown>;
}

/** A destination type as `GET /providers` lists it. */
export interface ProviderEntry {
  type: string;
  name: string;
  description: string;
  requires_credentials: boolean;
  /** False for types of the contract that this version cannot back up to yet. */
  available: boolean;
  reason?: string;
}

/** Types the contract names that have no destination here yet: listed, never faked. */
const NOT_YET_AVAILABLE: readonly Omit<ProviderEntry, 'available'>[] = [
  { type: 'google_drive', name: 'Google Drive', description: 'Google Drive folders and shared drives', requires_credentials: true },
  { type: 'onedrive', name: 'OneDrive', description: 'Microsoft OneDrive', requires_credentials: true },
];

const CONTRACT_ORDER = ['local', 's3', 'google_drive', 'onedrive', 'sftp', 'webdav'];

/** Why: they need an OAuth app registered with Google or Microsoft, and there is no server of theirs to test against here. */
export const UNAVAILABLE_REASON = 'Not available in this version of Cairn yet (needs an OAuth app registration with the provider)';

/** Every provider of the contract, in the contract's order: available or not. */
export function providerCatalogue(): ProviderEntry[] {
  const registered = destinations.map((destination) => ({ ...destination.describe(), available: true }));
  const missing = NOT_YET_AVAILABLE.filter((entry) => !byType.has(entry.type)).map((entry) => ({ ...entry, available: false, reason: UNAVAILABLE_REASON }));
  const order = (entry: ProviderEntry) => CONTRACT_ORDER.indexOf(entry.type);
  return [...registered, ...missing].sort((a, b) => order(a) - order(b));
}

/** True when the type is one the contract knows, available or not. */
export function isKnownProvider(type: string): boolean {
  return providerCatalogue().some((entry) => entry.type === type);
}

/** What a provider can do; nothing at all for one not available yet. */
export function capabilitiesOf(type: string): DestinationCapabilities {
  const destination = byType.get(type);
  if (destination) return destination.capabilities;
  const entry = NOT_YET_AVAILABLE.find((candidate) => candidate.type === type);
  if (!entry) throw notFound('PROVIDER_NOT_FOUND', `No provider "${type}"`);
  return {
    supports_delete: false,
    supports_compression: false,
    supports_checksum: false,
    supports_bandwidth_limit: false,
    supports_exclude_patterns: false,
    supports_incremental: false,
    supports_dry_run: false,
    requires_credentials: entry.requires_credentials,
  };
}
