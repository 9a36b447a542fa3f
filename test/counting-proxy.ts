/**
 * A pass-through HTTP and WebSocket proxy that counts what a client asks of the daemon behind it:
 * each HTTP request and WebSocket upgrade ("GET /api/jobs", "WS /api/ws/status"), and each TCP
 * connection the client opens. When the daemon does not answer, the client's connection is cut,
 * so the client sees the daemon as unreachable, as it would without the proxy.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** Where clients connect instead of the daemon. */
  url: string;
  /** Every request and upgrade since the last `reset()`, as "METHOD /path?query" ("WS /path" for upgrades). */
  requests: string[];
  /** TCP connections opened by clients since the last `reset()`. */
  connections(): number;
  /** Starts counting afresh. */
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (ephemeral port) in front of the daemon at `target` (http://host:port). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const host = upstream.hostname;
  const port = Number(upstream.port);
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();

  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const forward = http.request({ host, port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => request.socket.destroy());
    request.pipe(forward);
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request, socket, head) => {
    requests.push(`WS ${request.url}`);
    const forward = net.connect(port, host, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      forward.write(`${lines.join('\r\n')}\r\n\r\n`);
      forward.write(head);
      forward.pipe(socket);
      socket.pipe(forward);
    });
    forward.on('error', () => socket.destroy());
    socket.on('error', () => forward.destroy());
    socket.on('close', () => forward.destroy());
    forward.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connections: () => connections,
    reset() {
      requests.length = 0;
      connections = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
