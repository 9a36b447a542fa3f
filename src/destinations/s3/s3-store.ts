/**
 * A bucket (and key prefix) on S3 or an S3-compatible server. An object appears only when its upload
 * is complete (one PUT, or a multipart upload completed or aborted), so no partial name is needed.
 * Listings carry no source mtime: the engine's record of sent files tells what changed.
 */
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, PutObjectCommand, S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CairnError } from '../../domain/errors.ts';
import { connectionError, credentialRefused } from '../remote/connection-errors.ts';
import { joinRemote, type RemoteEntry, type RemoteStore, type RemoteUpload } from '../remote/remote-store.ts';
import { fileMissing, fileShort, partialBodyStart, rangeHeader, takeRange, takeWhole, type ByteRange } from '../remote/read-range.ts';

export interface S3Target {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | null;
  storage_class: string | null;
}

// The SDK warns on Node 20 that releases after January 2027 will need Node 22; the lock file pins
// this release, so the warning would only be noise in the daemon's log at every first S3 run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Parts of a multipart upload: memory held per file is at most PART_BYTES × PARTS_AT_ONCE. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 2;
/**
 * Files below this size go up in one PutObject from a buffer: lib-storage's Upload (which buffers
 * them whole too) cost ~0.65 ms more CPU per file, a third of a small file's S3 share (issue 17).
 * The engine sends at most eight of them at once, so this holds at most 8 MiB.
 */
const ONE_PUT_BYTES = 1024 * 1024;

export async function openS3Store(target: S3Target, secret: Record<string, string> | null): Promise<S3Store> {
  if (!secret?.access_key_id || !secret.secret_access_key) {
    throw new CairnError('invalid', 'CREDENTIAL_INCOMPLETE', 'The credential needs "access_key_id" and "secret_access_key"');
  }
  const client = new S3Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    credentials: { accessKeyId: secret.access_key_id, secretAccessKey: secret.secret_access_key, ...(secret.session_token ? { sessionToken: secret.session_token } : {}) },
    // S3-compatible servers (MinIO, Garage, Backblaze, s3rver …) often reject the newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  return new S3Store(client, target);
}

export class S3Store implements RemoteStore {
  private readonly root: string;

  constructor(
    private readonly client: S3Client,
    private readonly target: S3Target,
  ) {
    const prefix = joinRemote(target.prefix);
    this.root = prefix ? `${prefix}/` : '';
  }

  where(path: string): string {
    return `s3://${this.target.bucket}/${this.root}${path}`;
  }

  /** S3 lists keys in path order already, a page of 1,000 at a time: the next page is asked for while one is used. */
  async *walk(folder: string, signal: AbortSignal): AsyncGenerator<[string, RemoteEntry]> {
    const prefix = `${this.root}${joinRemote(folder)}${folder ? '/' : ''}`;
    const pageAfter = (token: string | undefined) => {
      const page = this.client.send(new ListObjectsV2Command({ Bucket: this.target.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal }).catch((error) => {
        throw this.failure(error, `listing ${this.where(folder)}`, signal);
      });
      page.catch(() => undefined);
      return page;
    };
    for (let next: ReturnType<typeof pageAfter> | null = pageAfter(undefined); next; ) {
      const page: ListObjectsV2CommandOutput = await next;
      next = page.IsTruncated && page.NextContinuationToken ? pageAfter(page.NextContinuationToken) : null;
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith('/')) continue;
        yield [object.Key.slice(prefix.length), { size: object.Size ?? 0 }];
      }
    }
  }

  async put(file: RemoteUpload): Promise<void> {
    if (file.size < ONE_PUT_BYTES) return this.putSmall(file);
    const { path, body, mtimeMs, signal } = file;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: { ...this.objectParams(path, mtimeMs), Body: body },
      partSize: PART_BYTES,
      queueSize: PARTS_AT_ONCE,
      leavePartsOnError: false,
      abortController: abort,
    });
    try {
      await upload.done();
    } catch (error) {
      body.destroy();
      if (signal.aborted) throw signal.reason;
      throw this.failure(error, `writing ${this.where(path)}`, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** One PutObject of the whole file, read first: a body that fails (a changed source) sends nothing. */
  private async putSmall({ path, body, mtimeMs, signal }: RemoteUpload): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      signal.throwIfAborted();
      const content = Buffer.concat(chunks);
      await this.client.send(
        new PutObjectCommand({ ...this.objectParams(path, mtimeMs), Body: content, ContentLength: content.length }),
        { abortSignal: signal },
      );
    } catch (error) {
      body.destroy();
      if (signal.aborted) throw signal.reason;
      throw this.failure(error, `writing ${this.where(path)}`, signal);
    }
  }

  /** What every upload of a file sets, whichever way it goes up. */
  private objectParams(path: string, mtimeMs: number) {
    return {
      Bucket: this.target.bucket,
      Key: this.root + path,
      ...(this.target.storage_class ? { StorageClass: this.target.storage_class as StorageClass } : {}),
      // rclone's name for it, so other tools read the source's time too.
      Metadata: { mtime: (mtimeMs / 1000).toFixed(3) },
    };
  }

  async remove(path: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: this.root + path })).catch((error) => {
      throw this.failure(error, `deleting ${this.where(path)}`);
    });
  }

  async get(path: string, signal: AbortSignal): Promise<Readable> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: this.root + path }), { abortSignal: signal }).catch((error) => {
      throw this.failure(error, `reading ${this.where(path)}`, signal);
    });
    return object.Body as Readable;
  }

  /** One GetObject, with `Range` when a range is asked: a 206 is read from its Content-Range, a 200 (no range support) from byte 0. */
  async read(path: string, range?: ByteRange): Promise<Buffer> {
    const where = this.where(path);
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: this.root + path, ...(range ? { Range: rangeHeader(range) } : {}) })).catch((error) => {
      const name = (error as { Code?: string; name?: string }).Code ?? (error as Error).name;
      if (name === 'NoSuchKey') throw fileMissing(where);
      if (range && (name === 'InvalidRange' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416)) throw fileShort(where, range);
      throw this.failure(error, `reading ${where}`);
    });
    const body = object.Body as Readable;
    try {
      if (!range) return await takeWhole(body, object.ContentLength ?? null, where);
      const start = object.$metadata.httpStatusCode === 206 ? partialBodyStart(object.ContentRange, range, where) : 0;
      return await takeRange(body, start, range, where);
    } catch (error) {
      throw this.failure(error, `reading ${where}`);
    } finally {
      body.destroy();
    }
  }

  async stat(path: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.target.bucket, Key: this.root + path }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      // A HEAD has no body, so a missing key comes back as a bare 404 (`NotFound`), not `NoSuchKey`.
      const name = (error as { name?: string }).name;
      if (name === 'NotFound' || name === 'NoSuchKey') return null;
      throw this.failure(error, `reading the size of ${this.where(path)}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private failure(error: unknown, doing: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof CairnError) return error;
    const failure = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    const name = failure.Code ?? failure.name;
    const status = failure.$metadata?.httpStatusCode;
    const endpoint = this.target.endpoint ?? `S3 (${this.target.region})`;
    if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || (status === 403 && name === 'Unknown') || status === 401) {
      return credentialRefused(`Access denied: invalid credentials (${name === 'Unknown' ? 'HTTP 403' : name}) while ${doing}`);
    }
    if (name === 'AccessDenied' || status === 403) return new CairnError('forbidden', 'PERMISSION_DENIED', `Access denied while ${doing}: the credentials lack permission`);
    if (name === 'NoSuchKey') return new CairnError('not_found', 'REMOTE_PATH_MISSING', `No such object while ${doing}`);
    if (name === 'NoSuchBucket') return new CairnError('not_found', 'REMOTE_PATH_MISSING', `The bucket "${this.target.bucket}" does not exist at ${endpoint}`);
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
      return new CairnError('invalid', 'WRONG_REGION', `The bucket "${this.target.bucket}" is not in region ${this.target.region}: ${failure.message}`);
    }
    const network = connectionError(error, endpoint);
    if (network) return network;
    return new CairnError('unavailable', 'S3_FAILED', `S3 error while ${doing}: ${name}${status ? ` (HTTP ${status})` : ''}: ${failure.message}`, { retryable: true });
  }
}
