/**
 * The box's own names and addresses on its networks, as a client on the LAN would reach it: what the
 * certificate names and what the pairing QR code lists.
 */
import os from 'node:os';

/** A host name usable in a certificate and a URL (letters, digits, hyphens, dots), or null. */
export function usableHostname(hostname = os.hostname()): string | null {
  const name = hostname.trim().toLowerCase();
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name) && name.length <= 253 ? name : null;
}

/** The mDNS name (`<first label>.local`) under which avahi announces the box, or null. */
export function mdnsName(hostname = os.hostname()): string | null {
  const name = usableHostname(hostname);
  return name ? `${name.split('.')[0]}.local` : null;
}

/**
 * The box's non-loopback addresses, IPv4 first. IPv6 link-local ones (fe80::/10) are left out: they
 * need a zone (`%eth0`) that neither a certificate nor a URL a phone can use carries.
 */
export function lanAddresses(interfaces = os.networkInterfaces()): { ipv4: string[]; ipv6: string[] } {
  const all = Object.values(interfaces).flatMap((list) => list ?? []).filter((entry) => !entry.internal);
  const ipv4 = all.filter((entry) => entry.family === 'IPv4').map((entry) => entry.address);
  const ipv6 = all.filter((entry) => entry.family === 'IPv6' && !/^fe[89ab]/i.test(entry.address)).map((entry) => entry.address);
  return { ipv4: [...new Set(ipv4)], ipv6: [...new Set(ipv6)] };
}
