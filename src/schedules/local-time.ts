/**
 * Local wall-clock time in an IANA time zone, and back to instants, with a stated answer for the
 * local times a daylight-saving change skips or repeats.
 *
 * A wall-clock time is carried as epoch milliseconds "as if UTC": 02:30 on 29 March 2026 local is
 * Date.UTC(2026, 2, 29, 2, 30). It is a reading of the clock on the wall, not an instant.
 */

const DAY_MS = 86_400_000;

/** True when `name` is a time zone this Node knows (IANA names such as Europe/Berlin, or UTC). */
export function isKnownTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An instant a wall-clock time stands for. */
export interface ResolvedTime {
  /** Epoch milliseconds. */
  instant: number;
  /** How far a skipped wall-clock time was moved forward (the length of the gap); 0 otherwise. */
  shiftedBy: number;
}

/** One formatter per zone: building one costs more than the conversion itself. */
export class LocalClock {
  private readonly format: Intl.DateTimeFormat;

  /** @throws RangeError when `timezone` is not a zone this Node knows (settings validate it). */
  constructor(readonly timezone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The wall-clock reading at `instant` (epoch ms), milliseconds kept. */
  wallClockAt(instant: number): number {
    const part: Record<string, number> = {};
    for (const { type, value } of this.format.formatToParts(instant)) part[type] = Number(value);
    const wholeSeconds = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
    return wholeSeconds + (((instant % 1000) + 1000) % 1000);
  }

  /** The zone's offset from UTC at `instant`, in ms (Europe/Berlin in summer: +7 200 000). */
  offsetAt(instant: number): number {
    return this.wallClockAt(instant) - instant;
  }

  /**
   * How much the offset changes within a day of `instant` (0 far from any daylight-saving
   * change): wall-clock times up to this far apart may swap order once resolved.
   */
  offsetChangeNear(instant: number): number {
    return Math.abs(this.offsetAt(instant + DAY_MS) - this.offsetAt(instant - DAY_MS));
  }

  /**
   * The instant a wall-clock time stands for, read with the UTC offset in force before any
   * nearby change (what RFC 5545, java.time and Temporal's "compatible" do):
   * - a time that exists once is that instant;
   * - a time that happens twice (autumn) is its first occurrence;
   * - a time skipped by the spring change moves forward by the gap (02:30 → 03:30 in Berlin).
   */
  resolve(wallClock: number): ResolvedTime {
    // A day either side is past any change near this time, and no zone changes twice in two days.
    const before = this.offsetAt(wallClock - DAY_MS);
    const after = this.offsetAt(wallClock + DAY_MS);
    const occurrences = [wallClock - before, wallClock - after]
      .filter((instant) => this.wallClockAt(instant) === wallClock)
      .sort((a, b) => a - b);
    if (occurrences.length > 0) return { instant: occurrences[0], shiftedBy: 0 };
    return { instant: wallClock - before, shiftedBy: after - before };
  }
}
