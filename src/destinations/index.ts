/**
 * The destination registry: the only place that knows which destination types exist, in the order
 * `GET /providers` lists them. Adding a destination means adding its folder and one line to
 * `destinations`, nothing else. Every destination handed out is wrapped for redaction (a run's
 * retries are the run manager's: runs/run-retries.ts).
 */
import { invalid, notFound } from '../domain/errors.ts';
import { credentialFieldsOf } from './credential-fields.ts';
import { googleDriveDestination } from './google_drive/index.ts';
import { localDestination } from './local/index.ts';
import { onedriveDestination } from './onedrive/index.ts';
import { rcloneGenericDestination } from './rclone/index.ts';
import { redacting } from './redaction.ts';
import { s3Destination } from './s3/index.ts';
import { sftpDestination } from './sftp/index.ts';
import type { AddressFormat, CredentialField, Destination, DestinationCapabilities } from './types.ts';
import { webdavDestination } from './webdav/index.ts';

export type { Destination, DestinationCapabilities, DestinationDescription, SyncContext } from './types.ts';

const destinations: readonly Destination<any>[] = [
  localDestination,
  s3Destination,
  googleDriveDestination,
  onedriveDestination,
  sftpDestination,
  webdavDestination,
  rcloneGenericDestination,
];

const byType = new Map(destinations.map((destination) => [destination.type, redacting(destination)]));

/** Every registered destination, in display order, as the daemon uses them (redacting). */
export function allDestinations(): readonly Destination[] {
  return [...byType.values()];
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
  /** False when this machine cannot back up to it (see `reason`). */
  available: boolean;
  reason?: string;
  /** What to know before relying on it (e.g. that it could not be tested against the real service). */
  note?: string;
  /** How a destination_config is written as one line (docs/API.md: Addresses). */
  address: AddressFormat;
  /** The credential form's fields (empty when it takes none). */
  credential_fields: CredentialField[];
}

/** Every destination type, in the registry's order, available here or not. */
export function providerCatalogue(): ProviderEntry[] {
  return destinations.map((destination) => {
    const reason = destination.unavailableReason();
    return {
      ...destination.describe(),
      available: reason === null,
      ...(reason === null ? {} : { reason }),
      ...(destination.note === null ? {} : { note: destination.note }),
      address: destination.address,
      credential_fields: credentialFieldsOf(destination.credentialSchema),
    };
  });
}

/** True when the type is a registered destination. */
export function isKnownProvider(type: string): boolean {
  return byType.has(type);
}

/** Why a type cannot be used on this machine, or null when it can. */
export function unavailableReasonOf(type: string): string | null {
  return destinationOf(type).unavailableReason();
}

/** What a provider can do; a 404 for a type that does not exist. */
export function capabilitiesOf(type: string): DestinationCapabilities {
  const destination = byType.get(type);
  if (!destination) throw notFound('PROVIDER_NOT_FOUND', `No provider "${type}"`);
  return destination.capabilities;
}
