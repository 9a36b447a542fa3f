/**
 * Reads a slice of one index of a run's log: the index's size gives the count, one positioned read
 * gives the slice's records, and a few reads give their lines. Nothing scans the log, so the last
 * page of a long log costs what the first does. Damage left by a crash is skipped, never thrown.
 */
import { promises as fs, type Stats } from 'node:fs';
import type { LogEntry } from '../domain/runs.ts';
import { decodeRecord, isPlausible, parseLine, RECORD_BYTES, usableRecordCount, type IndexName, type IndexRecord, type RunLogPaths } from './run-log-files.ts';

// Reading a gap costs less than another read call up to about this size, so near lines share a read.
const MAX_GAP_BYTES = 32 * 1024;
const MAX_READ_BYTES = 1024 * 1024;

/** Entries of one index, and how many the index holds in all. */
export interface IndexSlice {
  entries: LogEntry[];
  total: number;
}

/** Which positions to read, given the index's entry count: [from, to). */
export type Choose = (total: number) => [number, number];

/**
 * The entries at the positions `choose` picks, in log order. Records that point past the data or
 * lines that do not hold the entry they should are left out; a log with no files is empty.
 */
export async function readSlice(paths: RunLogPaths, index: IndexName, choose: Choose): Promise<IndexSlice> {
  try {
    return await readExisting(paths, index, choose);
  } catch (error) {
    // No files (a run that logged nothing, or was removed while this read ran) is an empty log.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], total: 0 };
    throw error;
  }
}

async function readExisting(paths: RunLogPaths, index: IndexName, choose: Choose): Promise<IndexSlice> {
  const dataSize = (await fs.stat(paths.data)).size;
  const indexFile = await fs.open(paths.indexes[index], 'r');
  try {
    const total = await countUsable(indexFile, await indexFile.stat(), index, dataSize);
    const [wantedFrom, wantedTo] = choose(total);
    const from = Math.max(0, Math.floor(wantedFrom));
    const count = Math.min(total, Math.floor(wantedTo)) - from;
    if (count <= 0) return { entries: [], total };
    const buffer = Buffer.alloc(count * RECORD_BYTES);
    await indexFile.read(buffer, 0, buffer.length, from * RECORD_BYTES);
    const records = Array.from({ length: count }, (_, i) => decodeRecord(buffer, i * RECORD_BYTES));
    const lines = await readLines(paths.data, records, dataSize);
    const entries: LogEntry[] = [];
    lines.forEach((line, i) => {
      const expected = index === 'all' ? { runId: paths.runId, id: from + i + 1 } : { runId: paths.runId, level: index };
      const entry = line === null ? null : parseLine(line, expected);
      if (entry) entries.push(entry);
    });
    return { entries, total };
  } finally {
    await indexFile.close();
  }
}

/**
 * The index's usable record count. Usually its last record is plausible and the count is the file
 * size over the record size; only a log left damaged by a crash and not yet reopened (which repairs
 * it) needs the whole index read.
 */
async function countUsable(indexFile: fs.FileHandle, stat: Stats, index: IndexName, dataSize: number): Promise<number> {
  const whole = Math.floor(stat.size / RECORD_BYTES);
  if (whole === 0) return 0;
  const last = Buffer.alloc(RECORD_BYTES);
  await indexFile.read(last, 0, RECORD_BYTES, (whole - 1) * RECORD_BYTES);
  if (isPlausible(decodeRecord(last, 0), dataSize)) return whole;
  const all = Buffer.alloc(whole * RECORD_BYTES);
  await indexFile.read(all, 0, all.length, 0);
  return usableRecordCount(all, index, dataSize);
}

/** The lines the records point at (null for an implausible record), read with few, parallel reads. */
async function readLines(dataPath: string, records: IndexRecord[], dataSize: number): Promise<Array<string | null>> {
  const spans = spansOf(records.map((record) => (isPlausible(record, dataSize) ? record : null)));
  const data = await fs.open(dataPath, 'r');
  try {
    const lines: Array<string | null> = new Array(records.length).fill(null);
    await Promise.all(
      spans.map(async (span) => {
        const buffer = Buffer.alloc(span.end - span.start);
        const { bytesRead } = await data.read(buffer, 0, buffer.length, span.start);
        for (const i of span.members) {
          const from = records[i].offset - span.start;
          const to = from + records[i].length;
          // The file can be shorter than when it was measured only if it was cut under us: skip.
          if (to <= bytesRead) lines[i] = buffer.toString('utf8', from, to);
        }
      }),
    );
    return lines;
  } finally {
    await data.close();
  }
}

interface Span {
  start: number;
  end: number;
  /** Positions in the records list of the lines inside the span. */
  members: number[];
}

/** Groups records, in file order, into byte ranges that are each worth one read. */
function spansOf(records: Array<IndexRecord | null>): Span[] {
  const spans: Span[] = [];
  records.forEach((record, i) => {
    if (!record) return;
    const end = record.offset + record.length;
    const last = spans.at(-1);
    if (last && record.offset >= last.end && record.offset - last.end <= MAX_GAP_BYTES && end - last.start <= MAX_READ_BYTES) {
      last.end = end;
      last.members.push(i);
    } else {
      spans.push({ start: record.offset, end, members: [i] });
    }
  });
  return spans;
}
