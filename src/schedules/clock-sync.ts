/**
 * Whether the wall clock can be trusted for scheduled runs. A Raspberry Pi has no battery-backed
 * clock: until network time arrives it runs from the last shutdown's time (or 1970), and a
 * schedule fired then would run at the wrong hour and stamp its snapshot with a wrong date.
 *
 * Only where the owner asks (CAIRN_WAIT_FOR_CLOCK_SYNC, set by the appliance image): a dev box or a
 * server without systemd-timesyncd has no way to say "synchronised" and must not wait forever.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

/** What the scheduler and the health check read: a synchronous answer, kept up to date in the background. */
export interface ClockTrust {
  /** True when schedules may fire by the wall clock now. */
  synchronized(): boolean;
}

/** A clock that is always trusted: the gate is off. */
export const TRUSTED_CLOCK: ClockTrust = { synchronized: () => true };

/** How often an unsynchronised clock is asked again. */
export const CLOCK_PROBE_EVERY_MS = 15_000;

/** systemd-timesyncd creates this file when it first synchronised the clock (systemd ≥ 239). */
export const TIMESYNC_FLAG_FILE = '/run/systemd/timesync/synchronized';

/**
 * Asks the system whether the clock is synchronised: timesyncd's flag file, else
 * `timedatectl show -p NTPSynchronized` (the kernel's view, which chrony or ntpd set too).
 * Resolves false on any error: a box that cannot tell is not trusted while the gate is on.
 */
export async function systemClockSynchronized(): Promise<boolean> {
  if (await access(TIMESYNC_FLAG_FILE).then(() => true, () => false)) return true;
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5000 }, (error, stdout) => {
      resolve(!error && String(stdout).trim() === 'yes');
    });
  });
}

export interface ClockSyncWatchOptions {
  /** Whether the clock is synchronised now (default: systemClockSynchronized); tests drive it. */
  probe?: () => Promise<boolean>;
  /** Called once when the clock becomes synchronised (the daemon replans the schedules). */
  onSynchronized?: () => void;
  log?: { info(message: string): void; warn(message: string): void };
  /** Between probes while unsynchronised (default CLOCK_PROBE_EVERY_MS). */
  probeEveryMs?: number;
}

/**
 * Watches until the clock is synchronised, then stops asking: once set from the network, the clock
 * stays right (timesyncd keeps it so), and a later loss of the server does not make it wrong.
 * `synchronized()` is false until the first probe has said yes.
 */
export class ClockSyncWatch implements ClockTrust {
  private synced = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly probe: () => Promise<boolean>;

  constructor(private readonly options: ClockSyncWatchOptions = {}) {
    this.probe = options.probe ?? systemClockSynchronized;
  }

  /** Probes at once and, while unsynchronised, every `probeEveryMs`; resolves after the first probe. */
  async start(): Promise<void> {
    await this.check();
    if (!this.synced) this.options.log?.warn('Scheduled runs wait until the system clock is synchronised (no network time yet)');
  }

  /** Probes once now (the watch's timer does this on its own; tests call it to step the watch). */
  async check(): Promise<boolean> {
    if (this.synced || this.stopped) return this.synced;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const synced = await this.probe().catch(() => false);
    if (this.stopped) return this.synced;
    if (synced) {
      this.synced = true;
      this.options.log?.info('The system clock is synchronised: scheduled runs go ahead');
      this.options.onSynchronized?.();
    } else {
      this.timer = setTimeout(() => void this.check(), this.options.probeEveryMs ?? CLOCK_PROBE_EVERY_MS);
      this.timer.unref();
    }
    return this.synced;
  }

  synchronized(): boolean {
    return this.synced;
  }

  /** Stops probing; the answer stays what it was. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
