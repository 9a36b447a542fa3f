/**
 * The in-process scheduler: fires each enabled schedule at its next run, then plans the one after.
 *
 * What it promises:
 * - Runs missed while the scheduler was stopped (the daemon down) are not made up: start() plans
 *   every schedule from now.
 * - Never early: a timer that wakes before a due time by the wall clock goes back to sleep.
 * - At most one fire per schedule per due time. Due times the clock jumped over (suspend and
 *   resume, NTP stepping forward) fire once when noticed, and the next is planned from then, not
 *   from the missed one, so there is no burst. A clock set back does not fire a due time again.
 * - It looks at the clock at least once a minute: setTimeout counts on a monotonic clock that
 *   ignores changes to the wall clock and (on Linux) stops during suspend, and it cannot wait
 *   longer than 2^31-1 ms.
 * - While the clock is not trusted (`clockTrusted`, the appliance's wait for network time) nothing
 *   is planned or fired; once it is, every schedule is planned from then, as at start().
 * Whether the job is already running is the fire callback's business (ScheduleService.fire), not
 * the scheduler's.
 */
import type { ScheduleRecord } from '../domain/schedules.ts';
import { nextRunOf } from './next-run.ts';

/** Longest sleep between looks at the clock. */
const MAX_SLEEP_MS = 60_000;

/**
 * After the clock is set back, a due time that already fired is not fired again unless it lies
 * more than this far ahead of the new time: then the clock was wrong when it fired, and waiting
 * for that time again would stall the schedule.
 */
const TRUSTED_FIRE_AHEAD_MS = 86_400_000;

export interface SchedulerOptions {
  /** Every schedule, enabled or not, as stored now; read on each look at the clock. */
  schedules: () => readonly ScheduleRecord[];
  /** The settings' IANA time zone; read on each look. */
  timezone: () => string;
  /** Called once per due time of an enabled schedule. Should not throw; a throw is logged. */
  fire: (schedule: ScheduleRecord) => void;
  /** The wall clock (default: the system's); tests move it. */
  now?: () => Date;
  /** Whether the wall clock may be believed now (default: always); read on each look. */
  clockTrusted?: () => boolean;
  log?: (message: string) => void;
}

interface Plan {
  /** Epoch ms the schedule fires at; Infinity when it never runs again. */
  due: number;
  /** The rule and time zone `due` was computed from; when either changes, the plan is remade. */
  basis: string;
}

function basisOf(schedule: ScheduleRecord, timezone: string): string {
  const { schedule_type, hour, minute, day_of_week, day_of_month, cron_expression } = schedule;
  return JSON.stringify([schedule_type, hour, minute, day_of_week, day_of_month, cron_expression, timezone]);
}

/** Fires schedules at their due times; see the module comment for what it promises. */
export class Scheduler {
  private readonly plans = new Map<number, Plan>();
  /** The due time each schedule last fired for, so a clock set back does not repeat it. */
  private readonly lastFired = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** The clock's reading at the last look, to notice it going back. */
  private lastLook = -Infinity;
  private readonly clock: () => Date;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.now ?? (() => new Date());
  }

  /** Starts firing. Every schedule is planned from now: runs missed while stopped are not made up. */
  start(): void {
    if (this.running) {
      this.refresh();
      return;
    }
    this.running = true;
    this.look();
  }

  /** Stops firing and forgets the plans; nothing fires after this returns, until start(). */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.plans.clear();
  }

  /**
   * Re-reads the schedules and the time zone: call after any change to either. A new or changed
   * schedule (or every one, when the time zone changed) is planned from now; an unchanged one
   * keeps its due time, so a refresh just after a due time does not lose that run.
   */
  refresh(): void {
    if (this.running) this.look();
  }

  /** When a schedule fires next as planned (diagnostics and tests); undefined when it will not. */
  dueOf(scheduleId: number): Date | undefined {
    const due = this.plans.get(scheduleId)?.due;
    return due === undefined || due === Infinity ? undefined : new Date(due);
  }

  /** Brings the plans up to date, fires what is due, and sleeps until the next due time. */
  private look(): void {
    const now = this.clock().getTime();
    if (!(this.options.clockTrusted?.() ?? true)) {
      // Plans made from a wrong clock would fire at a wrong time once it is set: make none until then.
      this.plans.clear();
      this.lastLook = -Infinity;
      this.arm();
      return;
    }
    try {
      const timezone = this.options.timezone();
      const schedules = this.options.schedules();
      this.plan(schedules, timezone, now);
      this.fireDue(schedules, timezone, now);
    } catch (error) {
      this.options.log?.(`schedules could not be planned: ${String(error)}`);
    }
    this.arm();
  }

  private plan(schedules: readonly ScheduleRecord[], timezone: string, now: number): void {
    const clockWentBack = now < this.lastLook;
    if (clockWentBack) this.options.log?.(`the system clock went back ${Math.round((this.lastLook - now) / 1000)} s; schedules replanned from the new time`);
    this.lastLook = now;
    const enabled = new Set<number>();
    for (const schedule of schedules) {
      if (!schedule.enabled) continue;
      enabled.add(schedule.id);
      const basis = basisOf(schedule, timezone);
      if (this.plans.get(schedule.id)?.basis === basis && !clockWentBack) continue;
      this.planFrom(schedule, timezone, basis, now);
    }
    for (const id of this.plans.keys()) if (!enabled.has(id)) this.plans.delete(id);
    const present = new Set(schedules.map((schedule) => schedule.id));
    for (const id of this.lastFired.keys()) if (!present.has(id)) this.lastFired.delete(id);
  }

  /** Plans a schedule's next due time after `from`, skipping a due time it already fired. */
  private planFrom(schedule: ScheduleRecord, timezone: string, basis: string, from: number): void {
    const fired = this.lastFired.get(schedule.id);
    const firedAhead = fired !== undefined && fired >= from && fired - from <= TRUSTED_FIRE_AHEAD_MS;
    let due = Infinity;
    try {
      due = nextRunOf(schedule, timezone, new Date(firedAhead ? fired : from))?.getTime() ?? Infinity;
    } catch (error) {
      // Planned as never, so one bad schedule neither stops the others nor logs every minute.
      this.options.log?.(`schedule ${schedule.id} cannot be planned: ${String(error)}`);
    }
    this.plans.set(schedule.id, { due, basis });
  }

  private fireDue(schedules: readonly ScheduleRecord[], timezone: string, now: number): void {
    const byId = new Map(schedules.map((schedule) => [schedule.id, schedule]));
    const due: ScheduleRecord[] = [];
    for (const [id, plan] of this.plans) {
      if (plan.due > now) continue;
      // plan() has just dropped the plans of schedules that are gone or disabled.
      const schedule = byId.get(id)!;
      this.lastFired.set(id, plan.due);
      // From now, not from the due time: a clock that jumped over many due times fires once.
      this.planFrom(schedule, timezone, plan.basis, now);
      due.push(schedule);
    }
    // Plans are settled before any callback, so one that calls refresh() or stop() sees them whole.
    for (const schedule of due) {
      if (!this.running) return;
      try {
        this.options.fire(schedule);
      } catch (error) {
        this.options.log?.(`schedule ${schedule.id} fired, but its callback failed: ${String(error)}`);
      }
    }
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    // Read again: fire callbacks may have taken a while.
    const now = this.clock().getTime();
    let wake = now + MAX_SLEEP_MS;
    for (const plan of this.plans.values()) wake = Math.min(wake, plan.due);
    this.timer = setTimeout(() => this.look(), Math.max(0, wake - now));
    // The daemon's server keeps the process alive; a pending wake-up alone should not.
    this.timer.unref();
  }
}
