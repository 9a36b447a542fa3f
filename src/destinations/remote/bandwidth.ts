/** A bandwidth limit shared by every upload of a run, in KiB/s as rsync's --bwlimit counts it. */
import { setTimeout as sleep } from 'node:timers/promises';

export class BandwidthLimit {
  private nextFreeAt = 0;
  private readonly bytesPerMs: number;

  constructor(kibPerSecond: number) {
    this.bytesPerMs = (kibPerSecond * 1024) / 1000;
  }

  /** Resolves when `bytes` more may be sent without going over the limit. */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const start = Math.max(now, this.nextFreeAt);
    this.nextFreeAt = start + bytes / this.bytesPerMs;
    if (start > now) await sleep(start - now, undefined, { signal });
  }
}
