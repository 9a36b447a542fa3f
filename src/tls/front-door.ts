/**
 * The API's one port, serving HTTPS and plain HTTP side by side: a TLS client's first byte is a
 * handshake record (0x16), which no HTTP request begins with, so each connection is told apart by
 * its first byte, decrypted when it is TLS, and handed to the one HTTP server (hapi's listener),
 * whose requests and WebSocket upgrades then go the same way either way (`socket.encrypted` tells).
 *
 * Plain connections the owner did not allow (from another computer, when plain HTTP is limited to
 * loopback) never reach the API: a small server answers each of their requests 403 `HTTPS_REQUIRED`
 * in the contract's error shape and closes them.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { forbidden } from '../domain/errors.ts';

/** The first byte of a TLS handshake record (RFC 8446 §5.1, and every SSL/TLS version before it). */
const TLS_HANDSHAKE = 0x16;

export interface FrontDoorOptions {
  host: string;
  port: number;
  /** The HTTP server every admitted connection is given to; it must not listen itself. */
  server: http.Server;
  /** The certificate and key to serve; null serves plain HTTP only. */
  secureContext: tls.SecureContext | null;
  /** Whether a plain (unencrypted) connection may reach `server`; else it is answered 403. */
  admitsPlain(socket: net.Socket): boolean;
  /** What the 403 tells a plain client that was not admitted. */
  refusal: string;
  /**
   * A connection must send its first byte, and a TLS one finish its handshake, within this long, or
   * it is closed: the HTTP server's own deadlines only start with the first byte of a request.
   */
  greetingTimeoutMs: number;
}

/** The listening port. */
export interface FrontDoor {
  /** The address and port bound (the port chosen when 0 was asked). */
  address(): { host: string; port: number };
  /**
   * Stops accepting, closes idle keep-alive connections, and after `graceMs` destroys the
   * connections still open; resolves when every connection is gone.
   */
  close(graceMs: number): Promise<void>;
}

/** Listens on `host:port` and serves every connection as described above. */
export async function openFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const sockets = new Set<net.Socket>();
  const refusals = refusingServer(options.refusal);
  const door = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(options.greetingTimeoutMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      dispatch(socket, chunk[0] === TLS_HANDSHAKE);
    });
  });

  const dispatch = (socket: net.Socket, isTls: boolean) => {
    if (isTls && options.secureContext) {
      // The TLS socket reads what was put back first, then the rest from the connection.
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: options.secureContext, ALPNProtocols: ['http/1.1'] });
      secure.on('error', () => secure.destroy());
      const handshake = setTimeout(() => secure.destroy(), options.greetingTimeoutMs);
      secure.once('secure', () => clearTimeout(handshake));
      secure.once('close', () => clearTimeout(handshake));
      options.server.emit('connection', secure);
      return;
    }
    (!isTls && options.admitsPlain(socket) ? options.server : refusals).emit('connection', socket);
    // Paused to put the first bytes back; the HTTP server reads them first once it flows.
    socket.resume();
  };

  await new Promise<void>((resolve, reject) => {
    door.once('error', reject);
    door.listen(options.port, options.host, () => {
      door.off('error', reject);
      resolve();
    });
  });
  // The HTTP server never listens itself, so it is told it listens where the door does: Node starts
  // its request deadlines (headersTimeout, requestTimeout) and its list of connections (which
  // closeIdleConnections uses) on 'listening', and hapi reads its address then.
  options.server.address = () => door.address();
  options.server.emit('listening');

  return {
    address() {
      const bound = door.address() as net.AddressInfo;
      return { host: options.host, port: bound.port };
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => door.close(() => resolve()));
      options.server.closeIdleConnections();
      refusals.closeAllConnections();
      if (sockets.size > 0) {
        const gone = Promise.all([...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve))));
        const timer = setTimeout(() => sockets.forEach((socket) => socket.destroy()), graceMs);
        await gone;
        clearTimeout(timer);
      }
      await closed;
    },
  };
}

/**
 * Answers every request and WebSocket upgrade 403 with `message` and closes the connection. A TLS
 * handshake sent to a daemon with HTTPS off gets no answer it could read, and is closed.
 */
function refusingServer(message: string): http.Server {
  const error = forbidden('HTTPS_REQUIRED', message);
  const body = JSON.stringify({ error: 'Forbidden', message: error.message, code: error.code });
  const head = `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 10_000 }, (_request, response) => {
    response.writeHead(403, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
    response.end(body);
  });
  server.on('upgrade', (_request, socket) => socket.end(head + body));
  server.on('clientError', (_error, socket) => socket.destroy());
  return server;
}
