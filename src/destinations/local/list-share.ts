/**
 * How far a local run has gone through its work, read from rsync's whole-transfer progress
 * (`--info=progress2`) without a counting pass. rsync knows its whole file list before it copies
 * (`--no-inc-recursive`), so "entries checked of entries in the list" is a share that also moves on
 * a nightly run that sends little, where rsync's own percent (bytes sent of the list's whole size)
 * stays near 0; its percent still moves within a large file on a first copy. The share is the
 * further of the two and never goes back. Several sources are copied one after the other, each
 * one an equal part of the run: the next source's list is not known before its rsync starts.
 */
import type { WholeProgress } from './rsync-output.ts';

/** Which of the run's copies this is (0-based) and how many there are. */
export interface CopyPosition {
  index: number;
  of: number;
}

/** One copy's share of the run, fed with its rsync's progress lines. */
export class ListShare {
  private own = 0;

  constructor(private readonly position: CopyPosition = { index: 0, of: 1 }) {}

  /** Notes a progress line; returns whether the run's share grew. */
  note(progress: WholeProgress): boolean {
    let share = progress.percent / 100;
    const list = progress.toCheck;
    // `ir-chk` totals still grow (incremental recursion): only a final list's count is a share.
    if (list?.final && list.of > 0) share = Math.max(share, (list.of - list.left) / list.of);
    if (share <= this.own) return false;
    this.own = Math.min(1, share);
    return true;
  }

  /** Notes that the copy is complete. */
  finished(): void {
    this.own = 1;
  }

  /** The whole run's share (0–1) this copy has reached. */
  get ofRun(): number {
    const { index, of } = this.position;
    return Math.min(1, (index + this.own) / Math.max(1, of));
  }
}
