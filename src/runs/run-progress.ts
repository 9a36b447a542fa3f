/**
 * A run's progress: the totals a destination reports, read against the plan it gave before copying,
 * as percent, rate and time left. One meter per attempt (a retry plans again).
 */
import type { RunProgress, TransferPlan, TransferTotals } from '../domain/runs.ts';

/** How far back the rate looks: long enough to smooth file-by-file steps, short enough to follow a change. */
export const RATE_WINDOW_MS = 10_000;

interface Sample {
  at: number;
  bytes: number;
}

/** Turns plans and cumulative totals into RunProgress. `now` is injectable for tests. */
export class ProgressMeter {
  private plan: TransferPlan | null = null;
  private done: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  private samples: Sample[] = [];
  private highest = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Notes what the attempt will send; a later plan (a destination planning again) replaces it. */
  planned(plan: TransferPlan): void {
    this.plan = { files: plan.files, bytes: plan.bytes };
  }

  /** Notes the attempt's cumulative totals so far. */
  moved(totals: TransferTotals): void {
    this.done = { ...totals };
    const at = this.now();
    this.samples.push({ at, bytes: totals.bytes_transferred });
    while (this.samples.length > 2 && this.samples[0].at < at - RATE_WINDOW_MS) this.samples.shift();
  }

  /** The progress now; with `finished`, the attempt is done: 100 % and nothing left. */
  view(finished = false): RunProgress {
    const { plan, done } = this;
    const rate = this.rate();
    let percent: number | null = null;
    if (plan) {
      const fraction = plan.bytes > 0 ? done.bytes_transferred / plan.bytes : plan.files > 0 ? done.files_transferred / plan.files : 1;
      // A file that grew since the plan may push past it: 100 % is said only at the end.
      const shown = finished ? 100 : Math.min(99.9, Math.floor(fraction * 1000) / 10);
      percent = Math.max(this.highest, shown);
      this.highest = percent;
    }
    const left = plan ? Math.max(0, plan.bytes - done.bytes_transferred) : null;
    return {
      percent,
      bytes_done: done.bytes_transferred,
      bytes_total: plan?.bytes ?? null,
      files_done: done.files_transferred,
      files_total: plan?.files ?? null,
      rate_bytes_per_s: rate,
      eta_seconds: finished ? 0 : left === null ? null : left === 0 ? 0 : rate ? Math.ceil(left / rate) : null,
    };
  }

  private rate(): number | null {
    if (this.samples.length < 2) return null;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (last.at - first.at < 500) return null;
    return Math.round(((last.bytes - first.bytes) * 1000) / (last.at - first.at));
  }
}
