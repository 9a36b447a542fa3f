/**
 * Signed S3 requests over Node's own HTTP client, kept alive between requests. Cairn uses seven S3
 * operations; the AWS SDK cost a daemon ~17 MB to load and ~35 MB more while an S3 run sent small
 * files (its per-request middleware, measured at 20,000 PutObjects: 62 vs 26 MB anonymous memory,
 * 19 vs 2.6 s of CPU), which put an S3 run over issue 17's 150 MB.
 *
 * A request is retried (three attempts in all, as the SDK did) when the connection failed before
 * an answer or the server answered that it is busy or failing; every body is a whole buffer, so a
 * retry sends the same bytes.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalQuery, EMPTY_PAYLOAD_HASH, encodeSegment, sha256Hex, Signer, type SigningCredentials } from './sigv4.ts';
import { readErrorBody } from './s3-xml.ts';

export interface S3Request {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** The object's key; null for the bucket itself (a listing). */
  key: string | null;
  query?: ReadonlyArray<readonly [string, string]>;
  /** Header names in lower case. */
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

/** An S3 error answer: the code S3 gave (or one named after the status, for bodiless answers). */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** The bucket's region, when the answer names it (a request sent to the wrong one). */
    readonly region: string | null,
  ) {
    super(message);
    this.name = 'S3Error';
  }

  /** The answer showed this machine's clock off from the server's, and the clock used to sign is corrected now: worth asking again. */
  clockCorrected = false;
}

const MAX_ATTEMPTS = 3;
/**
 * A server's clock this far from ours is believed over ours when signing (as the SDK does): S3
 * refuses a signature more than 15 minutes off, and a Raspberry Pi has no clock of its own until
 * network time arrives.
 */
const CLOCK_SKEW_MS = 4 * 60_000;
/**
 * A connection silent this long (no answer, no body bytes) is given up. Five minutes, as undici's
 * limits for WebDAV: Node sees no activity while the kernel drains the last of an upload's send
 * buffer, which on a slow uplink shared by eight uploads can take minutes; the SDK had no limit.
 */
const IDLE_TIMEOUT_MS = 300_000;
/** Error answers are short; a server sending more is not read further. */
const ERROR_BODY_LIMIT = 64 * 1024;
/** As the SDK's retry: a server restarting (refused), a network or name service down for a moment. */
const RETRIED_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'S3_IDLE_TIMEOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const RETRIED_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRIED_CODES = new Set(['RequestTimeout', 'SlowDown', 'InternalError', 'ServiceUnavailable']);
/**
 * What a bodiless answer (HEAD) is called, as the SDK called it. A 403 is not here: the SDK called
 * it 'Unknown', which s3-store reads as a refused credential (a wrong secret's HEAD is a bare 403).
 */
const CODE_OF_STATUS: Record<number, string> = { 301: 'PermanentRedirect', 400: 'BadRequest', 404: 'NotFound', 416: 'InvalidRange' };

export class S3Connection {
  private readonly signer: Signer;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  /** What the Host header says, and what is connected to (an IPv6 address without its brackets). */
  private readonly host: string;
  private readonly hostname: string;
  private readonly port: string;
  /** The path of the bucket: the endpoint's own path, then the bucket's name unless it is in the host name. */
  private readonly bucketPath: string;
  /** What to add to this machine's clock to sign with the server's time. */
  private clockOffsetMs = 0;

  constructor(
    endpoint: string | null,
    region: string,
    bucket: string,
    credentials: SigningCredentials,
    /** This machine's clock (ms); tests set one that is wrong. */
    private readonly clock: () => number = Date.now,
  ) {
    const base = new URL(endpoint ?? awsEndpoint(region));
    // Custom endpoints (MinIO, Garage, s3rver …) take the bucket in the path; on AWS it goes in the
    // host name, unless a dot in it would not match the wildcard certificate.
    const pathStyle = endpoint !== null || bucket.includes('.');
    this.host = pathStyle ? base.host : `${bucket}.${base.host}`;
    this.hostname = (pathStyle ? base.hostname : `${bucket}.${base.hostname}`).replace(/^\[(.*)\]$/, '$1');
    this.port = base.port;
    this.bucketPath = base.pathname.replace(/\/+$/, '') + (pathStyle ? `/${encodeSegment(bucket)}` : '');
    this.transport = base.protocol === 'http:' ? http : https;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 16, scheduling: 'lifo' });
    this.signer = new Signer(credentials, region);
  }

  /** The 2xx answer to `request`, its body not read yet; any other answer is thrown as an S3Error. */
  send(request: S3Request): Promise<IncomingMessage> {
    return this.retrying(request, (payloadHash) => this.accepted(request, payloadHash));
  }

  /**
   * What `read` makes of the whole body of the 2xx answer to `request`. S3 answers some requests
   * (a multipart completion) 200 before it has done them, then writes the result or an <Error>;
   * an answer that is neither (empty, cut) is a failure, asked again like a busy server's, as the
   * SDK did ("S3 aborted request"): never a success.
   */
  result<T>(request: S3Request, read: (text: string) => T | null, what: string): Promise<T> {
    return this.retrying(request, async (payloadHash) => {
      const response = await this.accepted(request, payloadHash);
      const text = (await readBody(response, Infinity)).toString('utf8');
      const refused = readErrorBody(text);
      if (refused) throw new S3Error(refused.code, response.statusCode!, refused.message, refused.region);
      const value = read(text);
      if (value === null) throw new S3Error('InternalError', response.statusCode!, `The server answered with something that is not S3 XML (no whole ${what})`, null);
      return value;
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** `once` tried up to MAX_ATTEMPTS times while it fails in a way worth retrying; every attempt signs anew, over the same bytes. */
  private async retrying<T>(request: S3Request, once: (payloadHash: string) => Promise<T>): Promise<T> {
    const payloadHash = request.body ? sha256Hex(request.body) : EMPTY_PAYLOAD_HASH;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(payloadHash);
      } catch (failure) {
        if (!worthRetrying(failure) || attempt === MAX_ATTEMPTS || request.signal?.aborted) throw failure;
      }
      // 100–200 ms, then 200–400 ms: a busy server gets room, a cancelled run does not wait.
      await sleep(100 * 2 ** (attempt - 1) * (1 + Math.random()), undefined, { signal: request.signal });
    }
  }

  /** One attempt's answer when it is 2xx; any other is thrown as its S3Error. */
  private async accepted(request: S3Request, payloadHash: string): Promise<IncomingMessage> {
    const response = await this.attempt(request, payloadHash);
    if (response.statusCode! >= 200 && response.statusCode! < 300) return response;
    throw await this.refusal(request, response);
  }

  /** The S3Error of a refused request; the clock used to sign is set by the server's when the two differ by minutes. */
  private async refusal(request: S3Request, response: IncomingMessage): Promise<S3Error> {
    const error = await errorOf(request, response);
    const serverTime = Date.parse(headerText(response.headers, 'date') ?? '');
    if (Number.isFinite(serverTime) && Math.abs(serverTime - (this.clock() + this.clockOffsetMs)) >= CLOCK_SKEW_MS) {
      this.clockOffsetMs = serverTime - this.clock();
      error.clockCorrected = true;
    }
    return error;
  }

  private attempt(request: S3Request, payloadHash: string): Promise<IncomingMessage> {
    const path = request.key === null ? this.bucketPath || '/' : `${this.bucketPath}/${request.key.split('/').map(encodeSegment).join('/')}`;
    const query = request.query ?? [];
    const headers: Record<string, string> = { host: this.host, ...request.headers };
    const signed = this.signer.sign({ method: request.method, path, query, headers, payloadHash }, new Date(this.clock() + this.clockOffsetMs));
    const search = canonicalQuery(query);
    return new Promise((resolve, reject) => {
      const sent = this.transport.request({
        agent: this.agent,
        hostname: this.hostname,
        port: this.port,
        method: request.method,
        path: search ? `${path}?${search}` : path,
        headers: { ...headers, ...signed, ...(request.body || request.method === 'PUT' || request.method === 'POST' ? { 'content-length': String(request.body?.length ?? 0) } : {}) },
        signal: request.signal,
        timeout: IDLE_TIMEOUT_MS,
      });
      // The idle limit holds until the answer's body is read too, by whoever reads it.
      sent.on('response', resolve);
      sent.on('error', reject);
      sent.on('timeout', () => sent.destroy(Object.assign(new Error(`No answer from ${this.host} for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'S3_IDLE_TIMEOUT' })));
      sent.end(request.body);
    });
  }
}

/** AWS's S3 endpoint for a region: China's regions are a partition of their own, under amazonaws.com.cn (the SDK knew). */
export function awsEndpoint(region: string): string {
  return `https://s3.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** A busy or failing server, or a connection lost before an answer: the same request may pass. */
function worthRetrying(failure: unknown): boolean {
  if (failure instanceof S3Error) return failure.clockCorrected || RETRIED_STATUS.has(failure.status) || RETRIED_CODES.has(failure.code);
  return RETRIED_NETWORK_CODES.has((failure as NodeJS.ErrnoException)?.code ?? '');
}

/** The S3Error an answer other than 2xx stands for, its body read. */
async function errorOf(request: S3Request, response: IncomingMessage): Promise<S3Error> {
  const status = response.statusCode!;
  const body = request.method === 'HEAD' ? null : readErrorBody((await readBody(response, ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0))).toString('utf8'));
  response.resume();
  const region = body?.region ?? headerText(response.headers, 'x-amz-bucket-region');
  const code = body?.code ?? CODE_OF_STATUS[status] ?? 'Unknown';
  return new S3Error(code, status, body?.message || `HTTP ${status}`, region);
}

/** The body of `response`, up to `limit` bytes (the rest is left unread). */
async function readBody(response: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= limit) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks, length);
}

function headerText(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' && value ? value : null;
}
