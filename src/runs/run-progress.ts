/**
 * A run's progress: the totals a destination reports, read against the plan it gave before copying,
 * as percent, rate and time left; or, from a destination that cannot plan (local without
 * `count_first`), against how far through its work it says it is: a percent and a time left at
 * that pace, with totals known only at the end (what was sent). One meter per attempt (a retry
 * plans again).
 */
import type { RunProgress, TransferPlan, TransferTotals } from '../domain/runs.ts';

/** How far back the rate looks: long enough to smooth file-by-file steps, short enough to follow a change. */
export const RATE_WINDOW_MS = 10_000;

interface Sample {
  at: number;
  /** Bytes sent (totals) or share of the work (0–1), by the series. */
  value: number;
}

/** Turns plans and cumulative totals into RunProgress. `now` is injectable for tests. */
export class ProgressMeter {
  private plan: TransferPlan | null = null;
  private done: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  private samples: Sample[] = [];
  private share: number | null = null;
  private shares: Sample[] = [];
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
    remember(this.samples, { at, value: totals.bytes_transferred });
  }

  /** Notes how far through its work the attempt is (0–1; see SyncContext.advanced); a smaller share than before is ignored. */
  advanced(share: number): void {
    this.share = Math.max(this.share ?? 0, Math.min(1, share));
    remember(this.shares, { at: this.now(), value: this.share });
  }

  /** The progress now; with `finished`, the attempt is done: 100 % and nothing left. */
  view(finished = false): RunProgress {
    if (!this.plan && this.share !== null) return this.viewByShare(finished);
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

  /** Without a plan, nothing says what will be sent: the totals are known at the end, and are then what was sent. */
  private viewByShare(finished: boolean): RunProgress {
    const { done } = this;
    const share = this.share ?? 0;
    const percent = Math.max(this.highest, finished ? 100 : Math.min(99.9, Math.floor(share * 1000) / 10));
    this.highest = percent;
    const pace = perSecond(this.shares);
    return {
      percent,
      bytes_done: done.bytes_transferred,
      bytes_total: finished ? done.bytes_transferred : null,
      files_done: done.files_transferred,
      files_total: finished ? done.files_transferred : null,
      rate_bytes_per_s: this.rate(),
      eta_seconds: finished ? 0 : pace ? Math.ceil((1 - share) / pace) : null,
    };
  }

  private rate(): number | null {
    const rate = perSecond(this.samples);
    return rate === null ? null : Math.round(rate);
  }
}

/** Adds a sample, forgetting those older than the window (keeping two to measure across a pause). */
function remember(samples: Sample[], sample: Sample): void {
  samples.push(sample);
  while (samples.length > 2 && samples[0].at < sample.at - RATE_WINDOW_MS) samples.shift();
}

/** How fast the series grew across its window; null over less than half a second (or when it did not grow, for a pace). */
function perSecond(samples: Sample[]): number | null {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (last.at - first.at < 500) return null;
  return ((last.value - first.value) * 1000) / (last.at - first.at);
}
