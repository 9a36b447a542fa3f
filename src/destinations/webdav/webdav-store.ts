/**
 * A folder on a WebDAV server (Nextcloud, ownCloud, Apache mod_dav, rclone …) over HTTP(S) with
 * basic auth, through Node's fetch. Uploads go to a hidden partial name and are MOVEd over the final
 * name. Listings carry each file's getlastmodified, to the second: Nextcloud and ownCloud keep the
 * source's (X-OC-Mtime), most other servers the upload time, so the engine's record of sent files
 * decides what changed; without a record (a first run over a copy made with its mtimes) the listed
 * time is compared as rsync and SFTP's is.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { CairnError } from '../../domain/errors.ts';
import { readMultistatus } from './multistatus.ts';
import { certificateRefused, connectionError, credentialRefused } from '../remote/connection-errors.ts';
import { walkSorted } from '../remote/walk-sorted.ts';
import { joinRemote, partialNameFor, type RemoteEntry, type RemoteStore, type RemoteUpload } from '../remote/remote-store.ts';
import type { DestinationSpace } from '../types.ts';
import { fileMissing, fileShort, partialBodyStart, rangeHeader, takeRange, takeWhole, type ByteRange } from '../remote/read-range.ts';

export interface WebdavTarget {
  /** The WebDAV root, e.g. https://cloud.example.com/remote.php/dav/files/alice (no credentials in it). */
  url: string;
  /** A folder below `url`; '' for `url` itself. */
  remote_path: string;
}

/** How long the clean-up of a failed upload may take: it must not hold up the error for long. */
const CLEANUP_TIMEOUT_MS = 5_000;

/** Only what a listing needs: asking for less spares servers that compute the rest (Nextcloud). */
const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/></d:prop></d:propfind>';

/** RFC 4331's quota properties. */
const QUOTA_BODY =
  '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:quota-available-bytes/><d:quota-used-bytes/></d:prop></d:propfind>';

/** undici's own codes for a connection that ended or stalled (fetch puts them on `error.cause.code`). */
const CONNECTION_LOST = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_ABORTED']);
const TIMED_OUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The properties a listing and a quota answer are read for (multistatus.ts). */
const LISTED = new Set(['getcontentlength', 'getlastmodified']);
const QUOTA = new Set(['quota-available-bytes', 'quota-used-bytes']);

export async function openWebdavStore(target: WebdavTarget, secret: Record<string, string> | null): Promise<WebdavStore> {
  if (!secret?.username || !secret.password) {
    throw new CairnError('invalid', 'CREDENTIAL_INCOMPLETE', 'The credential needs a "username" and a "password"');
  }
  const store = new WebdavStore(target, secret.username, secret.password);
  await store.checkRoot();
  return store;
}

interface Child {
  name: string;
  collection: boolean;
  size: number;
  mtimeMs?: number;
}

export class WebdavStore implements RemoteStore {
  /** The root URL without credentials, query or trailing slash. */
  private readonly base: string;
  private readonly host: string;
  /** Decoded path segments of `base`. */
  private readonly baseSegments: string[];
  private readonly authorization: string;
  /** Folders made (or found) this run, each asked about once even by uploads running at once. */
  private readonly folders = new Map<string, Promise<void>>();

  constructor(
    private readonly target: WebdavTarget,
    username: string,
    password: string,
  ) {
    const url = new URL(target.url);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.base = url.href.replace(/\/+$/, '');
    this.host = url.host;
    this.baseSegments = segmentsOf(url.pathname);
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }

  where(path: string): string {
    return this.show(joinRemote(this.target.remote_path, path));
  }

  /** A path relative to the root (remote_path included) as a user reads it: not encoded. */
  private show(full: string): string {
    return full ? `${this.base}/${full}` : this.base;
  }

  /** Fails early, with words a user can act on, when the server or the root URL is not right. */
  async checkRoot(): Promise<void> {
    const doing = `reaching ${this.base}`;
    const response = await this.request('PROPFIND', '', { collection: true, headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' }, body: PROPFIND_BODY }, doing);
    await drain(response);
    // 403: some servers let a user into a folder below a root they may not list.
    if (response.status === 207 || response.status === 403) return;
    if (response.status === 404) throw new CairnError('not_found', 'REMOTE_PATH_MISSING', `Nothing at ${this.base}: check the WebDAV address`);
    if (response.status === 200 || response.status === 405 || response.status === 501) {
      throw new CairnError('invalid', 'NOT_WEBDAV', `${this.base} does not answer as a WebDAV folder (PROPFIND → HTTP ${response.status}); for Nextcloud use https://<server>/remote.php/dav/files/<user>`);
    }
    throw this.statusFailure(response, 'PROPFIND', '', doing);
  }

  walk(folder: string, signal: AbortSignal): AsyncGenerator<Array<[string, RemoteEntry]>> {
    return walkSorted<RemoteEntry>(async (relative) => {
      const children = await this.childrenOf(joinRemote(this.target.remote_path, folder, relative), signal);
      return children?.map((child) => (child.collection ? { name: child.name } : { name: child.name, file: fileEntry(child) })) ?? null;
    }, signal);
  }

  async put({ path, body, size, mtimeMs, signal }: RemoteUpload): Promise<void> {
    const final = joinRemote(this.target.remote_path, path);
    const partial = partialNameFor(final);
    const doing = `writing ${this.where(path)}`;
    await this.ensureFolder(parentOf(final), signal);
    try {
      const stored = await this.request(
        'PUT',
        partial,
        {
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(size),
            // Nextcloud and ownCloud keep it as the file's mtime; other servers ignore it.
            'X-OC-Mtime': String(Math.floor(mtimeMs / 1000)),
          },
          body,
          signal,
        },
        doing,
      );
      await drain(stored);
      if (!stored.ok) throw this.statusFailure(stored, 'PUT', partial, doing);
      const moved = await this.request('MOVE', partial, { headers: { Destination: this.urlOf(final), Overwrite: 'T' }, signal }, doing);
      await drain(moved);
      if (!moved.ok) throw this.statusFailure(moved, 'MOVE', partial, doing);
    } catch (error) {
      body.destroy();
      await this.discard(partial);
      if (signal.aborted) throw signal.reason;
      throw error;
    }
  }

  async remove(path: string): Promise<void> {
    const full = joinRemote(this.target.remote_path, path);
    const doing = `deleting ${this.where(path)}`;
    const response = await this.request('DELETE', full, {}, doing);
    await drain(response);
    if (!response.ok && response.status !== 404) throw this.statusFailure(response, 'DELETE', full, doing);
  }

  async get(path: string, signal: AbortSignal): Promise<Readable> {
    const full = joinRemote(this.target.remote_path, path);
    const doing = `reading ${this.where(path)}`;
    const response = await this.request('GET', full, { signal }, doing);
    if (response.status !== 200 || !response.body) {
      await drain(response);
      throw this.statusFailure(response, 'GET', full, doing);
    }
    return Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
  }

  /** One GET, with `Range` when a range is asked: a 206 is read from its Content-Range, a 200 (the server ignores ranges) from byte 0. */
  async read(path: string, range?: ByteRange): Promise<Buffer> {
    const full = joinRemote(this.target.remote_path, path);
    const where = this.where(path);
    const doing = `reading ${where}`;
    const abort = new AbortController();
    const response = await this.request('GET', full, { headers: range ? { Range: rangeHeader(range) } : {}, signal: abort.signal }, doing);
    try {
      if (response.status === 404) throw fileMissing(where);
      if (range && response.status === 416) throw fileShort(where, range);
      if ((response.status !== 200 && response.status !== 206) || !response.body) throw this.statusFailure(response, 'GET', full, doing);
      const body = response.body as unknown as AsyncIterable<Uint8Array>;
      if (!range) {
        const announced = response.headers.get('content-length');
        return await takeWhole(body, response.status === 200 && announced !== null ? Number(announced) : null, where);
      }
      const start = response.status === 206 ? partialBodyStart(response.headers.get('content-range'), range, where) : 0;
      return await takeRange(body, start, range, where);
    } catch (error) {
      throw this.networkFailure(error, doing);
    } finally {
      // The rest of a body not read (a server that sent the whole file) is not downloaded.
      abort.abort();
    }
  }

  async stat(path: string): Promise<{ size: number } | null> {
    const full = joinRemote(this.target.remote_path, path);
    const doing = `reading the size of ${this.where(path)}`;
    const response = await this.request('HEAD', full, {}, doing);
    await drain(response);
    if (response.status === 404) return null;
    if (!response.ok) throw this.statusFailure(response, 'HEAD', full, doing);
    const length = Number(response.headers.get('content-length'));
    if (!Number.isInteger(length) || length < 0) throw new CairnError('unavailable', 'WEBDAV_FAILED', `The server gave no size while ${doing}`, { retryable: true });
    return { size: length };
  }

  /**
   * RFC 4331 quota of the backup folder (or, before the first run, of the root): available bytes,
   * and the size as available + used. Null when the server does not report them (rclone 1.60, Apache
   * mod_dav_fs) or reports a negative value (Nextcloud's -3: no quota set, space unknown).
   */
  async freeSpace(): Promise<DestinationSpace | null> {
    for (const folder of new Set([joinRemote(this.target.remote_path), ''])) {
      const doing = `reading the quota of ${this.show(folder)}`;
      const response = await this.request('PROPFIND', folder, { collection: true, headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' }, body: QUOTA_BODY }, doing);
      const text = await response.text().catch(() => '');
      if (response.status === 404) continue;
      if (response.status !== 207) throw this.statusFailure(response, 'PROPFIND', folder, doing);
      return quotaOf(text);
    }
    return null;
  }

  async close(): Promise<void> {
    // Nothing to end: fetch's connections close themselves when idle.
  }

  /** The entries of one folder (PROPFIND, Depth 1), or null when there is no such folder. */
  private async childrenOf(folder: string, signal: AbortSignal): Promise<Child[] | null> {
    const doing = `listing ${this.show(folder)}`;
    const response = await this.request(
      'PROPFIND',
      folder,
      { collection: true, headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' }, body: PROPFIND_BODY, signal },
      doing,
    );
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.networkFailure(error, doing, signal);
    }
    if (response.status === 404) return null;
    if (response.status !== 207) throw this.statusFailure(response, 'PROPFIND', folder, doing);

    const entries = parseMultistatus(text);
    if (!entries) throw new CairnError('unavailable', 'WEBDAV_FAILED', `The server sent a listing that is not WebDAV XML while ${doing}`, { retryable: true });
    const requested = [...this.baseSegments, ...segmentsOf(folder)];
    // The folder itself is the entry at the path asked for; a server behind a proxy that rewrites
    // paths answers with other hrefs, and then it is the shortest one (the parent of all others).
    const self = entries.find((entry) => sameSegments(entry.segments, requested))?.segments ?? shortest(entries.map((entry) => entry.segments));
    if (!self) return [];
    const children: Child[] = [];
    for (const entry of entries) {
      if (entry.segments.length !== self.length + 1 || !sameSegments(entry.segments.slice(0, self.length), self)) continue;
      const name = entry.segments[self.length];
      if (name === '.' || name === '..' || name.includes('/')) continue;
      children.push({ name, collection: entry.collection, size: entry.size, mtimeMs: entry.mtimeMs });
    }
    return children;
  }

  /** Creates `folder` (relative to the root) and its parents; an existing one is fine. */
  private ensureFolder(folder: string, signal: AbortSignal): Promise<void> {
    if (folder === '') return Promise.resolve();
    let made = this.folders.get(folder);
    if (!made) {
      made = this.makeFolder(folder, signal);
      this.folders.set(folder, made);
      // A failure is not remembered: the next upload asks again.
      made.catch(() => this.folders.delete(folder));
    }
    return made;
  }

  private async makeFolder(folder: string, signal: AbortSignal): Promise<void> {
    await this.ensureFolder(parentOf(folder), signal);
    const doing = `creating the folder ${this.show(folder)}`;
    const response = await this.request('MKCOL', folder, { collection: true, signal }, doing);
    await drain(response);
    // 201: made (rclone also answers 201 for one that exists); 405: it exists.
    if (response.ok || response.status === 405) return;
    if (response.status === 401) throw this.statusFailure(response, 'MKCOL', folder, doing);
    if ((response.status === 409 || response.status === 404) && !folder.includes('/')) {
      throw new CairnError('not_found', 'REMOTE_PATH_MISSING', `Nothing at ${this.base}: check the WebDAV address`);
    }
    // A folder one may not create may still be there (a share, a mount point).
    const existing = await this.request('PROPFIND', folder, { collection: true, headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' }, body: PROPFIND_BODY, signal }, doing);
    const text = await existing.text().catch(() => '');
    const self = existing.status === 207 ? parseMultistatus(text)?.[0] : undefined;
    if (self?.collection) return;
    throw this.statusFailure(response, 'MKCOL', folder, doing);
  }

  /**
   * Best effort: removes what a failed or cancelled upload left, without waiting long. The server
   * may still be finishing the cut-off PUT and hold a lock on the file meanwhile (423): ask again.
   */
  private async discard(partial: string): Promise<void> {
    const deadline = Date.now() + CLEANUP_TIMEOUT_MS;
    try {
      for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
        const response = await fetch(this.urlOf(partial), { method: 'DELETE', headers: { Authorization: this.authorization }, signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
        await drain(response);
        if (response.status !== 423 || Date.now() + pause > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    } catch {
      // The server is gone or busy: the next run clears the leftover.
    }
  }

  /** The encoded URL of a path relative to the root; collections end with a slash. */
  private urlOf(path: string, collection = false): string {
    const encoded = path
      .split('/')
      .filter((part) => part !== '')
      .map(encodeURIComponent)
      .join('/');
    if (!encoded) return `${this.base}/`;
    return `${this.base}/${encoded}${collection ? '/' : ''}`;
  }

  private async request(
    method: string,
    path: string,
    options: { collection?: boolean; headers?: Record<string, string>; body?: string | Readable; signal?: AbortSignal },
    doing: string,
  ): Promise<Response> {
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers: { Authorization: this.authorization, ...options.headers },
      signal: options.signal,
    };
    if (typeof options.body === 'string') init.body = options.body;
    else if (options.body) {
      // fetch reads the stream as it sends (with backpressure), no copy in memory.
      init.body = options.body as unknown as BodyInit;
      init.duplex = 'half';
    }
    try {
      return await fetch(this.urlOf(path, options.collection), init);
    } catch (error) {
      throw this.networkFailure(error, doing, options.signal);
    }
  }

  /** A failure to talk to the server at all (never an HTTP status). */
  private networkFailure(error: unknown, doing: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof CairnError) return error;
    const cause = (error as { cause?: Error & { code?: string } }).cause;
    const code = cause?.code ?? (error as { code?: string }).code ?? '';
    if (CONNECTION_LOST.has(code)) {
      return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `The connection to ${this.host} was lost while ${doing}`, { retryable: true });
    }
    if (TIMED_OUT.has(code)) return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `Timed out waiting for ${this.host} while ${doing}`, { retryable: true });
    return (
      certificateRefused(error, this.host, doing) ??
      connectionError(error, this.host) ??
      new CairnError('unavailable', 'WEBDAV_FAILED', `WebDAV request to ${this.host} failed while ${doing}: ${cause?.message ?? (error as Error).message}`, { retryable: true })
    );
  }

  /** An HTTP status that means failure, in words; never the Authorization header or the password. */
  private statusFailure(response: Response, method: string, path: string, doing: string): CairnError {
    const status = response.status;
    if (status === 401) return credentialRefused(`Authentication failed at ${this.host}: wrong user name or password?`);
    if (status === 403) return new CairnError('forbidden', 'PERMISSION_DENIED', `Permission denied while ${doing} (HTTP 403)`);
    if (status === 507) return new CairnError('unavailable', 'DESTINATION_FULL', `Not enough space at ${this.host} while ${doing} (HTTP 507 Insufficient Storage: is the quota used up?)`);
    if (status === 404 || status === 409) {
      return new CairnError('not_found', 'REMOTE_PATH_MISSING', `No such file or folder while ${doing} (${method} → HTTP ${status})`);
    }
    const urlPath = safeDecode(new URL(this.urlOf(path)).pathname);
    const words = `WebDAV ${method} ${urlPath} failed with HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (status === 429) {
      const wait = Number(response.headers.get('retry-after'));
      return new CairnError('rate_limited', 'RATE_LIMITED', `${words}: the server asks to slow down`, { retryable: true, ...(Number.isFinite(wait) && wait > 0 ? { retryAfter: wait } : {}) });
    }
    return new CairnError('unavailable', 'WEBDAV_FAILED', words, { retryable: status >= 500 || status === 423 || status === 408 });
  }
}

interface MultistatusEntry {
  segments: string[];
  collection: boolean;
  size: number;
  /** getlastmodified (an HTTP date, whole seconds), when the server sent one that parses. */
  mtimeMs?: number;
}

/** A listed file as the engine takes it: its time only when the server gave one. */
function fileEntry(child: Child): RemoteEntry {
  return child.mtimeMs === undefined ? { size: child.size } : { size: child.size, mtimeMs: child.mtimeMs };
}

/** The entries of a 207 Multi-Status body, or null when it is not one. */
function parseMultistatus(text: string): MultistatusEntry[] | null {
  const responses = readMultistatus(text, LISTED);
  if (!responses) return null;
  return responses.map(({ href, collection, props }) => {
    const length = Number(props.get('getcontentlength') ?? NaN);
    const lastModified = props.get('getlastmodified');
    const modified = lastModified === undefined ? NaN : Date.parse(lastModified);
    return {
      segments: segmentsOf(pathOfHref(href)),
      collection,
      size: Number.isFinite(length) ? length : -1,
      ...(Number.isFinite(modified) ? { mtimeMs: modified } : {}),
    };
  });
}

/** The quota properties of the first response of a 207 body, found (2xx) ones only. */
function quotaOf(text: string): DestinationSpace | null {
  const props = readMultistatus(text, QUOTA)?.[0]?.props;
  const bytes = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : null);
  const available = bytes(props?.get('quota-available-bytes'));
  if (available === null) return null;
  const used = bytes(props?.get('quota-used-bytes'));
  return { free_bytes: available, total_bytes: used === null ? null : available + used };
}

/** The path part of an href, which may be an absolute path or a full URL. */
function pathOfHref(href: string): string {
  return href.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
}

/** Decoded, non-empty segments of a URL path. */
function segmentsOf(urlPath: string): string[] {
  return urlPath
    .split('/')
    .filter((part) => part !== '')
    .map(safeDecode);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sameSegments(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((part, index) => part.normalize('NFC') === b[index].normalize('NFC'));
}

function shortest(lists: string[][]): string[] | undefined {
  return lists.reduce<string[] | undefined>((best, list) => (best === undefined || list.length < best.length ? list : best), undefined);
}

function parentOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

/** Reads and drops a response body, so the connection can serve the next request. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}
