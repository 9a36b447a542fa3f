/**
 * The files of one run's log and what makes their content trustworthy. `<run>.jsonl` holds one JSON
 * entry per line. `<run>.all.idx` and `<run>.<level>.idx` hold one fixed-size record (byte offset,
 * byte length) per line, in file order, so the n-th entry of any index is one positioned read away.
 */
import path from 'node:path';
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../domain/runs.ts';
import { MAX_MESSAGE_CHARS } from './clean-message.ts';

/** Bytes per index record: a 6-byte offset, 2 spare bytes, a 4-byte length (little-endian). */
export const RECORD_BYTES = 12;

/**
 * No line the writer makes is longer: at most 6 bytes per message character (a lone surrogate's JSON
 * escape) plus the other fields. A longer record is damage, and must not make a reader allocate
 * gigabytes.
 */
export const MAX_LINE_BYTES = Math.max(64 * 1024, MAX_MESSAGE_CHARS * 6 + 1024);

/** An index of every entry, or of the entries of one level. */
export type IndexName = 'all' | LogLevel;
/** Every index a run's log has, the all index first. */
export const INDEX_NAMES: readonly IndexName[] = ['all', ...LOG_LEVELS];

/** Where a line is in the data file; `length` counts its newline. */
export interface IndexRecord {
  offset: number;
  length: number;
}

/** Where one run's log lives. */
export interface RunLogPaths {
  runId: number;
  data: string;
  indexes: Record<IndexName, string>;
}

/** The paths of the run's data file and index files in `dir`; whether they exist is not checked. */
export function runLogPaths(dir: string, runId: number): RunLogPaths {
  const indexes = Object.fromEntries(INDEX_NAMES.map((name) => [name, path.join(dir, `${runId}.${name}.idx`)]));
  return { runId, data: path.join(dir, `${runId}.jsonl`), indexes: indexes as Record<IndexName, string> };
}

/** Writes `record` as the record starting at byte `at` of `buffer`. */
export function encodeRecord(buffer: Buffer, at: number, record: IndexRecord): void {
  buffer.writeUIntLE(record.offset, at, 6);
  buffer.writeUInt16LE(0, at + 6);
  buffer.writeUInt32LE(record.length, at + 8);
}

/** The record starting at byte `at` of `buffer`. */
export function decodeRecord(buffer: Buffer, at: number): IndexRecord {
  return { offset: buffer.readUIntLE(at, 6), length: buffer.readUInt32LE(at + 8) };
}

/** True when a record can describe a line of a data file of `dataSize` bytes. */
export function isPlausible(record: IndexRecord, dataSize: number): boolean {
  return record.length > 0 && record.length <= MAX_LINE_BYTES && record.offset + record.length <= dataSize;
}

/**
 * How many records at the start of `buffer` (an index file's bytes) are usable: the longest run of
 * whole, plausible records in file order. The all index covers every line, so its records must also
 * be contiguous from byte 0; a level index only skips forward. Crash damage sits at the end of a
 * file (a torn record, records past the data, zeros), so a prefix is what survives.
 */
export function usableRecordCount(buffer: Buffer, index: IndexName, dataSize: number): number {
  const whole = Math.floor(buffer.length / RECORD_BYTES);
  let end = 0;
  for (let i = 0; i < whole; i++) {
    const record = decodeRecord(buffer, i * RECORD_BYTES);
    const inOrder = index === 'all' ? record.offset === end : record.offset >= end;
    if (!inOrder || !isPlausible(record, dataSize)) return i;
    end = record.offset + record.length;
  }
  return whole;
}

/** What a line must hold to be taken as an entry: its run, and its id or level when known. */
export interface Expected {
  runId: number;
  id?: number;
  level?: LogLevel;
}

/** The entry a line (with its newline) holds, or null when it is damaged or not the one expected. */
export function parseLine(line: string, expected: Expected): LogEntry | null {
  if (!line.endsWith('\n')) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isLogEntry(value) || value.run_id !== expected.runId) return null;
  if (expected.id !== undefined && value.id !== expected.id) return null;
  if (expected.level !== undefined && value.level !== expected.level) return null;
  return value;
}

function isLogEntry(value: unknown): value is LogEntry {
  const entry = value as LogEntry;
  return (
    typeof value === 'object' &&
    value !== null &&
    Number.isInteger(entry.id) &&
    typeof entry.run_id === 'number' &&
    typeof entry.timestamp === 'string' &&
    (LOG_LEVELS as readonly string[]).includes(entry.level) &&
    typeof entry.message === 'string'
  );
}
