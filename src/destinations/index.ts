/**
 * The destination registry: the only place that knows which destination types exist.
 * Adding a destination means adding it to `destinations` and nothing else.
 */
import { invalid } from '../domain/errors.ts';
import { localDestination } from './local/index.ts';
import type { Destination } from './types.ts';

export type { Destination, DestinationCapabilities, DestinationDescription, SyncContext } from './types.ts';

const destinations: readonly Destination<any>[] = [localDestination];

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
