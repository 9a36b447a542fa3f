/**
 * Brings a run's log back to a consistent state before appending to it again. Synchronous, so that
 * opening a log is; it reads the index files (12 bytes per entry) and the last few lines.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, truncateSync } from 'node:fs';
import { LOG_LEVELS } from '../domain/runs.ts';
import {
  decodeRecord,
  INDEX_NAMES,
  parseLine,
  RECORD_BYTES,
  usableRecordCount,
  type Expected,
  type IndexName,
  type IndexRecord,
  type RunLogPaths,
} from './run-log-files.ts';

/** Where appending continues: entries already in the log, and the data file's length in bytes. */
export interface LogPosition {
  entries: number;
  dataSize: number;
}

/**
 * Repairs what a crash can leave and returns where appending continues. The all index keeps its
 * longest valid prefix (whole, contiguous records whose lines hold entries 1, 2, …); the data file is
 * cut where the last of those lines ends (lines written but never indexed go); each level index keeps
 * the valid prefix of its records inside that length. A missing log is an empty one.
 */
export function repairLog(paths: RunLogPaths): LogPosition {
  if (sizeOf(paths.data) === 0) {
    for (const index of INDEX_NAMES) cut(paths.indexes[index], 0);
    return { entries: 0, dataSize: 0 };
  }
  const data = openSync(paths.data, 'r');
  try {
    const all = validPrefix(data, paths, 'all', fstatSync(data).size);
    cut(paths.data, all.end);
    cut(paths.indexes.all, all.count * RECORD_BYTES);
    for (const level of LOG_LEVELS) cut(paths.indexes[level], validPrefix(data, paths, level, all.end).count * RECORD_BYTES);
    return { entries: all.count, dataSize: all.end };
  } finally {
    closeSync(data);
  }
}

/**
 * How many leading records of an index are valid within the first `dataSize` bytes of the data, and
 * where the last of their lines ends. Only the last lines are read: damage is at the end, so the
 * walk back stops at the first good one.
 */
function validPrefix(data: number, paths: RunLogPaths, index: IndexName, dataSize: number): { count: number; end: number } {
  const buffer = readIfPresent(paths.indexes[index]);
  for (let count = usableRecordCount(buffer, index, dataSize); count > 0; count--) {
    const record = decodeRecord(buffer, (count - 1) * RECORD_BYTES);
    const expected: Expected = index === 'all' ? { runId: paths.runId, id: count } : { runId: paths.runId, level: index };
    if (holdsEntry(data, record, expected)) return { count, end: record.offset + record.length };
  }
  return { count: 0, end: 0 };
}

function holdsEntry(data: number, record: IndexRecord, expected: Expected): boolean {
  const line = Buffer.alloc(record.length);
  const bytesRead = readSync(data, line, 0, record.length, record.offset);
  return bytesRead === record.length && parseLine(line.toString('utf8'), expected) !== null;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

function readIfPresent(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}

/** Shortens a file to `length` bytes; a file already that short, or missing, is left alone. */
function cut(file: string, length: number): void {
  if (sizeOf(file) > length) truncateSync(file, length);
}
