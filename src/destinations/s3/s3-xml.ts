/**
 * The few S3 answers Cairn reads (a ListObjectsV2 page, an error, a multipart upload's id) and the
 * one it writes (a multipart upload's part list). S3's XML is flat and generated: elements without
 * namespace prefixes, text escaped with entities, no CDATA. Read by scanning, not through a general
 * parser: a 100k-file listing is 100 pages, and an object tree per page was garbage for nothing.
 */
import { decodeXmlText, escapeXmlText } from '../remote/xml-text.ts';

export interface ListedObject {
  key: string;
  size: number;
}

export interface ListingPage {
  objects: ListedObject[];
  /** The token for the next page, or null when this page is the last. */
  next: string | null;
}

/** The decoded text of the first `<name>` element in `text` from `from` up to `to`, or null. */
function elementText(text: string, name: string, from = 0, to = text.length): string | null {
  const open = text.indexOf(`<${name}>`, from);
  if (open < 0 || open >= to) return null;
  const start = open + name.length + 2;
  const end = text.indexOf(`</${name}>`, start);
  if (end < 0 || end > to) return null;
  return decodeXmlText(text.slice(start, end));
}

/**
 * One ListObjectsV2 page, or null when the body is not a whole ListBucketResult: a page cut short
 * would miss keys, and a key missing from a repository's listing could let prune delete data.
 * Keys come URL-encoded when the server honoured `encoding-type=url` (it says so in the page).
 */
export function readListingPage(text: string): ListingPage | null {
  const root = text.indexOf('<ListBucketResult');
  const rootEnd = text.lastIndexOf('</ListBucketResult>');
  if (root < 0 || rootEnd < root) return null;
  const urlEncoded = elementText(text, 'EncodingType', root, rootEnd) === 'url';
  const objects: ListedObject[] = [];
  for (let at = text.indexOf('<Contents>', root); at >= 0 && at < rootEnd; ) {
    const end = text.indexOf('</Contents>', at);
    if (end < 0 || end > rootEnd) return null;
    const key = elementText(text, 'Key', at, end);
    const size = Number(elementText(text, 'Size', at, end));
    if (key === null || !Number.isSafeInteger(size) || size < 0) return null;
    const decoded = urlEncoded ? decodeUrl(key) : key;
    if (decoded === null) return null;
    objects.push({ key: decoded, size });
    at = text.indexOf('<Contents>', end);
  }
  // Only 'false' (or no element, as the SDK read it) ends the listing: a value not understood must
  // not pass for "no more pages".
  const truncatedText = elementText(text, 'IsTruncated', root, rootEnd)?.trim().toLowerCase() ?? 'false';
  if (truncatedText !== 'true' && truncatedText !== 'false') return null;
  const truncated = truncatedText === 'true';
  const next = truncated ? elementText(text, 'NextContinuationToken', root, rootEnd) : null;
  // A page that says more follows but gives no way to ask for it cannot be listed whole.
  if (truncated && !next) return null;
  return { objects, next };
}

/**
 * A key as S3 URL-encodes it in a listing: form-encoded, a space written `+` (AWS and MinIO do;
 * a `+` of the key itself comes as `%2B`), so `+` is read as a space, as botocore's unquote_plus does.
 */
function decodeUrl(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export interface S3ErrorBody {
  code: string;
  message: string;
  /** Where the bucket is, when the answer says (a request sent to the wrong region). */
  region: string | null;
}

/** The code and message of an S3 `<Error>` body, or null when the body is not one. */
export function readErrorBody(text: string): S3ErrorBody | null {
  const root = text.indexOf('<Error>');
  if (root < 0) return null;
  const code = elementText(text, 'Code', root);
  if (!code) return null;
  return { code, message: elementText(text, 'Message', root) ?? '', region: elementText(text, 'Region', root) };
}

/** The UploadId of an InitiateMultipartUploadResult, or null. */
export function readUploadId(text: string): string | null {
  if (!text.includes('<InitiateMultipartUploadResult')) return null;
  return elementText(text, 'UploadId') || null;
}

/** The body of a CompleteMultipartUpload: each part's number and the ETag its upload returned. */
export function completeUploadBody(etags: readonly string[]): string {
  const parts = etags.map((etag, index) => `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXmlText(etag)}</ETag></Part>`);
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</CompleteMultipartUpload>`;
}
