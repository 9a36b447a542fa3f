/** What a process holds in memory, read from /proc (Linux), for benchmarks and the binary test's record. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

/** The unit systemd runs the daemon with (scripts/install.sh installs it; the appliance image too). */
export const SERVICE_UNIT = fileURLToPath(new URL('../systemd/cairn.service', import.meta.url));

/**
 * The variables the unit's `Environment=` lines give the daemon (glibc's malloc settings), read from
 * the unit itself so benchmarks and tests measure the daemon users run without a second copy of
 * the values. systemd's syntax: whitespace-separated `NAME=value` words, a word may be in double or
 * single quotes; a later assignment wins. `EnvironmentFile=` (the owner's settings) is not read.
 */
export function serviceEnvironment(unit = SERVICE_UNIT): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const line of readFileSync(unit, 'utf8').split('\n')) {
    const assignments = /^\s*Environment=(.*)$/.exec(line)?.[1];
    if (assignments === undefined) continue;
    for (const word of assignments.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
      const text = word[1] ?? word[2] ?? word[3];
      const equals = text.indexOf('=');
      if (equals <= 0) throw new Error(`${unit}: not a NAME=value assignment: ${text}`);
      environment[text.slice(0, equals)] = text.slice(equals + 1);
    }
  }
  return environment;
}

/**
 * How many malloc arenas glibc has made for threads of process `pid` (the main arena, which grows
 * by brk, is not counted). Each is one 64 MB-aligned reservation of HEAP_MAX_SIZE (64 MB on 64-bit
 * Linux): its used part read-write, the rest without access, side by side in /proc/PID/maps.
 */
export function threadArenasOf(pid: number): number {
  const ARENA_BYTES = 64n * 1024n * 1024n;
  const mappings = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range, permissions, , , inode, name] = line.split(/\s+/);
      const [start, end] = range.split('-').map((hex) => BigInt(`0x${hex}`));
      return { start, end, permissions, anonymous: inode === '0' && !name };
    });
  let arenas = 0;
  for (let index = 0; index < mappings.length; index += 1) {
    const used = mappings[index];
    if (!used.anonymous || used.permissions !== 'rw-p' || used.start % ARENA_BYTES !== 0n) continue;
    const rest = mappings[index + 1];
    const end = rest && rest.anonymous && rest.permissions === '---p' && rest.start === used.end ? rest.end : used.end;
    if (end - used.start === ARENA_BYTES) arenas += 1;
  }
  return arenas;
}

/**
 * Empties the kernel's page cache (root only), so that a program started next maps its executable as
 * on a box just booted: a binary just built sits whole in the cache, and the kernel then maps up to
 * ~20 MB more of it into a process (pages around each one it touches). False when it could not.
 */
export function emptyPageCache(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}
