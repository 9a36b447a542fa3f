/**
 * AWS Signature Version 4 for S3 requests, signed in the Authorization header. The payload is
 * always signed by its SHA-256 (Cairn sends only whole buffers), so a body changed on the way is
 * refused by the server.
 */
import { createHash, createHmac } from 'node:crypto';
import { byCodeUnits } from '../../domain/code-units.ts';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** The path as sent: each key segment already encoded with `encodeSegment`. */
  path: string;
  /** Query parameters, not encoded. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Header names in lower case. `host` must be among them. */
  headers: Record<string, string>;
  payloadHash: string;
}

export const EMPTY_PAYLOAD_HASH = createHash('sha256').update('').digest('hex');

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** RFC 3986 percent-encoding, as SigV4 wants it: only A–Z a–z 0–9 - _ . ~ stay as they are. */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string as sent and as signed: names and values encoded, sorted by name then value. */
export function canonicalQuery(query: RequestToSign['query']): string {
  return query
    .map(([name, value]) => [encodeSegment(name), encodeSegment(value)])
    .sort(([a, x], [b, y]) => byCodeUnits(a, b) || byCodeUnits(x, y))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** `20261206T101500Z`: the request's time as SigV4 writes it. */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** Signs for one region; the day's signing key is derived once a day, not per request. */
export class Signer {
  private keyDay = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(
    private readonly credentials: SigningCredentials,
    private readonly region: string,
  ) {}

  /** The headers to add to `request` (x-amz-date, x-amz-content-sha256, the token, Authorization). */
  sign(request: RequestToSign, now = new Date()): Record<string, string> {
    const date = amzDate(now);
    const day = date.slice(0, 8);
    const added: Record<string, string> = { 'x-amz-date': date, 'x-amz-content-sha256': request.payloadHash };
    if (this.credentials.sessionToken) added['x-amz-security-token'] = this.credentials.sessionToken;
    const headers = { ...request.headers, ...added };
    const names = Object.keys(headers).sort();
    const canonicalHeaders = names.map((name) => `${name}:${headers[name].trim().replace(/\s+/g, ' ')}\n`).join('');
    const signedHeaders = names.join(';');
    const canonicalRequest = [request.method, request.path, canonicalQuery(request.query), canonicalHeaders, signedHeaders, request.payloadHash].join('\n');
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
    const signature = hmac(this.signingKey(day), stringToSign).toString('hex');
    added.authorization = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return added;
  }

  private signingKey(day: string): Buffer {
    if (day !== this.keyDay) {
      this.key = hmac(hmac(hmac(hmac(`AWS4${this.credentials.secretAccessKey}`, day), this.region), 's3'), 'aws4_request');
      this.keyDay = day;
    }
    return this.key;
  }
}
