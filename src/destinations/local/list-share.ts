/**
 * How far a local run has gone through its work, read from rsync's whole-transfer progress
 * (`--info=progress2`) without a counting pass, while rsync keeps its incremental recursion (it
 * lists a folder at a time, so its memory does not grow with the tree; docs/ARCHITECTURE.md).
 *
 * rsync reports "entries checked of entries listed" (`ir-chk=left/of`) after each folder and file,
 * but while it is still listing, "listed" runs only ~1,000 entries ahead of "checked", and its own
 * percent is of the bytes listed so far: both would read 95 % early in a large first copy. So:
 * - once rsync has listed everything (`to-chk`), the share is checked of listed, or its byte
 *   percent when further (it moves within a large file);
 * - before that, checked of the entries the same source's list had on its last run (entry-counts.ts):
 *   this moves on a nightly run that sends little, where the byte percent stays near 0;
 * - with no count yet (a first run), no share until rsync has listed everything: the totals still
 *   move, and a client shows activity rather than a percent that is not true.
 * The share never goes back and stays below 1 until the copy has ended. Several sources are copied
 * one after the other, each one an equal part of the run.
 */
import type { WholeProgress } from './rsync-output.ts';

/** Which of the run's copies this is (0-based) and how many there are. */
export interface CopyPosition {
  index: number;
  of: number;
}

/** The most a copy's share reaches before it has ended: a tree that grew since its last count does not read done. */
export const BEFORE_END = 0.99;

/** One copy's share of the run, fed with its rsync's progress lines. */
export class ListShare {
  private own = 0;
  private known = false;
  private listed = false;

  /**
   * @param position which of the run's copies this is
   * @param expected entries this source's list had on its last run; null when not known
   */
  constructor(
    private readonly position: CopyPosition = { index: 0, of: 1 },
    private readonly expected: number | null = null,
  ) {}

  /** Notes a progress line; returns whether the run's share grew (or became known). */
  note(progress: WholeProgress): boolean {
    const list = progress.toCheck;
    // rsync says `to-chk` from when its list is complete; it does not go back to `ir-chk`.
    if (list?.final) this.listed = true;
    let share: number | null = null;
    if (this.listed) {
      share = progress.percent / 100;
      if (list && list.of > 0) share = Math.max(share, (list.of - list.left) / list.of);
    } else if (list && this.expected !== null) {
      share = (list.of - list.left) / Math.max(this.expected, list.of);
    }
    if (share === null) return false;
    share = Math.min(BEFORE_END, share);
    const grew = share > this.own || !this.known;
    this.own = Math.max(this.own, share);
    this.known = true;
    return grew;
  }

  /** Notes that the copy is complete. */
  finished(): void {
    this.own = 1;
    this.known = true;
  }

  /** The whole run's share (0–1) this copy has reached; null while neither it nor an earlier copy gives one. */
  get ofRun(): number | null {
    const { index, of } = this.position;
    if (!this.known && index === 0) return null;
    return Math.min(1, (index + this.own) / Math.max(1, of));
  }
}
