/**
 * The files of one run's log: `<run>.jsonl` holds one JSON entry per line; `<run>.all.idx` and
 * `<run>.<level>.idx` hold a fixed-size record (byte offset, byte length) per entry, so any page of
 * any size of log is two positioned reads. Data is always written before its index records, so after
 * a crash an index can lag behind the data but never point into a half-written line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LogLevel } from '../domain/runs.ts';

/** Bytes per index record: a 6-byte offset, 2 spare bytes, a 4-byte length (little-endian). */
export const RECORD_BYTES = 12;

export interface IndexRecord {
  offset: number;
  length: number;
}

export type IndexName = 'all' | LogLevel;

export function dataFile(dir: string, runId: number): string {
  return path.join(dir, `${runId}.jsonl`);
}

export function indexFile(dir: string, runId: number, index: IndexName): string {
  return path.join(dir, `${runId}.${index}.idx`);
}

export function encodeRecord(record: IndexRecord): Buffer {
  const buffer = Buffer.alloc(RECORD_BYTES);
  buffer.writeUIntLE(record.offset, 0, 6);
  buffer.writeUInt32LE(record.length, 8);
  return buffer;
}

function decodeRecord(buffer: Buffer, at: number): IndexRecord {
  return { offset: buffer.readUIntLE(at, 6), length: buffer.readUInt32LE(at + 8) };
}

async function sizeOf(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => null))?.size ?? 0;
}

/**
 * How many of the index's records are usable: whole records whose line lies inside the data file.
 * Records are in file order, so the usable ones are a prefix.
 */
export async function usableRecordCount(dir: string, runId: number, index: IndexName, dataSize?: number): Promise<number> {
  const file = indexFile(dir, runId, index);
  let count = Math.floor((await sizeOf(file)) / RECORD_BYTES);
  if (count === 0) return 0;
  const limit = dataSize ?? (await sizeOf(dataFile(dir, runId)));
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(RECORD_BYTES);
    while (count > 0) {
      await handle.read(buffer, 0, RECORD_BYTES, (count - 1) * RECORD_BYTES);
      const record = decodeRecord(buffer, 0);
      if (record.offset + record.length <= limit) break;
      count -= 1;
    }
  } finally {
    await handle.close();
  }
  return count;
}

/** Records [from, from + count) of an index. */
export async function readRecords(dir: string, runId: number, index: IndexName, from: number, count: number): Promise<IndexRecord[]> {
  if (count <= 0) return [];
  const handle = await fs.open(indexFile(dir, runId, index), 'r');
  try {
    const buffer = Buffer.alloc(count * RECORD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from * RECORD_BYTES);
    const records: IndexRecord[] = [];
    for (let at = 0; at + RECORD_BYTES <= bytesRead; at += RECORD_BYTES) records.push(decodeRecord(buffer, at));
    return records;
  } finally {
    await handle.close();
  }
}

/** The lines the records point at, read in as few reads as the records' contiguity allows. */
export async function readLines(dir: string, runId: number, records: IndexRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  const handle = await fs.open(dataFile(dir, runId), 'r');
  try {
    const lines: string[] = [];
    let start = 0;
    while (start < records.length) {
      let end = start;
      while (end + 1 < records.length && records[end].offset + records[end].length === records[end + 1].offset) end += 1;
      const first = records[start];
      const span = records[end].offset + records[end].length - first.offset;
      const buffer = Buffer.alloc(span);
      await handle.read(buffer, 0, span, first.offset);
      for (let i = start; i <= end; i++) {
        const relative = records[i].offset - first.offset;
        lines.push(buffer.toString('utf8', relative, relative + records[i].length));
      }
      start = end + 1;
    }
    return lines;
  } finally {
    await handle.close();
  }
}

/**
 * Brings a log left by a crash back to a consistent state before appending: indexes keep only
 * usable records, and the data file ends where the last indexed line ends. Returns the entry count.
 */
export async function repairLog(dir: string, runId: number, levels: readonly LogLevel[]): Promise<{ entries: number; dataSize: number }> {
  const entries = await usableRecordCount(dir, runId, 'all');
  const last = entries > 0 ? (await readRecords(dir, runId, 'all', entries - 1, 1))[0] : undefined;
  const dataSize = last ? last.offset + last.length : 0;
  if ((await sizeOf(dataFile(dir, runId))) > dataSize) await fs.truncate(dataFile(dir, runId), dataSize);
  for (const index of ['all', ...levels] as IndexName[]) {
    const file = indexFile(dir, runId, index);
    const usable = index === 'all' ? entries : await usableRecordCount(dir, runId, index, dataSize);
    if ((await sizeOf(file)) > usable * RECORD_BYTES) await fs.truncate(file, usable * RECORD_BYTES);
  }
  return { entries, dataSize };
}
