/**
 * A cap on the connections one client address holds open (issue 11: a client bug opened ~8,700
 * sockets and the daemon stopped answering). A connection over the cap is not dropped unseen: its
 * first request is answered 429 in the contract's shape and the connection is closed; one that sends
 * nothing is closed after a short grace. Keyed on the socket's address, not on X-Forwarded-For,
 * which the client writes itself.
 */
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Plugin } from '@hapi/hapi';
import { CairnError } from '../../domain/errors.ts';
import { ClientSlots } from '../client-slots.ts';

/** How long a refused connection may take to send the request its 429 answers. */
export const REFUSED_GRACE_MS = 5000;

/** The error a client over a per-client cap is answered with (connections or WebSockets). */
export function tooMany(code: 'TOO_MANY_CONNECTIONS' | 'TOO_MANY_WEBSOCKETS', what: string, limit: number): CairnError {
  return new CairnError('rate_limited', code, `This client already has ${limit} ${what} open to Cairn, the most it may; close some and try again.`, {
    retryAfter: 1,
    retryable: true,
  });
}

/** Counts each client's open connections on a listener and marks the ones over `perClient`. */
export class ConnectionLimit {
  private readonly slots: ClientSlots;
  private readonly refused = new WeakSet<Duplex>();

  constructor(
    readonly perClient: number,
    private readonly refusedGraceMs = REFUSED_GRACE_MS,
  ) {
    this.slots = new ClientSlots(perClient);
  }

  /** Counts every connection `listener` accepts from now on. */
  watch(listener: NetServer): void {
    listener.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress;
      // No address: the peer is already gone and the socket closing.
      if (address === undefined || this.slots.holdUntilClosed(address, socket)) return;
      this.refused.add(socket);
      const timer = setTimeout(() => socket.destroy(), this.refusedGraceMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    });
  }

  /** False for a connection over its client's cap: answer it `tooMany(...)` and close it. */
  admits(socket: Duplex): boolean {
    return !this.refused.has(socket);
  }
}

/** Watches the server's listener and answers every request on a refused connection 429, then closes it. */
export function connectionLimitPlugin(limit: ConnectionLimit): Plugin<void> {
  return {
    name: 'cairn-connection-limit',
    register(server) {
      limit.watch(server.listener);
      server.ext('onRequest', (request, h) => {
        if (limit.admits(request.raw.req.socket)) return h.continue;
        request.raw.res.shouldKeepAlive = false;
        throw tooMany('TOO_MANY_CONNECTIONS', 'connections', limit.perClient);
      });
    },
  };
}
