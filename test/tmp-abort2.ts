import { Readable } from 'node:stream';
import { startS3Server } from './servers.ts';
import { openS3Store } from '../src/destinations/s3/s3-store.ts';
import { S3Connection } from '../src/destinations/s3/s3-connection.ts';
const t0 = Date.now();
const original = (S3Connection.prototype as any).attempt;
(S3Connection.prototype as any).attempt = function (request: any, hash: string) {
  const label = `${request.method} ${request.key} ${JSON.stringify(request.query ?? [])}`;
  console.log(Date.now() - t0, 'send', label);
  return original.call(this, request, hash).then((r: any) => { console.log(Date.now() - t0, 'answer', r.statusCode, label); return r; }, (e: any) => { console.log(Date.now() - t0, 'error', e.message, label); throw e; });
};
const server = await startS3Server();
const store = await openS3Store({ bucket: server.bucket, prefix: 'a', region: server.region, endpoint: server.endpoint, storage_class: null }, { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey });
const content = Buffer.alloc(40 * 1024 * 1024, 5);
for (const delay of [300, 400]) {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => { console.log(Date.now() - t0, 'ABORT'); controller.abort(new Error(`cancelled at ${delay}`)); }, delay);
  const result = await store.put({ path: `big-${delay}`, body: Readable.from([content]), size: content.length, mtimeMs: 0, signal: controller.signal }).then(() => 'resolved', (e) => `rejected: ${e.message}`);
  console.log(delay, result, Date.now() - started, 'ms', 'stat:', JSON.stringify(await store.stat(`big-${delay}`)));
}
await store.close();
await server.stop();
