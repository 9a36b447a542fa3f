/**
 * Taking the asked bytes out of an HTTP answer: from a 206's Content-Range start, or from byte 0
 * when a server ignored `Range` and sent the whole file (never the whole body as the range); a body
 * that ends early is REMOTE_FILE_SHORT. And a WebDAV server that ignores `Range`, end to end.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { partialBodyStart, rangeHeader, takeRange } from '../../../src/destinations/remote/read-range.ts';
import { openWebdavStore } from '../../../src/destinations/webdav/webdav-store.ts';

const FILE = randomBytes(100_000);

/** `bytes` as a body arriving in pieces of `piece` bytes. */
async function* body(bytes: Buffer, piece = 7_000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

test('a whole file sent for a range (HTTP 200): exactly the asked bytes', async () => {
  for (const range of [{ offset: 0, length: 10 }, { offset: 6_999, length: 2 }, { offset: 50_000, length: 50_000 }, { offset: 99_999, length: 1 }]) {
    const got = await takeRange(body(FILE), 0, range, 'file');
    assert.ok(got.equals(FILE.subarray(range.offset, range.offset + range.length)), JSON.stringify(range));
  }
});

test('a 206 is read from its Content-Range start, even one that starts before the asked offset', async () => {
  const range = { offset: 30_000, length: 1_000 };
  assert.is(rangeHeader(range), 'bytes=30000-30999');
  assert.is(partialBodyStart('bytes 30000-30999/100000', range, 'file'), 30_000);
  assert.ok((await takeRange(body(FILE.subarray(30_000, 31_000)), 30_000, range, 'file')).equals(FILE.subarray(30_000, 31_000)));
  const earlier = partialBodyStart('bytes 29000-30999/100000', range, 'file');
  assert.ok((await takeRange(body(FILE.subarray(29_000, 31_000)), earlier, range, 'file')).equals(FILE.subarray(30_000, 31_000)));
});

test('a 206 that starts after the asked offset, or has no Content-Range, is refused', () => {
  const range = { offset: 30_000, length: 1_000 };
  assert.throws(() => partialBodyStart('bytes 30001-30999/100000', range, 'file'), /got from 30001/);
  assert.throws(() => partialBodyStart(null, range, 'file'), /206/);
  assert.throws(() => partialBodyStart('bytes */100000', range, 'file'), /206/);
});

test('a body that ends before the range does is REMOTE_FILE_SHORT, naming the file', async () => {
  const error = await takeRange(body(FILE), 0, { offset: 99_990, length: 11 }, 'data/ab/abc').catch((e) => e);
  assert.is(error.code, 'REMOTE_FILE_SHORT');
  assert.match(error.message, 'data/ab/abc');
  const wholly = await takeRange(body(FILE), 0, { offset: 200_000, length: 1 }, 'f').catch((e) => e);
  assert.is(wholly.code, 'REMOTE_FILE_SHORT');
});

test('a WebDAV server that ignores Range: the store reads the asked bytes, not the whole body', async () => {
  const server = http.createServer((request, response) => {
    if (request.method === 'PROPFIND') {
      response.writeHead(207, { 'Content-Type': 'application/xml' });
      response.end('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>');
    } else if (request.url === '/repo/file' && request.method === 'GET') {
      response.writeHead(200, { 'Content-Length': String(FILE.length) });
      response.end(FILE);
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const store = await openWebdavStore({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, remote_path: 'repo' }, { username: 'u', password: 'p' });
    const got = await store.read('file', { offset: 40_000, length: 123 });
    assert.ok(got.equals(FILE.subarray(40_000, 40_123)));
    const short = await store.read('file', { offset: 99_000, length: 2_000 }).catch((e) => e);
    assert.is(short.code, 'REMOTE_FILE_SHORT');
    const missing = await store.read('nothing', { offset: 0, length: 1 }).catch((e) => e);
    assert.is(missing.code, 'REMOTE_FILE_MISSING');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test.run();
