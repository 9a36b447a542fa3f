/**
 * How a client on the LAN reaches this box and recognises it: the URLs and the certificate's
 * fingerprint. `GET /api/system/info`, `cairn fingerprint` and the pairing QR code all show this.
 */
import os from 'node:os';
import { lanAddresses, mdnsName } from './box-addresses.ts';
import type { ServerCertificate } from './certificate.ts';

/** What a phone app needs to connect and pin. */
export interface ServerIdentity {
  /** The certificate's SHA-256 fingerprint (colon hex), or null when HTTPS is off. */
  fingerprint_sha256: string | null;
  /** Where the API answers, the `.local` name first, then each address (https unless HTTPS is off). */
  urls: string[];
}

/** The address and port the daemon listens on. */
export interface Listening {
  host: string;
  port: number;
}

/**
 * The identity for a daemon listening at `listening` with `certificate` (null: HTTPS off). A daemon
 * on every address (`0.0.0.0`, `::`) is listed under its `.local` name and its LAN addresses as
 * they are now; one on a single address under that address. `::` lists IPv6 addresses too.
 */
export function serverIdentity(
  certificate: Pick<ServerCertificate, 'fingerprint'> | null,
  listening: Listening,
  addresses = lanAddresses(),
  hostname = os.hostname(),
): ServerIdentity {
  const scheme = certificate ? 'https' : 'http';
  const url = (host: string) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${listening.port}`;
  const everywhere = listening.host === '0.0.0.0' || listening.host === '::';
  const hosts = everywhere
    ? [mdnsName(hostname), ...addresses.ipv4, ...(listening.host === '::' ? addresses.ipv6 : [])].filter((host): host is string => host !== null)
    : [listening.host];
  return { fingerprint_sha256: certificate?.fingerprint ?? null, urls: [...new Set(hosts)].map(url) };
}
