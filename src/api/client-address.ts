/**
 * Who sent a request: the client's address (for the login rate limit and anything else keyed on the
 * client) and whether the request comes from this box itself (for the owner's setup). The forwarding
 * headers a reverse proxy adds are believed only from the proxies the owner configured as trusted.
 */
import { BlockList, isIP } from 'node:net';
import type { Request } from '@hapi/hapi';

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded'] as const;

/** 127.0.0.0/8 and ::1: a connection from them was opened on this box. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** `::ffff:192.0.2.1` (an IPv4 peer of a dual-stack socket) as `192.0.2.1`; other text unchanged. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function isInside(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The addresses a proxy chain names, client first: X-Forwarded-For's entries, or when only
 * `Forwarded` (RFC 7239) is sent, its `for=` values (quotes, brackets and ports taken off).
 */
function forwardedChain(request: Request): string[] {
  const header = (name: string): string | undefined => {
    const value: unknown = request.headers[name];
    return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined;
  };
  const xForwardedFor = header('x-forwarded-for');
  const forwarded = header('forwarded');
  // Both: one was written by the proxy and the other passed through from the client, and which is
  // which cannot be told; believe neither (the proxy's own address stands for the client).
  if (xForwardedFor !== undefined && forwarded !== undefined) return [];
  if (xForwardedFor !== undefined) return xForwardedFor.split(',').map((entry) => plainAddress(entry.trim()));
  if (forwarded === undefined) return [];
  return forwarded.split(',').map((element) => {
    const pair = element.split(';').map((part) => part.trim()).find((part) => /^for=/i.test(part));
    const value = (pair ?? '').slice(4).replace(/^"|"$/g, '');
    const bracketed = /^\[([^\]]*)\]/.exec(value);
    return plainAddress(bracketed ? bracketed[1] : value.replace(/:\d+$/, ''));
  });
}

/** Tells every route the same thing about where a request came from. */
export class ClientAddresses {
  private readonly trusted = new BlockList();

  /** @param trustedProxies `address/prefix` ranges, as `Config.trustedProxies` holds them */
  constructor(trustedProxies: readonly string[]) {
    for (const range of trustedProxies) {
      const [address, prefix] = range.split('/');
      this.trusted.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /**
   * The client's address: the TCP peer, unless the peer is a trusted proxy; then the right-most
   * address of its forwarding chain that is not itself a trusted proxy (the left ones are whatever
   * the client chose to send). Text that is not an address is returned as it is, so it still keys
   * a rate limit but is never taken for this box.
   */
  of(request: Request): string {
    let client = plainAddress(request.info.remoteAddress);
    if (!isInside(this.trusted, client)) return client;
    const chain = forwardedChain(request);
    for (let index = chain.length - 1; index >= 0; index--) {
      client = chain[index].slice(0, 64);
      if (!isInside(this.trusted, client)) return client;
    }
    return client;
  }

  /**
   * True when the request was sent from this box: its client is a loopback address or the very
   * address it reached (a TCP connection cannot be opened from a forged source address). A request
   * carrying forwarding headers counts only through a trusted proxy, since a proxy on the box
   * connects from loopback on behalf of anyone.
   */
  isLocal(request: Request): boolean {
    const peer = plainAddress(request.info.remoteAddress);
    const forwarded = FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined);
    if (forwarded && !isInside(this.trusted, peer)) return false;
    if (FORWARDING_HEADERS.every((name) => request.headers[name] !== undefined)) return false;
    const client = this.of(request);
    return forwarded ? isInside(LOOPBACK, client) : isOpenedOnThisBox(client, request.raw.req.socket.localAddress);
  }
}

/**
 * True when a TCP connection from `remoteAddress` to `localAddress` was opened on this box: from a
 * loopback address, or from the very address it reached (a forged source cannot complete TCP).
 */
export function isOpenedOnThisBox(remoteAddress: string | undefined, localAddress: string | undefined): boolean {
  const peer = plainAddress(remoteAddress ?? '');
  return isInside(LOOPBACK, peer) || (peer !== '' && peer === plainAddress(localAddress ?? ''));
}
