/**
 * Fires schedules at their next run, in-process. One timer for the earliest due schedule, never
 * longer than MAX_SLEEP_MS, so clock jumps and setTimeout's 24.8-day limit are caught on the next
 * wake-up. Runs missed while the daemon was down are not replayed: due times start from now.
 */
import type { StoredSchedule } from '../domain/schedules.ts';
import { nextRunAfter } from './next-run.ts';

const MAX_SLEEP_MS = 60_000;

export interface SchedulerOptions {
  /** Every schedule, enabled or not. */
  schedules(): readonly StoredSchedule[];
  timezone(): string;
  /** Called once per due time of an enabled schedule; must not throw. */
  fire(schedule: StoredSchedule): void;
  now?: () => Date;
  log?: (message: string) => void;
}

interface Planned {
  due: Date;
  /** The rule and time zone the due time was computed from; a change replans. */
  key: string;
}

export class Scheduler {
  private readonly planned = new Map<number, Planned>();
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private running = false;
  private readonly now: () => Date;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.running = true;
    this.refresh();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Re-reads schedules and the time zone; call after any change to either. */
  refresh(): void {
    if (!this.running) return;
    this.plan(this.now());
    this.arm();
  }

  /** The due time planned for a schedule (tests and diagnostics). */
  dueOf(scheduleId: number): Date | undefined {
    return this.planned.get(scheduleId)?.due;
  }

  private plan(now: Date): void {
    const timezone = this.options.timezone();
    const seen = new Set<number>();
    for (const schedule of this.options.schedules()) {
      if (!schedule.enabled) continue;
      seen.add(schedule.id);
      const key = JSON.stringify([schedule.schedule_type, schedule.hour, schedule.minute, schedule.day_of_week, schedule.day_of_month, schedule.cron_expression, timezone]);
      if (this.planned.get(schedule.id)?.key === key) continue;
      const due = nextRunAfter(schedule, now, timezone);
      if (due) this.planned.set(schedule.id, { due, key });
      else this.planned.delete(schedule.id);
    }
    for (const id of this.planned.keys()) if (!seen.has(id)) this.planned.delete(id);
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    const now = this.now().getTime();
    let earliest = now + MAX_SLEEP_MS;
    for (const { due } of this.planned.values()) earliest = Math.min(earliest, due.getTime());
    this.timer = setTimeout(() => this.tick(), Math.max(0, earliest - now));
    this.timer.unref();
  }

  private tick(): void {
    const now = this.now();
    if (now.getTime() < this.lastTick) {
      // The clock went back: due times computed before may now lie far ahead; start over from now.
      this.options.log?.('system clock moved backwards; schedules recomputed');
      this.planned.clear();
    }
    this.lastTick = now.getTime();
    this.plan(now);
    const byId = new Map(this.options.schedules().map((schedule) => [schedule.id, schedule]));
    for (const [id, planned] of this.planned) {
      // setTimeout may wake early; only a due time that has really passed fires.
      if (planned.due.getTime() > now.getTime()) continue;
      const schedule = byId.get(id)!;
      // The next due time is computed from now, not from the missed one, so a jump ahead fires once.
      const next = nextRunAfter(schedule, now, this.options.timezone());
      if (next) this.planned.set(id, { due: next, key: planned.key });
      else this.planned.delete(id);
      this.options.fire(schedule);
    }
    this.arm();
  }
}
