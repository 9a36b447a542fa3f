/** What a process holds in memory, read from /proc (Linux), for benchmarks and the binary test's record. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const kilobytes = (text: string, field: string) => Number(text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);

/** Highest resident set size the process has had, in MB. */
export function peakRssMb(pid: number): number {
  return kilobytes(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM') / 1024;
}

export interface MemoryNow {
  /** Resident set size: what `ps` and `top` show. */
  rssMb: number;
  /** Private memory of the process's own: heaps, stacks, malloc. */
  anonymousMb: number;
  /** Pages of files (the executable and libraries) in memory: clean, shared, dropped first under pressure. */
  fileMb: number;
}

export function memoryNow(pid: number): MemoryNow {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const rss = kilobytes(rollup, 'Rss');
  const anonymous = kilobytes(rollup, 'Anonymous');
  return { rssMb: rss / 1024, anonymousMb: anonymous / 1024, fileMb: (rss - anonymous) / 1024 };
}

/** CPU seconds (user + system) the process has used so far, from the kernel's count: it holds on a loaded machine. */
export function cpuSecondsOf(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** The kernel's clock ticks per second for /proc's times (USER_HZ: 100 on every Linux Cairn runs on). */
const CLOCK_TICKS = 100;

/** Runs a program to its end under GNU time; gives its wall-clock seconds, CPU seconds (user + system) and peak RSS (MB). Throws when it fails. */
export function timedRun(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; cpuSeconds: number; peakRssMb: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'cairn-peak-rss-kb=%M cairn-cpu=%U+%S', program, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = Number(result.stderr.match(/cairn-peak-rss-kb=(\d+)/)?.[1] ?? NaN);
  const [user, system] = (result.stderr.match(/cairn-cpu=([\d.]+)\+([\d.]+)/) ?? ['', 'NaN', 'NaN']).slice(1).map(Number);
  if (result.status !== 0) throw new Error(`${program} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { seconds, cpuSeconds: user + system, peakRssMb: peak / 1024 };
}
