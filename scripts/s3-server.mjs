#!/usr/bin/env node
// A real S3 server for the tests: s3rver on 127.0.0.1, storing into DIR, with the bucket
// `cairn-test` made at start. Prints "s3rver listening on http://127.0.0.1:PORT" once it accepts
// requests (PORT 0: the kernel picks one). Ends on SIGTERM/SIGINT.
// Usage: node --openssl-legacy-provider scripts/s3-server.mjs DIR PORT [--loose-auth]
// (s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 has only in its
// legacy provider: without it, every truncated listing is a 500.)
//
// s3rver checks only the access key id of SigV4 requests (any secret passes), so in front of it
// this server verifies header-signed SigV4 requests itself, like S3: a wrong secret gets 403
// SignatureDoesNotMatch, an unknown key 403 InvalidAccessKeyId, an unsigned request 403
// AccessDenied. --loose-auth leaves authentication to s3rver alone. The credentials are s3rver's:
// access key id S3RVER, secret S3RVER.
import { createCipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';

const [dirArg, portArg, ...flags] = process.argv.slice(2);
if (!dirArg || portArg === undefined || !/^\d+$/.test(portArg)) {
  console.error('usage: node scripts/s3-server.mjs DIR PORT [--loose-auth]');
  process.exit(2);
}
try {
  createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
} catch {
  console.error('s3rver needs DES for listing continuation tokens: run node with --openssl-legacy-provider');
  process.exit(1);
}
const directory = path.resolve(dirArg);
const looseAuth = flags.includes('--loose-auth');
const BUCKET = 'cairn-test';
const CREDENTIALS = new Map([['S3RVER', 'S3RVER']]);
mkdirSync(directory, { recursive: true });

const s3rver = new S3rver({
  address: '127.0.0.1',
  port: Number(portArg),
  directory,
  silent: false,
  vhostBuckets: false,
  configureBuckets: [{ name: BUCKET }],
});

/** RFC 3986 encoding, as SigV4 wants it for query names and values. */
const encode = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const decode = (text) => {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
};
const hmac = (key, text) => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Why the request's header SigV4 signature is wrong (an S3 error code and message), or null when it is right. */
function signatureProblem(req) {
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    const query = new URL(req.url, 'http://x').searchParams;
    if (query.has('X-Amz-Signature') || query.has('Signature')) return null; // presigned URLs: s3rver's own check
    return ['AccessDenied', 'Access Denied'];
  }
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) return null; // SigV2: s3rver checks those itself
  const fields = Object.fromEntries(
    authorization
      .slice('AWS4-HMAC-SHA256 '.length)
      .split(',')
      .map((part) => part.trim().split('=', 2))
      .map(([key, value]) => [key, value ?? '']),
  );
  const [accessKeyId, date, region, service, terminator] = (fields.Credential ?? '').split('/');
  const secret = CREDENTIALS.get(accessKeyId);
  if (secret === undefined) return ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  const amzDate = req.headers['x-amz-date'];
  const signedHeaders = (fields.SignedHeaders ?? '').split(';').filter(Boolean);
  if (!date || !region || !service || terminator !== 'aws4_request' || !amzDate || !fields.Signature || !signedHeaders.includes('host')) {
    return ['AuthorizationHeaderMalformed', 'The authorization header is malformed.'];
  }
  const [rawPath, rawQuery = ''] = req.url.split(/\?(.*)/s);
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name, value = ''] = pair.split(/=(.*)/s);
      return [encode(decode(name)), encode(decode(value))];
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = signedHeaders.map((name) => {
    const value = req.headers[name];
    return `${name}:${String(Array.isArray(value) ? value.join(',') : value ?? '').trim().replace(/\s+/g, ' ')}\n`;
  });
  const payloadHash = req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [req.method, rawPath, query, headers.join(''), signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const provided = Buffer.from(fields.Signature);
  if (expected.length === provided.length && timingSafeEqual(expected, provided)) return null;
  return ['SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
}

const xmlEscape = (text) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

await s3rver.configureBuckets();
const handle = s3rver.callback();
const server = http.createServer((req, res) => {
  const problem = looseAuth ? null : signatureProblem(req);
  if (problem === null) {
    // S3 URL-decodes x-amz-copy-source fully; s3rver only with decodeURI, which keeps %2F, %2B,
    // %26... as they are. Hand it a form that decodeURI turns back into the key.
    const copySource = req.headers['x-amz-copy-source'];
    if (typeof copySource === 'string') {
      try {
        req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(copySource));
      } catch {
        // not valid percent-encoding: s3rver answers for it
      }
    }
    return handle(req, res);
  }
  const [code, message] = problem;
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(req.method === 'HEAD' ? undefined : body);
  req.resume();
});
server.listen(Number(portArg), '127.0.0.1', () => {
  console.log(`s3rver listening on http://127.0.0.1:${server.address().port} (directory ${directory}, bucket ${BUCKET})`);
});
server.on('error', (error) => {
  console.error(`s3rver could not listen: ${error.message}`);
  process.exit(error.code === 'EADDRINUSE' ? 3 : 1);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
