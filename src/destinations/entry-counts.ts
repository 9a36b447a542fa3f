/**
 * How many entries each source had when it was last walked, remembered per real source path:
 * - a local job's rsync file list, in the job's state file (SyncContext.stateFile, which only remote
 *   destinations use otherwise), so the next run's progress has an expected total without counting
 *   the tree first (list-share.ts);
 * - a remote job's source walk, beside its record of sent files (local-walk.ts), so the next walk of
 *   a large tree starts on a walker thread.
 * The file is one JSON line, `{"cairn_local_entries":1,"sources":{"<real source path>":N}}` (the
 * marker's name is from when only local jobs kept counts); a file that is not that (missing,
 * damaged, or a remote job's record before the job was moved to a local destination) holds no
 * counts, and only its first line, of bounded length, is ever read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../store/durable-file.ts';

const FORMAT = 1;
/** Far more than a line of counts needs; a longer first line is not one. */
const MAX_LINE = 64 * 1024;

/** The entry count of each source path a run remembered. */
export type EntryCounts = Record<string, number>;

/** The counts remembered in `file`; empty when it holds none (never throws). */
export async function readEntryCounts(file: string): Promise<EntryCounts> {
  let handle: fs.FileHandle | null = null;
  try {
    handle = await fs.open(file, 'r');
    const buffer = Buffer.alloc(MAX_LINE);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LINE, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\n');
    const record = JSON.parse(end === -1 ? text : text.slice(0, end));
    if (record?.cairn_local_entries !== FORMAT || typeof record.sources !== 'object' || record.sources === null) return {};
    return Object.fromEntries(Object.entries(record.sources as Record<string, unknown>).filter((entry): entry is [string, number] => isCount(entry[1])));
  } catch {
    return {};
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The count remembered for `source` (a real path), or null. */
export async function previousEntryCount(file: string, source: string): Promise<number | null> {
  return (await readEntryCounts(file))[source] ?? null;
}

/**
 * Remembers that `source`'s list had `entries` entries, beside the other sources' counts (those of
 * sources no longer in `keep` are dropped, so the line stays as small as the job). Written durably
 * (temp file, fsync, rename); replaces whatever else the file held.
 */
export async function rememberEntryCount(file: string, source: string, entries: number, keep: readonly string[]): Promise<void> {
  const counts = await readEntryCounts(file);
  counts[source] = entries;
  const sources = Object.fromEntries(Object.entries(counts).filter(([name]) => keep.includes(name)));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileDurably(file, `${JSON.stringify({ cairn_local_entries: FORMAT, sources })}\n`);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
