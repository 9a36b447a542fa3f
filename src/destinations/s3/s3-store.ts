/**
 * A bucket (and key prefix) on S3 or an S3-compatible server. An object appears only when its upload
 * is complete (one PUT, or a multipart upload completed or aborted), so no partial name is needed.
 * Listings carry no source mtime: the engine's record of sent files tells what changed.
 */
import type { Readable } from 'node:stream';
import { CairnError } from '../../domain/errors.ts';
import { certificateRefused, connectionError, credentialRefused } from '../remote/connection-errors.ts';
import { joinRemote, type RemoteEntry, type RemoteStore, type RemoteUpload } from '../remote/remote-store.ts';
import { fileMissing, fileShort, partialBodyStart, rangeHeader, takeRange, takeWhole, type ByteRange } from '../remote/read-range.ts';
import { BodyBuffers } from './body-buffers.ts';
import { S3Connection, S3Error } from './s3-connection.ts';
import { completeUploadBody, readListingPage, readUploadId, type ListingPage } from './s3-xml.ts';

export interface S3Target {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | null;
  storage_class: string | null;
}

/** Parts of a multipart upload: memory held per file is at most PART_BYTES × PARTS_AT_ONCE (below 80 GiB). */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 2;
/** S3 takes at most 10,000 parts: 8 MiB ones carry a file of up to 80 GiB. */
const MAX_PARTS = 10_000;

/** The part size for a file of `size` bytes: 8 MiB, or whole MiBs enough to stay within S3's 10,000 parts. */
export function partBytesFor(size: number): number {
  const mib = 1024 * 1024;
  return Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS / mib) * mib);
}
/**
 * Files below a part's size go up in one PutObject, read whole first, into a buffer kept for the
 * next file (body-buffers.ts): 1 MiB ones for files below this size, of which the engine sends at
 * most eight at once (8 MiB), part-sized ones for the rest, four at once (two slots each); larger
 * files are read a part at a time.
 */
const ONE_PUT_BYTES = 1024 * 1024;
/** How many buffers of each size are kept: as many bodies as the engine sends at once. */
const SMALL_BODIES_AT_ONCE = 8;
const LARGE_BODIES_AT_ONCE = 4;
/** How long the clean-up of a failed multipart upload may take: it must not hold up the error for long. */
const CLEANUP_TIMEOUT_MS = 5_000;

export async function openS3Store(target: S3Target, secret: Record<string, string> | null): Promise<S3Store> {
  if (!secret?.access_key_id || !secret.secret_access_key) {
    throw new CairnError('invalid', 'CREDENTIAL_INCOMPLETE', 'The credential needs "access_key_id" and "secret_access_key"');
  }
  const connection = new S3Connection(target.endpoint, target.region, target.bucket, {
    accessKeyId: secret.access_key_id,
    secretAccessKey: secret.secret_access_key,
    ...(secret.session_token ? { sessionToken: secret.session_token } : {}),
  });
  return new S3Store(connection, target);
}

export class S3Store implements RemoteStore {
  private readonly root: string;
  private readonly smallBodies = new BodyBuffers(ONE_PUT_BYTES, SMALL_BODIES_AT_ONCE);
  /** Files of 1 MiB up to one part (a photo, say): one PUT too, from a buffer of a part's size. */
  private readonly onePartBodies = new BodyBuffers(PART_BYTES, LARGE_BODIES_AT_ONCE);

  constructor(
    private readonly connection: S3Connection,
    private readonly target: S3Target,
  ) {
    const prefix = joinRemote(target.prefix);
    this.root = prefix ? `${prefix}/` : '';
  }

  where(path: string): string {
    return `s3://${this.target.bucket}/${this.root}${path}`;
  }

  /** S3 lists keys in path order already, a page of 1,000 at a time (a batch each): the next page is asked for while one is used. */
  async *walk(folder: string, signal: AbortSignal): AsyncGenerator<Array<[string, RemoteEntry]>> {
    const prefix = `${this.root}${joinRemote(folder)}${folder ? '/' : ''}`;
    const doing = `listing ${this.where(folder)}`;
    const pageAfter = (token: string | null) => {
      const query: [string, string][] = [['list-type', '2'], ['prefix', prefix], ['encoding-type', 'url']];
      if (token !== null) query.push(['continuation-token', token]);
      const page = this.connection.result({ method: 'GET', key: null, query, signal }, readListingPage, 'ListBucketResult').catch((error) => {
        throw this.failure(error, doing, signal);
      });
      page.catch(() => undefined);
      return page;
    };
    for (let next: Promise<ListingPage> | null = pageAfter(null); next; ) {
      const page: ListingPage = await next;
      next = page.next !== null ? pageAfter(page.next) : null;
      const files: Array<[string, RemoteEntry]> = [];
      for (const object of page.objects) {
        if (object.key.endsWith('/') || !object.key.startsWith(prefix)) continue;
        files.push([object.key.slice(prefix.length), { size: object.size }]);
      }
      if (files.length > 0) yield files;
    }
  }

  async put(file: RemoteUpload): Promise<void> {
    const { path, body, signal } = file;
    try {
      if (file.size < PART_BYTES) {
        // A body that fails (a changed source) before its last byte is read sends nothing.
        const whole = await (file.size < ONE_PUT_BYTES ? this.smallBodies : this.onePartBodies).gather(body);
        try {
          signal.throwIfAborted();
          await this.putWhole(path, whole.content, file.mtimeMs, signal);
        } finally {
          whole.release();
        }
        return;
      }
      const parts = partsOf(body, partBytesFor(file.size));
      const first = await parts.next();
      signal.throwIfAborted();
      const content = first.done ? Buffer.alloc(0) : first.value;
      const second = first.done ? first : await parts.next();
      // A body that fails (a changed source) before its last byte is read sends nothing.
      if (second.done) await this.putWhole(path, content, file.mtimeMs, signal);
      else await this.putInParts(path, file.mtimeMs, signal, content, second.value, parts);
    } catch (error) {
      body.destroy();
      throw this.failure(error, `writing ${this.where(path)}`, signal);
    }
  }

  private async putWhole(path: string, content: Buffer, mtimeMs: number, signal: AbortSignal): Promise<void> {
    await this.connection.send({ method: 'PUT', key: this.root + path, headers: this.objectHeaders(mtimeMs), body: content, signal }).then(drain);
  }

  /**
   * A multipart upload, PARTS_AT_ONCE parts sent at once and no more read ahead; aborted when
   * anything fails, so no part is left stored (and billed) at the server.
   */
  private async putInParts(path: string, mtimeMs: number, signal: AbortSignal, first: Buffer, second: Buffer, rest: AsyncGenerator<Buffer>): Promise<void> {
    const key = this.root + path;
    const uploadId = await this.connection.result({ method: 'POST', key, query: [['uploads', '']], headers: this.objectHeaders(mtimeMs), signal }, readUploadId, 'InitiateMultipartUploadResult');
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const etags: string[] = [];
    const sending = new Set<Promise<void>>();
    // The first part that failed. A part can fail while no one waits on it (the body's last read is
    // under way): it must still fail the upload, or the completion would list the parts that went
    // up and S3 would store the file with a part missing.
    let failed: { error: unknown } | null = null;
    const throwIfFailed = () => {
      if (failed) throw failed.error;
    };
    const sendPart = (number: number, content: Buffer) => {
      const sent: Promise<void> = this.connection
        .send({ method: 'PUT', key, query: [['partNumber', String(number)], ['uploadId', uploadId]], body: content, signal: stop.signal })
        .then((response) => {
          drain(response);
          const etag = response.headers.etag;
          if (!etag) throw new CairnError('unavailable', 'S3_FAILED', `The server gave no ETag for part ${number}`, { retryable: true });
          etags[number - 1] = etag;
        })
        .catch((error) => {
          failed ??= { error };
          stop.abort();
        })
        .finally(() => sending.delete(sent));
      sending.add(sent);
    };
    try {
      sendPart(1, first);
      sendPart(2, second);
      let number = 2;
      for (;;) {
        while (sending.size >= PARTS_AT_ONCE) await Promise.race(sending);
        throwIfFailed();
        const next = await rest.next();
        throwIfFailed();
        if (next.done) break;
        sendPart(++number, next.value);
      }
      await Promise.all(sending);
      throwIfFailed();
      // filter, not some: a hole in the array (a part never answered) is what this must catch.
      if (etags.filter(Boolean).length !== number) throw new CairnError('unavailable', 'S3_FAILED', `Only some of the ${number} parts went up`, { retryable: true });
      // S3 answers 200 at once and only then completes: the body says whether it did.
      const completed = (text: string) => (text.includes('<CompleteMultipartUploadResult') ? text : null);
      await this.connection.result({ method: 'POST', key, query: [['uploadId', uploadId]], headers: { 'content-type': 'application/xml' }, body: Buffer.from(completeUploadBody(etags)), signal }, completed, 'CompleteMultipartUploadResult');
    } catch (error) {
      stop.abort();
      await Promise.allSettled(sending);
      await this.connection.send({ method: 'DELETE', key, query: [['uploadId', uploadId]], signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) }).then(drain, () => undefined);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** What every upload of a file sets, whichever way it goes up. */
  private objectHeaders(mtimeMs: number): Record<string, string> {
    return {
      'content-type': 'application/octet-stream',
      ...(this.target.storage_class ? { 'x-amz-storage-class': this.target.storage_class } : {}),
      // rclone's name for it, so other tools read the source's time too.
      'x-amz-meta-mtime': (mtimeMs / 1000).toFixed(3),
    };
  }

  async remove(path: string): Promise<void> {
    await this.connection.send({ method: 'DELETE', key: this.root + path }).then(drain, (error) => {
      if (error instanceof S3Error && error.code === 'NoSuchKey') return;
      throw this.failure(error, `deleting ${this.where(path)}`);
    });
  }

  async get(path: string, signal: AbortSignal): Promise<Readable> {
    return this.connection.send({ method: 'GET', key: this.root + path, signal }).catch((error) => {
      throw this.failure(error, `reading ${this.where(path)}`, signal);
    });
  }

  /** One GetObject, with `Range` when a range is asked: a 206 is read from its Content-Range, a 200 (no range support) from byte 0. */
  async read(path: string, range?: ByteRange): Promise<Buffer> {
    const where = this.where(path);
    const body = await this.connection.send({ method: 'GET', key: this.root + path, ...(range ? { headers: { range: rangeHeader(range) } } : {}) }).catch((error) => {
      if (error instanceof S3Error && error.code === 'NoSuchKey') throw fileMissing(where);
      if (range && error instanceof S3Error && (error.code === 'InvalidRange' || error.status === 416)) throw fileShort(where, range);
      throw this.failure(error, `reading ${where}`);
    });
    try {
      if (!range) return await takeWhole(body, lengthOf(body.headers['content-length']), where);
      const start = body.statusCode === 206 ? partialBodyStart(body.headers['content-range'], range, where) : 0;
      // Not ended by takeRange's early return: a 206 read to its last byte keeps its connection.
      return await takeRange(body.iterator({ destroyOnReturn: false }), start, range, where);
    } catch (error) {
      throw this.failure(error, `reading ${where}`);
    } finally {
      // A body the server has sent whole is let end, and its connection serves the next request (a
      // repository's reads are ranges: each one a new connection, a TLS handshake on AWS, before);
      // one with more to come (a 200 that ignored the range) is cut.
      if (body.complete) drain(body);
      else body.destroy();
    }
  }

  async stat(path: string): Promise<{ size: number } | null> {
    try {
      const head = await this.connection.send({ method: 'HEAD', key: this.root + path });
      drain(head);
      return { size: lengthOf(head.headers['content-length']) ?? 0 };
    } catch (error) {
      // A HEAD has no body, so a missing key comes back as a bare 404 (`NotFound`), not `NoSuchKey`.
      if (error instanceof S3Error && (error.code === 'NotFound' || error.code === 'NoSuchKey')) return null;
      throw this.failure(error, `reading the size of ${this.where(path)}`);
    }
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  private failure(error: unknown, doing: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof CairnError) return error;
    const endpoint = this.target.endpoint ?? `S3 (${this.target.region})`;
    if (!(error instanceof S3Error)) {
      if ((error as NodeJS.ErrnoException).code === 'S3_IDLE_TIMEOUT') {
        return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `Timed out waiting for ${endpoint} while ${doing}`, { retryable: true });
      }
      return (
        certificateRefused(error, endpoint, doing) ??
        connectionError(error, endpoint) ??
        new CairnError('unavailable', 'S3_FAILED', `S3 request to ${endpoint} failed while ${doing}: ${(error as Error).message}`, { retryable: true })
      );
    }
    const { code, status } = error;
    if (code === 'RequestTimeTooSkewed') {
      return new CairnError('unavailable', 'S3_FAILED', `${endpoint} refused the request while ${doing}: this machine's clock is more than 15 minutes off the server's (is network time set?)`, { retryable: true });
    }
    if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || (status === 403 && code === 'Unknown') || status === 401) {
      return credentialRefused(`Access denied: invalid credentials (${code === 'Unknown' ? 'HTTP 403' : code}) while ${doing}`);
    }
    if (code === 'AccessDenied' || status === 403) return new CairnError('forbidden', 'PERMISSION_DENIED', `Access denied while ${doing}: the credentials lack permission`);
    if (code === 'NoSuchKey') return new CairnError('not_found', 'REMOTE_PATH_MISSING', `No such object while ${doing}`);
    if (code === 'NoSuchBucket') return new CairnError('not_found', 'REMOTE_PATH_MISSING', `The bucket "${this.target.bucket}" does not exist at ${endpoint}`);
    // On AWS a request signed for another region than the bucket's is a 301 (path style) or a 400
    // (virtual-hosted: AuthorizationHeaderMalformed, or to a HEAD a bare 400 with x-amz-bucket-region).
    const elsewhere = status === 400 && error.region !== null && error.region !== this.target.region;
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301 || elsewhere) {
      const where = error.region ? `it is in ${error.region}` : error.message;
      return new CairnError('invalid', 'WRONG_REGION', `The bucket "${this.target.bucket}" is not in region ${this.target.region}: ${where}`);
    }
    return new CairnError('unavailable', 'S3_FAILED', `S3 error while ${doing}: ${code}${status !== 200 ? ` (HTTP ${status})` : ''}: ${error.message}`, { retryable: true });
  }
}

/**
 * The bytes of `body` in buffers of `size` bytes (the last one shorter; none for an empty body),
 * each read only when asked for: a part is in memory only while it is sent.
 */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let part: Buffer[] = [];
  let filled = 0;
  for await (const read of body) {
    let chunk = read as Buffer;
    while (filled + chunk.length >= size) {
      const take = size - filled;
      part.push(chunk.subarray(0, take));
      yield Buffer.concat(part, size);
      chunk = chunk.subarray(take);
      part = [];
      filled = 0;
    }
    if (chunk.length > 0) {
      part.push(chunk);
      filled += chunk.length;
    }
  }
  if (filled > 0) yield Buffer.concat(part, filled);
}

/** A Content-Length header as a number, or null when there is none (or it is not one). */
function lengthOf(header: string | undefined): number | null {
  const length = Number(header);
  return header !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : null;
}

/** An answer whose body is not wanted, read to its end so its connection is kept for the next request. */
function drain(response: { resume(): unknown }): void {
  response.resume();
}
