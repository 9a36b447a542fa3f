/**
 * An HTTPS front for a plain HTTP test server, for clients that must not speak plain HTTP to it:
 * restic's S3 library signs uploads over plain HTTP as aws-chunked streams, which s3rver stores with
 * the chunk framing in the object.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from './helpers.ts';

/** An HTTPS front for the HTTP server at `target` (a self-signed certificate for 127.0.0.1, in `caFile`). */
export async function tlsFront(target: string): Promise<{ url: string; caFile: string; stop(): Promise<void> }> {
  const dir = tempDir('cairn-tls-front-');
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const upstream = new URL(target);
  // The Host header passes unchanged, so the request's signature still matches at s3rver.
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => request.socket.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caFile: cert,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
