/**
 * Benchmark of run logs: appends a 100,000-line log (file paths like rsync prints, 4.5% warnings,
 * 0.5% errors) through a RunLogWriter, then times reading pages at the start, middle and end of
 * the log, with and without a level filter, and a tail like the one a live WebSocket starts with.
 *
 *   node --import tsx bench/run-log-read.ts [--lines 100000] [--rounds 21] [--dir /dev/shm]
 * Each read figure is the first read (index and data not yet read by this process) and the median
 * of --rounds reads after it. Removes what it made.
 */
import { rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LogLevel } from '../src/domain/runs.ts';
import { RunLogs, type LogQuery } from '../src/logs/index.ts';
import { median, numberOption, textOption } from './options.ts';

const LINES = numberOption('--lines', 100_000);
const ROUNDS = numberOption('--rounds', 21);
const PAGE = 1000;
const RUN_ID = 1;

const dir = await mkdtemp(path.join(textOption('--dir', os.tmpdir()), 'cairn-bench-logs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const FOLDERS = ['Photos/2023/Trip to Kyōto', 'Documents/Taxes 2022', 'Music/Björk/Homogenic', 'Projects/cairn/node_modules/joi/lib', 'Videos/Family'];

function lineOf(i: number): [LogLevel, string] {
  const file = `home/alice/${FOLDERS[i % FOLDERS.length]}/file-${String(i).padStart(6, '0')}${i % 3 === 0 ? '.jpg' : '.txt'}`;
  if (i % 200 === 0) return ['error', `rsync: send_files failed to open "/${file}": Permission denied (13)`];
  if (i % 20 === 0) return ['warning', `file has vanished: "/${file}"`];
  return ['info', file];
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const format = (value: number) => value.toFixed(2).padStart(8);

async function writeLog(): Promise<void> {
  const logs = new RunLogs(dir);
  const writer = logs.open(RUN_ID);
  const started = process.hrtime.bigint();
  for (let i = 1; i <= LINES; i++) writer.append(...lineOf(i));
  const appended = ms(started);
  await writer.close();
  const closed = ms(started);
  const bytes = statSync(path.join(dir, `${RUN_ID}.jsonl`)).size;
  console.log(`append ${LINES.toLocaleString('en')} lines (${(bytes / 1e6).toFixed(1)} MB): ${appended.toFixed(0)} ms in append() calls`);
  console.log(`  = ${Math.round(LINES / (appended / 1000)).toLocaleString('en')} lines/s; on disk and fsynced after ${closed.toFixed(0)} ms`);
}

/** The first read's time, the median of ROUNDS more, and what was read. */
async function time<T>(read: () => Promise<T>): Promise<[number, number, T]> {
  const timings: number[] = [];
  let result: T | undefined;
  for (let round = 0; round <= ROUNDS; round++) {
    const started = process.hrtime.bigint();
    result = await read();
    timings.push(ms(started));
  }
  const [first, ...rest] = timings;
  return [first, median(rest), result!];
}

async function timeReads(): Promise<void> {
  const logs = new RunLogs(dir);
  console.log(`\nread (limit ${PAGE})                        first   median   entries/total`);
  for (const level of [undefined, 'warning', 'error'] as const) {
    const { total } = await logs.read(RUN_ID, { offset: 0, limit: 0, level });
    const pages: Array<[string, number]> = [
      ['first page', 0],
      ['middle page', Math.max(0, Math.floor((total - PAGE) / 2))],
      ['last page', Math.max(0, total - PAGE)],
    ];
    for (const [name, offset] of pages) {
      const query: LogQuery = { offset, limit: PAGE, level };
      const [first, middle, page] = await time(() => logs.read(RUN_ID, query));
      const label = `${name}${level ? ` level=${level}` : ''} (offset ${offset})`;
      console.log(`  ${label.padEnd(38)} ${format(first)} ${format(middle)}   ${page.entries.length}/${page.total}`);
    }
  }
  const [first, middle, tail] = await time(() => logs.tail(RUN_ID, 100));
  console.log(`  ${'tail(100)'.padEnd(38)} ${format(first)} ${format(middle)}   ${tail.length}`);
}

await writeLog();
await timeReads();
