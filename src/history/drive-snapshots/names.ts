/**
 * The names of the folders in a job's backup folder. A complete snapshot is named by the local
 * time it was taken with its UTC offset, `2026-12-05T031500+0100`: sortable by eye, readable on
 * any computer, free of the colons FAT-minded tools and Windows refuse; the offset makes the
 * instant exact across a daylight-saving change. A second snapshot in the same second gets `-1`,
 * `-2` … Work names start with a dot, so a file manager hides them and no listing mistakes them.
 */
import { LocalClock } from '../../schedules/index.ts';

/** Prefix of a snapshot being built; it becomes the snapshot when renamed. */
export const INCOMPLETE_PREFIX = '.incomplete-';
/** Prefix of a snapshot being removed: hidden first, then deleted, so a killed delete never shows a half snapshot. */
export const DELETING_PREFIX = '.deleting-';

const SNAPSHOT_NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})([+-])(\d{2})(\d{2})(?:-(\d{1,6}))?$/;

/** The name (without suffix) for a snapshot taken at `time`, read in the IANA zone `timezone`. */
export function snapshotBaseName(time: Date, timezone: string): string {
  const instant = Math.floor(time.getTime() / 1000) * 1000;
  const clock = new LocalClock(timezone);
  const wall = new Date(clock.wallClockAt(instant)).toISOString(); // the wall clock, written as if it were UTC
  const offsetMinutes = Math.round(clock.offsetAt(instant) / 60_000);
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  return `${wall.slice(0, 10)}T${wall.slice(11, 13)}${wall.slice(14, 16)}${wall.slice(17, 19)}${offset}`;
}

/** `base`, or `base-1`, `base-2` … : the first that `taken` does not hold. */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 1; ; n += 1) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** The instant a snapshot name stands for (epoch ms), or null when the name is not a snapshot's. */
export function snapshotTimeOf(name: string): number | null {
  const match = SNAPSHOT_NAME.exec(name);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
  const local = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second);
  const check = new Date(local);
  if (check.getUTCDate() !== +day || check.getUTCHours() !== +hour || +offsetMinutes > 59) return null;
  const offset = (sign === '-' ? -1 : 1) * (+offsetHours * 60 + +offsetMinutes) * 60_000;
  return local - offset;
}

/** Orders snapshot names oldest first by instant; same instant: by suffix. */
export function compareSnapshotNames(a: string, b: string): number {
  return (snapshotTimeOf(a) ?? 0) - (snapshotTimeOf(b) ?? 0) || suffixOf(a) - suffixOf(b);
}

function suffixOf(name: string): number {
  return Number(SNAPSHOT_NAME.exec(name)?.[10] ?? 0);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
