/** SHA-256 of a file: small files in one read, large ones as a stream so they do not sit in memory. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** Files up to this size are read whole: one open, one read, no stream machinery. */
const WHOLE_READ_MAX = 1024 * 1024;

/** The file's SHA-256 in hex; rejects with the read error (ENOENT, EIO …) or when `signal` aborts. */
export async function sha256Of(file: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= WHOLE_READ_MAX) return createHash('sha256').update(await handle.readFile()).digest('hex');
  } finally {
    await handle.close();
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash, { signal });
  return hash.digest('hex');
}
