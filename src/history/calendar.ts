/**
 * The calendar a retention policy counts in: which local hour, day, ISO week, month and year an
 * instant falls in, and how far back a duration like "1y6m" reaches, in one IANA time zone.
 */
import type { RetentionDuration } from '../domain/retention.ts';
import { LocalClock } from '../schedules/local-time.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A span reaching before this year keeps everything: no snapshot is that old, and Intl's years stop making sense near year 0. */
const EARLIEST_YEAR = 1000;

/** A bucket of time a count rule keeps one snapshot of. */
export type BucketUnit = 'hour' | 'day' | 'week' | 'month' | 'year';

/** Which bucket of each unit an instant is in; equal numbers mean the same bucket. */
export type Buckets = Record<BucketUnit, number>;

/** Bucket arithmetic in one time zone. Building one costs a formatter; reuse it for a whole list. */
export class ZoneCalendar {
  private readonly clock: LocalClock;

  /** @throws RangeError for a zone this Node does not know (callers validate the zone first). */
  constructor(readonly timezone: string) {
    this.clock = new LocalClock(timezone);
  }

  /**
   * The buckets `instant` (epoch ms) falls in, read on the local wall clock:
   * - day, month, year: the local calendar date, so a 23- or 25-hour daylight-saving day is one day;
   * - week: ISO weeks, Monday to Sunday;
   * - hour: one bucket per real hour. The hour a fall-back change repeats (02:00–03:00 twice in
   *   Berlin) is two buckets, told apart by the UTC offset; restic reads only the clock and merges them.
   */
  bucketsOf(instant: number): Buckets {
    const wall = this.clock.wallClockAt(instant);
    const date = new Date(wall);
    const day = Math.floor(wall / DAY_MS);
    // Day 0 (1 January 1970) was a Thursday; a week is named by its Monday.
    const monday = day - modulo(day + 3, 7);
    return {
      // The instant the local hour began: equal for one real hour, different for a repeated one.
      hour: instant - modulo(wall, HOUR_MS),
      day,
      week: monday,
      month: date.getUTCFullYear() * 12 + date.getUTCMonth(),
      year: date.getUTCFullYear(),
    };
  }

  /**
   * The instant `duration` before `instant`. Years, months and days are counted on the local
   * calendar (one day back from 12:00 is 12:00 the day before, 23 or 25 hours across a change);
   * a day past a shorter month's end is clamped to its last day (31 March less a month is 28 or
   * 29 February; Go's AddDate, which restic uses, rolls over into March instead); hours are
   * elapsed time. A local time the result lands on twice is its first occurrence; one skipped by
   * a spring change moves forward by the gap. Reaching before year 1000 gives -Infinity.
   */
  before(instant: number, duration: RetentionDuration): number {
    const wall = new Date(this.clock.wallClockAt(instant));
    const monthIndex = wall.getUTCFullYear() * 12 + wall.getUTCMonth() - duration.years * 12 - duration.months;
    const year = Math.floor(monthIndex / 12);
    if (year < EARLIEST_YEAR) return -Infinity;
    const month = modulo(monthIndex, 12);
    const dayOfMonth = Math.min(wall.getUTCDate(), daysInMonth(year, month));
    const shifted = new Date(wall);
    shifted.setUTCFullYear(year, month, dayOfMonth);
    const shiftedWall = shifted.getTime() - duration.days * DAY_MS;
    if (new Date(shiftedWall).getUTCFullYear() < EARLIEST_YEAR) return -Infinity;
    return this.clock.resolve(shiftedWall).instant - duration.hours * HOUR_MS;
  }
}

function daysInMonth(year: number, month: number): number {
  const firstOfNext = new Date(0);
  firstOfNext.setUTCFullYear(year, month + 1, 1);
  return new Date(firstOfNext.getTime() - DAY_MS).getUTCDate();
}

function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
