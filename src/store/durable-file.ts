/**
 * Writes that survive a power cut: the new content goes to a temp file beside the target, is
 * fsynced, renamed over the target, and the directory is fsynced so the rename itself is on disk.
 * A reader therefore sees either the old file or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Marks temp files made by writeFileDurably, so leftovers from a crash can be recognised and removed. */
export const TEMP_MARKER = '.tmp-';

/** Replaces `file` with `content` atomically and durably; the file gets `mode` (default 0600). */
export async function writeFileDurably(file: string, content: string | Buffer, mode = 0o600): Promise<void> {
  const temp = `${file}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

/** Flushes a directory's entries (renames, creates) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes temp files a crash left next to `file`. */
export async function removeStaleTempFiles(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}${TEMP_MARKER}`;
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(prefix)) await fs.rm(path.join(dir, name), { force: true });
  }
}

/**
 * Reads a secret key file, creating it with `bytes` random bytes (mode 0600) on first use.
 * Refuses a key file that others can read, because then the secret is no longer one.
 */
export async function loadOrCreateKeyFile(file: string, bytes = 32): Promise<Buffer> {
  try {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) {
      throw new Error(`${file} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    }
    const key = await fs.readFile(file);
    if (key.length !== bytes) throw new Error(`${file} should hold ${bytes} bytes but holds ${key.length}; it is damaged.`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(bytes);
  await writeFileDurably(file, key, 0o600);
  return key;
}
