/**
 * An HTTPS client that trusts exactly one certificate fingerprint, as a phone app that pinned the box
 * does: it completes the TLS handshake without judging the chain, compares the certificate's SHA-256
 * with the pin, and sends the request only when they match. Keeps the session cookie like ApiClient.
 */
import https from 'node:https';
import tls from 'node:tls';
import WebSocket from 'ws';

/** Thrown before any byte of a request is sent, when the server's certificate is not the pinned one. */
export class PinMismatch extends Error {
  constructor(readonly served: string) {
    super(`the server's certificate ${served} is not the pinned one`);
  }
}

/** A TLS connection to `host:port` whose certificate has the SHA-256 fingerprint `pin` (colon hex), or a PinMismatch. */
export function pinnedConnection(host: string, port: number, pin: string, alpn = ['http/1.1']): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // The pin is the trust: the chain (self-signed) and the names are not judged, the key is.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: alpn, servername: host.includes(':') || /^\d/.test(host) ? undefined : host });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const served = socket.getPeerCertificate().fingerprint256;
      if (served === pin) return resolve(socket);
      socket.destroy();
      reject(new PinMismatch(served));
    });
  });
}

export interface PinnedResponse {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** Talks to the API at `baseUrl` (https://host:port) over connections pinned to `pin`. */
export class PinnedClient {
  cookie: string | null = null;
  bearer: string | null = null;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    readonly pin: string,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port);
  }

  async request(method: string, path: string, body?: unknown): Promise<PinnedResponse> {
    const socket = await pinnedConnection(this.host, this.port, this.pin);
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `token=${this.cookie}`;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const request = https.request({ method, path, host: this.host, port: this.port, headers, createConnection: () => socket }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          for (const cookie of ([] as string[]).concat(response.headers['set-cookie'] ?? [])) {
            const match = cookie.match(/^token=([^;]*)/);
            if (match) this.cookie = match[1] === '' ? null : match[1];
          }
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: response.statusCode ?? 0, body: parsed, headers: response.headers });
        });
      });
      request.on('error', reject);
      request.end(payload);
    });
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body?: unknown) {
    return this.request('POST', path, body);
  }

  /** A WebSocket (wss) to `path` over a pinned connection, authenticated with the client's session; resolves once open. */
  async webSocket(path: string): Promise<WebSocket> {
    const socket = await pinnedConnection(this.host, this.port, this.pin);
    const headers: Record<string, string> = this.bearer ? { authorization: `Bearer ${this.bearer}` } : this.cookie ? { cookie: `token=${this.cookie}` } : {};
    const ws = new WebSocket(`wss://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}${path}`, { headers, createConnection: () => socket });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`WebSocket refused: ${response.statusCode}`)));
    });
    return ws;
  }
}
