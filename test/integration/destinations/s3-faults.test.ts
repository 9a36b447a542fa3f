/**
 * The S3 client when the server misbehaves: s3rver (with real SigV4 checks) behind a front on
 * 127.0.0.1 that passes requests through, or answers some of them itself as a busy, failing or
 * misdirected S3 would.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eachEntry } from '../../../src/destinations/remote/sorted-paths.ts';
import { S3Connection } from '../../../src/destinations/s3/s3-connection.ts';
import { openS3Store, S3Store } from '../../../src/destinations/s3/s3-store.ts';
import { startS3Server, type S3Server } from '../../servers.ts';
import { tlsFront } from '../../tls-front.ts';

/**
 * What the front does with one request: pass it on, pass on the answer cut after its first object
 * (a whole HTTP answer, as from a server failing while it writes its XML), pass on a listing with
 * its keys URL-encoded as AWS and MinIO encode them (s3rver ignores encoding-type), answer it itself
 * (status, headers, body), or drop the connection.
 */
type Answer = 'pass' | 'cut' | 'url-encode' | 'reset' | { status: number; headers?: Record<string, string>; body?: string };

interface Front {
  url: string;
  /** Every request seen, as "METHOD path?query". */
  seen: string[];
  decide: (method: string, url: string) => Answer | Promise<Answer>;
  /** Connections accepted so far. */
  connections: number;
  /** Told when the answer to a request has been sent whole. */
  answered: (method: string, url: string) => void;
  stop(): Promise<void>;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A listing as AWS writes it under encoding-type=url: each key percent-encoded with a space as `+`
 * (measured on s3.ap-northeast-2: `a b.txt` → `a+b.txt`, `a+b.txt` → `a%2Bb.txt`; MinIO's
 * s3URLEncode does the same), `/` kept, and an EncodingType element saying so.
 */
function awsEncodedListing(xml: string): string {
  const encode = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return xml
    .replace(/<Key>([^<]*)<\/Key>/g, (_, key: string) => `<Key>${encode(key.replace(/&(amp|lt|gt|quot|apos);/g, (__, name: string) => XML_ENTITIES[name]))}</Key>`)
    .replace('<IsTruncated>', '<EncodingType>url</EncodingType><IsTruncated>');
}

async function startFront(target: string): Promise<Front> {
  const upstream = new URL(target);
  const front: Front = { url: '', seen: [], connections: 0, decide: () => 'pass', answered: () => undefined, stop: async () => undefined };
  const server = http.createServer(async (request, response) => {
    front.seen.push(`${request.method} ${request.url}`);
    response.on('finish', () => front.answered(request.method!, request.url!));
    const answer = await front.decide(request.method!, request.url!);
    if (answer === 'reset') {
      request.socket.destroy();
      return;
    }
    if (typeof answer === 'object') {
      request.resume();
      response.writeHead(answer.status, { 'content-type': 'application/xml', ...answer.headers });
      response.end(request.method === 'HEAD' ? undefined : answer.body);
      return;
    }
    // The Host header passes unchanged, so the request's signature still matches at s3rver.
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers }, async (reply) => {
      if (answer === 'pass') {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
        return;
      }
      let body = '';
      for await (const chunk of reply) body += chunk;
      const changed = answer === 'cut' ? body.slice(0, body.indexOf('</Contents>') + '</Contents>'.length) : awsEncodedListing(body);
      response.writeHead(reply.statusCode ?? 502, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(changed) });
      response.end(changed);
    });
    forward.on('error', () => request.socket.destroy());
    request.pipe(forward);
  });
  server.on('connection', () => front.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.stop = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return front;
}

const errorBody = (code: string, message: string, extra = '') => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`;

const faults = suite<{ server: S3Server; front: Front; store: S3Store; prefix: number }>('s3 faults');

faults.before(async (context) => {
  context.server = await startS3Server();
  context.front = await startFront(context.server.endpoint);
  context.prefix = 0;
});
faults.after(async (context) => {
  await context.front.stop();
  await context.server.stop();
});
faults.before.each(async (context) => {
  context.front.decide = () => 'pass';
  context.front.answered = () => undefined;
  context.front.seen = [];
  const { server, front } = context;
  context.store = await openS3Store(
    { bucket: server.bucket, prefix: `faults/${++context.prefix}`, region: server.region, endpoint: front.url, storage_class: null },
    { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
  );
});
faults.after.each(async (context) => {
  await context.store.close();
});

const upload = (path: string, content: Buffer, signal = new AbortController().signal) => ({ path, body: Readable.from([content]), size: content.length, mtimeMs: 1_700_000_000_000, signal });
const digest = (content: Buffer) => createHash('sha256').update(content).digest('hex');

faults('a busy server (503 SlowDown) and a connection dropped before an answer are asked again; the file arrives whole', async ({ front, store }) => {
  let puts = 0;
  front.decide = (method) => {
    if (method !== 'PUT') return 'pass';
    puts++;
    if (puts === 1) return { status: 503, body: errorBody('SlowDown', 'Please reduce your request rate.') };
    if (puts === 2) return 'reset';
    return 'pass';
  };
  const content = Buffer.from('the same bytes, the third time');
  await store.put(upload('a.txt', content));
  assert.is(puts, 3);
  assert.is((await store.read('a.txt')).toString(), content.toString());
});

faults('a server failing every time fails the upload after three attempts, with its code, and nothing is stored', async ({ front, store }) => {
  front.decide = (method) => (method === 'PUT' ? { status: 500, body: errorBody('InternalError', 'We encountered an internal error.') } : 'pass');
  const error = await store.put(upload('b.txt', Buffer.from('never'))).catch((caught) => caught);
  assert.is(error.code, 'S3_FAILED');
  assert.ok(error.retryable);
  assert.match(error.message, /InternalError \(HTTP 500\)/);
  assert.is(front.seen.filter((line) => line.startsWith('PUT ')).length, 3);
  front.decide = () => 'pass';
  assert.is(await store.stat('b.txt'), null);
});

faults('files up to a part read in many chunks, eight at once, some refused or asked again, each arrive whole as read', async ({ front, store }) => {
  // Bodies of more than one chunk are gathered into buffers the store keeps and uses again: a
  // buffer given back too early, or shared by two uploads, would send one file's bytes as another's.
  let puts = 0;
  front.decide = (method, url) => {
    if (method !== 'PUT') return 'pass';
    puts++;
    if (url.includes('refused-')) return { status: 403, body: errorBody('AccessDenied', 'Access Denied') };
    return puts % 5 === 0 ? { status: 503, body: errorBody('SlowDown', 'Please reduce your request rate.') } : 'pass';
  };
  const files = Array.from({ length: 24 }, (_, index) => ({ path: `${index % 6 === 0 ? 'refused' : 'file'}-${index}.bin`, content: randomBytes(index % 8 === 7 ? 1024 * 1024 + index * 100_000 : 1000 + index * 40_000) }));
  const inChunks = (content: Buffer) => Readable.from((function* () {
    for (let at = 0; at < content.length; at += 64 * 1024) yield content.subarray(at, at + 64 * 1024);
  })());
  const sending = new Set<Promise<unknown>>();
  const outcomes: Promise<unknown>[] = [];
  for (const file of files) {
    while (sending.size >= 8) await Promise.race(sending);
    const sent: Promise<unknown> = store.put({ ...upload(file.path, file.content), body: inChunks(file.content) }).catch((error) => error).finally(() => sending.delete(sent));
    sending.add(sent);
    outcomes.push(sent);
  }
  const results = await Promise.all(outcomes);
  front.decide = () => 'pass';
  for (const [index, file] of files.entries()) {
    if (file.path.startsWith('refused')) {
      assert.is((results[index] as { code: string }).code, 'PERMISSION_DENIED');
      assert.is(await store.stat(file.path), null);
    } else {
      assert.is(results[index], undefined);
      assert.is(digest(await store.read(file.path)), digest(file.content), file.path);
    }
  }
});

faults('an HTTPS endpoint whose certificate is not trusted is named as such, not retried as a network failure', async ({ server }) => {
  const front = await tlsFront(server.endpoint);
  const store = await openS3Store(
    { bucket: server.bucket, prefix: 'faults/tls', region: server.region, endpoint: front.url, storage_class: null },
    { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
  );
  try {
    const error = await store.stat('x').catch((caught) => caught);
    assert.is(error.code, 'TLS_CERTIFICATE_INVALID');
    assert.match(error.message, new RegExp(`The TLS certificate of ${front.url.replace(/[.]/g, '\\.')} is not trusted \\(`));
  } finally {
    await store.close();
    await front.stop();
  }
});

faults('a refusal is not asked again (403 AccessDenied)', async ({ front, store }) => {
  front.decide = (method) => (method === 'PUT' ? { status: 403, body: errorBody('AccessDenied', 'Access Denied') } : 'pass');
  const error = await store.put(upload('c.txt', Buffer.from('no'))).catch((caught) => caught);
  assert.is(error.code, 'PERMISSION_DENIED');
  assert.is(front.seen.filter((line) => line.startsWith('PUT ')).length, 1);
});

faults('a bucket in another region is named, from a listing and from a HEAD (no body)', async ({ front, store }) => {
  front.decide = () => ({ status: 301, headers: { 'x-amz-bucket-region': 'eu-west-1' }, body: errorBody('PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint.') });
  const listing = await (async () => {
    for await (const entry of eachEntry(store.walk('', new AbortController().signal))) return entry;
  })().catch((caught) => caught);
  assert.is(listing.code, 'WRONG_REGION');
  assert.match(listing.message, /is not in region us-east-1: it is in eu-west-1/);
  const head = await store.stat('x').catch((caught) => caught);
  assert.is(head.code, 'WRONG_REGION');
  assert.match(head.message, /it is in eu-west-1/);
  // Virtual-hosted (AWS without an endpoint): a HEAD signed for the wrong region is a bare 400.
  front.decide = () => ({ status: 400, headers: { 'x-amz-bucket-region': 'eu-west-1' } });
  const virtualHead = await store.stat('x').catch((caught) => caught);
  assert.is(virtualHead.code, 'WRONG_REGION', virtualHead.message);
  assert.match(virtualHead.message, /it is in eu-west-1/);
});

faults('a listing cut short is an error, never a shorter listing', async ({ front, store }) => {
  for (const name of ['one', 'two', 'three']) await store.put(upload(name, Buffer.from(name)));
  const list = async () => {
    const names: string[] = [];
    for await (const [name] of eachEntry(store.walk('', new AbortController().signal))) names.push(name);
    return names;
  };
  front.decide = (method, url) => (method === 'GET' && url.includes('list-type=2') ? 'cut' : 'pass');
  const error = await list().catch((caught) => caught);
  assert.is(error.code, 'S3_FAILED');
  assert.match(error.message, /not S3 XML/);
  front.decide = () => 'pass';
  assert.equal(await list(), ['one', 'three', 'two']);
});

faults('keys with characters that signing encodes (+ ! \' ( ) * ~ % spaces, unicode) go up, list and read back', async ({ store }) => {
  const names = ["a+b.txt", "it's (1)*!.txt", '~tilde', '100% sure', 'sub dir/é ü 写真.jpg', 'semi;colon=eq&amp'];
  for (const name of names) await store.put(upload(name, Buffer.from(`content of ${name}`)));
  const listed: string[] = [];
  for await (const [name, entry] of eachEntry(store.walk('', new AbortController().signal))) {
    listed.push(name);
    assert.is(entry.size, Buffer.byteLength(`content of ${name}`));
  }
  assert.equal(listed, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  for (const name of names) assert.is((await store.read(name)).toString(), `content of ${name}`);
});

faults('a multipart upload (20 MiB) arrives whole; one whose part is refused is aborted and leaves no object', async ({ front, store, prefix }) => {
  const content = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < content.length; i += 4096) content.writeUInt32LE(i, i);
  await store.put(upload('big.bin', content));
  assert.is(digest(await store.read('big.bin')), digest(content));
  assert.is(front.seen.filter((line) => /^PUT .*partNumber=/.test(line)).length, 3);

  front.seen = [];
  front.decide = (method, url) => (method === 'PUT' && url.includes('partNumber=2') ? { status: 403, body: errorBody('AccessDenied', 'Access Denied') } : 'pass');
  const error = await store.put(upload('refused.bin', content)).catch((caught) => caught);
  assert.is(error.code, 'PERMISSION_DENIED');
  const uploadId = /uploadId=([^&]+)/.exec(front.seen.find((line) => line.includes('partNumber=1'))!)![1];
  assert.ok(front.seen.includes(`DELETE /cairn-test/faults/${prefix}/refused.bin?uploadId=${uploadId}`), `an abort was sent: ${front.seen.join(', ')}`);
  front.decide = () => 'pass';
  assert.is(await store.stat('refused.bin'), null);
});

faults('a part refused while the body is still ending fails the upload; the object is never completed without it', async ({ front, store }) => {
  // The sync engine's body ends only after an fs.stat of the source (a file that changed must not
  // go up), so a part can fail while the last read is under way: 16 MiB, then an end that waits.
  const half = Buffer.alloc(8 * 1024 * 1024, 7);
  let partOneAnswered!: () => void;
  const partOneDone = new Promise<void>((resolve) => (partOneAnswered = resolve));
  let partTwoRefused!: () => void;
  const refused = new Promise<void>((resolve) => (partTwoRefused = resolve));
  front.answered = (method, url) => {
    if (method === 'PUT' && url.includes('partNumber=1')) partOneAnswered();
    if (method === 'PUT' && url.includes('partNumber=2')) setTimeout(partTwoRefused, 300);
  };
  front.decide = async (method, url) => {
    if (method !== 'PUT' || !url.includes('partNumber=2')) return 'pass';
    await partOneDone;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { status: 403, body: errorBody('AccessDenied', 'Access Denied') };
  };
  async function* slowEnd() {
    yield half;
    yield half;
    await refused;
  }
  const error = await store.put({ path: 'holed.bin', body: Readable.from(slowEnd()), size: 2 * half.length, mtimeMs: 1_700_000_000_000, signal: new AbortController().signal }).catch((caught) => caught);
  const completions = front.seen.filter((line) => /^POST .*uploadId=/.test(line));
  front.decide = () => 'pass';
  const stored = await store.stat('holed.bin');
  assert.ok(error instanceof Error, `the upload failed (it resolved; ${stored ? `an object of ${stored.size} bytes is stored` : 'nothing stored'})`);
  assert.is((error as { code?: string }).code, 'PERMISSION_DENIED');
  assert.equal(completions, [], 'no completion was sent');
  assert.is(stored, null);
});

faults('a completion answered 200 without its result (S3 cut the request after the status) is a failure, not a stored file', async ({ front, store }) => {
  const content = Buffer.alloc(9 * 1024 * 1024, 1);
  for (const body of ['', '   ', '<?xml version="1.0" encoding="UTF-8"?>\n']) {
    front.seen = [];
    front.decide = (method, url) => (method === 'POST' && url.includes('uploadId=') ? { status: 200, body } : 'pass');
    const error = await store.put(upload('uncompleted.bin', content)).catch((caught) => caught);
    front.decide = () => 'pass';
    assert.ok(error instanceof Error, `a completion answered ${JSON.stringify(body)} failed the upload`);
    assert.is((error as { code?: string }).code, 'S3_FAILED');
    assert.ok((error as { retryable?: boolean }).retryable);
    assert.is(await store.stat('uncompleted.bin'), null);
  }
  // Asked again, as a busy server is: a completion that passes the next time stores the file whole.
  let completions = 0;
  front.decide = (method, url) => (method === 'POST' && url.includes('uploadId=') && ++completions === 1 ? { status: 200, body: '' } : 'pass');
  await store.put(upload('completed.bin', content));
  assert.is(completions, 2);
  assert.is(digest(await store.read('completed.bin')), digest(content));
});

faults('a listing URL-encoded as AWS does (a space as +) lists the names stored, under a prefix with a space too', async ({ server, front, store }) => {
  const names = ['a b.txt', 'a+b.txt', 'run books/x y.txt', '100% sure'];
  const spaced = await openS3Store(
    { bucket: server.bucket, prefix: 'faults/my backups', region: server.region, endpoint: front.url, storage_class: null },
    { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
  );
  try {
    for (const target of [store, spaced]) {
      for (const name of names) await target.put(upload(name, Buffer.from(`content of ${name}`)));
      front.decide = (method, url) => (method === 'GET' && url.includes('list-type=2') ? 'url-encode' : 'pass');
      const listed: string[] = [];
      for await (const [name] of eachEntry(target.walk('', new AbortController().signal))) listed.push(name);
      front.decide = () => 'pass';
      assert.equal(listed, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), target.where(''));
    }
  } finally {
    await spaced.close();
  }
});

faults('a wrong secret is named a refused credential from a HEAD too (no body to say why), as with the SDK', async ({ server, front }) => {
  const wrong = await openS3Store(
    { bucket: server.bucket, prefix: 'faults', region: server.region, endpoint: front.url, storage_class: null },
    { access_key_id: server.accessKeyId, secret_access_key: 'not-the-secret-key' },
  );
  try {
    const head = await wrong.stat('config').catch((caught) => caught);
    assert.is(head.code, 'AUTHENTICATION_FAILED', head.message);
    const get = await wrong.read('config').catch((caught) => caught);
    assert.is(get.code, 'AUTHENTICATION_FAILED', get.message);
    assert.not.match(`${head.message} ${get.message}`, /not-the-secret-key/);
  } finally {
    await wrong.close();
  }
});

faults("a clock an hour off (a Raspberry Pi before network time) is set by the server's, as the SDK did: HEAD, PUT, listing and GET pass", async ({ server, front, prefix }) => {
  const target = { bucket: server.bucket, prefix: `faults/${prefix}`, region: server.region, endpoint: front.url, storage_class: null };
  for (const offset of [-3_600_000, 3_600_000]) {
    const connection = new S3Connection(front.url, server.region, server.bucket, { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, () => Date.now() + offset);
    const store = new S3Store(connection, target);
    try {
      assert.is(await store.stat(`late-${offset}.txt`), null);
      await store.put(upload(`late-${offset}.txt`, Buffer.from('on time')));
      const listed: string[] = [];
      for await (const [name] of eachEntry(store.walk('', new AbortController().signal))) listed.push(name);
      assert.ok(listed.includes(`late-${offset}.txt`));
      assert.is((await store.read(`late-${offset}.txt`)).toString(), 'on time');
    } finally {
      await store.close();
    }
  }
  // s3rver refused the first request of each (403 RequestTimeTooSkewed), and only that one.
  assert.is(front.seen.filter((line) => line.startsWith('HEAD ')).length, 4);
});

faults('ranges read one after another share one kept-alive connection; a 200 that ignored the range is cut, not read to its end', async ({ front, store }) => {
  const content = Buffer.alloc(300_000);
  for (let i = 0; i < content.length; i++) content[i] = i % 251;
  await store.put(upload('ranges.bin', content));
  const before = front.connections;
  for (let i = 0; i < 20; i++) assert.equal(await store.read('ranges.bin', { offset: i * 7000, length: 5000 }), content.subarray(i * 7000, i * 7000 + 5000));
  assert.ok(front.connections - before <= 1, `${front.connections - before} connections for 20 ranges`);
  front.decide = (method) => (method === 'GET' ? { status: 200, body: content.toString('latin1') } : 'pass');
  assert.equal(await store.read('ranges.bin', { offset: 10, length: 5 }), content.subarray(10, 15));
});

faults("a listing of more than one page follows its continuation token (s3rver's is base64, signed and sent encoded) and misses nothing", async ({ front, store }) => {
  const names = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(4, '0')} ${i % 3 === 0 ? 'a+b' : 'é'}.txt`);
  for (let at = 0; at < names.length; at += 16) await Promise.all(names.slice(at, at + 16).map((name) => store.put(upload(name, Buffer.from(name)))));
  for (const answer of ['pass', 'url-encode'] as const) {
    front.seen = [];
    front.decide = (method, url) => (method === 'GET' && url.includes('list-type=2') ? answer : 'pass');
    const listed: string[] = [];
    for await (const [name, entry] of eachEntry(store.walk('many', new AbortController().signal))) {
      listed.push(`many/${name}`);
      assert.is(entry.size, Buffer.byteLength(`many/${name}`));
    }
    assert.equal(listed, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), answer);
    const pages = front.seen.filter((line) => line.includes('list-type=2'));
    assert.is(pages.length, 2, answer);
    assert.match(pages[1], /continuation-token=/);
  }
});

faults('a server not listening for a moment (restarting) is asked again, as the SDK did', async ({ server }) => {
  const upstream = new URL(server.endpoint);
  const proxy = net.createServer((socket) => {
    const out = net.connect(Number(upstream.port), upstream.hostname);
    socket.pipe(out).pipe(socket);
    socket.on('error', () => out.destroy());
    out.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  const store = await openS3Store(
    { bucket: server.bucket, prefix: 'faults/restarting', region: server.region, endpoint: `http://127.0.0.1:${port}`, storage_class: null },
    { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
  );
  let back: Promise<void> | undefined;
  try {
    // Refused now; listening again before the first retry (100–200 ms later).
    back = new Promise<void>((resolve) => setTimeout(() => proxy.listen(port, '127.0.0.1', resolve), 30));
    await store.put(upload('back.txt', Buffer.from('back')));
    assert.is((await store.read('back.txt')).toString(), 'back');
  } finally {
    await store.close();
    await back;
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }
});

faults.run();
