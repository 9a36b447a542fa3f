/**
 * What every remote store's `read` shares: the errors for a file that is not there or shorter than
 * the range asked, and taking exactly the asked bytes out of an HTTP body, whether the server
 * honoured `Range` (206, from the Content-Range's start) or ignored it (200, from byte 0).
 */
import { CairnError } from '../../domain/errors.ts';

/** `length` bytes from `offset`; `length` is at least 1. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** The file is not at the destination. Code REMOTE_FILE_MISSING, so a caller can tell it from a missing bucket or folder. */
export const fileMissing = (where: string) => new CairnError('not_found', 'REMOTE_FILE_MISSING', `${where} is not there`);

/** The file ends before the range asked for: it was cut short or is not the file the caller knows. */
export const fileShort = (where: string, range: ByteRange, size?: number) =>
  new CairnError('conflict', 'REMOTE_FILE_SHORT', `${where} ends before byte ${range.offset + range.length}${size === undefined ? '' : ` (it holds ${size} bytes)`}`);

/** A server that answers in a shape the HTTP rules do not allow (a Content-Range not covering what was asked). */
const rangeRefused = (where: string, detail: string) => new CairnError('unavailable', 'REMOTE_RANGE_INVALID', `The server answered a read of ${where} with the wrong bytes: ${detail}`, { retryable: true });

/** The value of an HTTP `Range` header asking for `range`. */
export function rangeHeader(range: ByteRange): string {
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/**
 * Where a 206's body starts: the first byte of its `Content-Range` (`bytes 10-99/100`), which
 * must cover the start of `range`. A 206 without one (a multipart answer, which only a request for
 * several ranges may get) is refused, as is one starting elsewhere.
 */
export function partialBodyStart(contentRange: string | null | undefined, range: ByteRange, where: string): number {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange?.trim() ?? '');
  if (!match) throw rangeRefused(where, `206 with Content-Range ${JSON.stringify(contentRange ?? null)}`);
  const start = Number(match[1]);
  if (start > range.offset) throw rangeRefused(where, `asked from byte ${range.offset}, got from ${start}`);
  return start;
}

/**
 * Exactly the bytes of `range` out of `body`, whose first byte is byte `bodyStart` of the file (0
 * when the server ignored `Range` and sends the whole file, which is read only as far as needed).
 * Throws `fileShort` when the body ends first. The caller ends the body afterwards.
 */
export async function takeRange(body: AsyncIterable<Uint8Array>, bodyStart: number, range: ByteRange, where: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(range.length);
  let position = bodyStart;
  let filled = 0;
  for await (const chunk of body) {
    const from = Math.max(0, range.offset - position);
    position += chunk.length;
    if (from >= chunk.length) continue;
    const piece = chunk.subarray(from, from + range.length - filled);
    out.set(piece, filled);
    filled += piece.length;
    if (filled === range.length) return out;
  }
  throw fileShort(where, range, position);
}

/** A whole body in one Buffer, checked against the length the server announced (null: none announced). */
export async function takeWhole(body: AsyncIterable<Uint8Array>, announced: number | null, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    total += chunk.length;
  }
  if (announced !== null && total !== announced) {
    throw new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `The download of ${where} ended after ${total} of ${announced} bytes`, { retryable: true });
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}
