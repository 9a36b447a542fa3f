/**
 * The identity of a repository as the daemon and its engine process know it, shared by both (the
 * engine's kept reader keys its open repositories by it, the daemon its remembered master keys).
 */
import { createHash } from 'node:crypto';

/** What names a repository and opens it: where it is (destination type, config, credential) and its password. */
export interface PlaceIdentity {
  destinationType: string;
  config: Record<string, unknown>;
  secret: Record<string, string> | null;
  password: string;
}

/**
 * A SHA-256 of the destination type, config, credential and password (hex): the same place opened
 * with another password is another entry, so nothing kept under one password serves another.
 */
export function placeKeyOf(place: PlaceIdentity): string {
  return createHash('sha256').update(JSON.stringify([place.destinationType, place.config, place.secret, place.password])).digest('hex');
}
