/**
 * Applies the rules to what happens: every finished run (backup result, verify result, destination
 * space) and a periodic overdue check that runs even when a job never starts (a USB drive left
 * unplugged). Work is done one event at a time, so two runs ending together cannot both alert.
 */
import type { AlertState, NotifyRules } from '../domain/notifications.ts';
import { effectiveRules } from '../domain/notifications.ts';
import type { JobRecord } from '../domain/jobs.ts';
import type { RunRecord } from '../domain/runs.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { AlertStateRepository, JobRepository, RunRepository } from '../store/index.ts';
import { afterBackup, afterVerify, checkOverdue, checkSpace, runKindOf, type Decision } from './alert-rules.ts';
import type { AlertSender } from './alert-sender.ts';
import { spaceOf } from './free-space.ts';
import { composeAlert, type AlertFacts } from './messages.ts';

/** How often the overdue check runs unless told otherwise. */
export const OVERDUE_CHECK_MS = 5 * 60 * 1000;

export interface AlertMonitorDependencies {
  events: EventBus;
  jobs: JobRepository;
  runs: RunRepository;
  states: AlertStateRepository;
  sender: AlertSender;
  /** The settings' default rules and time zone, read at each event. */
  defaults(): NotifyRules;
  timezone(): string;
  box: string;
  /** Folders on this machine a job's destination writes to, deepest first (none for remote ones). */
  localFoldersOf(job: JobRecord): string[];
  /** The removable drive a job backs up to (a name for the message) and whether it is attached now; null for other destinations or when unknown. */
  driveOf(job: JobRecord): Promise<{ name: string; attached: boolean } | null>;
  /** The alert clock; tests drive it. */
  now: () => Date;
  log: Logger;
  checkEveryMs?: number;
}

export class AlertMonitor {
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: AlertMonitorDependencies) {}

  /** Starts listening to runs and the periodic overdue check. */
  start(): void {
    this.unsubscribe = this.deps.events.on('run:finished', (run) => this.enqueue(() => this.onRunFinished(run)));
    this.timer = setInterval(() => this.enqueue(() => this.checkOverdue()), this.deps.checkEveryMs ?? OVERDUE_CHECK_MS);
    this.timer.unref();
  }

  /** Stops listening and waits for alerts under way. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.queue;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work).catch((error) => this.deps.log.error('alert rules failed', { error: String((error as Error).stack ?? error) }));
    return this.queue;
  }

  private rulesOf(job: JobRecord): NotifyRules {
    return effectiveRules(this.deps.defaults(), job.notify);
  }

  private async onRunFinished(run: RunRecord): Promise<void> {
    const job = this.deps.jobs.byId(run.job_id);
    // A cancelled run says nothing about whether backups work.
    const kind = runKindOf(run.trigger);
    if (!job || kind === 'other' || (run.status !== 'completed' && run.status !== 'failed')) return;
    const rules = this.rulesOf(job);
    const now = this.deps.now();
    const state = this.deps.states.of(job.id);
    const outcome = kind === 'verify' ? afterVerify(state, run.status, rules, now) : afterBackup(state, run.status, rules, now);
    let next = outcome.state;
    await this.alert(job, rules, outcome.alerts, { error: run.error_message, at: now });
    if (kind === 'backup') next = await this.afterSpace(job, rules, next, now);
    await this.deps.states.save(next);
  }

  private async afterSpace(job: JobRecord, rules: NotifyRules, state: AlertState, now: Date): Promise<AlertState> {
    const folders = this.deps.localFoldersOf(job);
    if (rules.space_percent === null || folders.length === 0) return state;
    const space = await spaceOf(folders);
    if (!space) return state;
    const outcome = checkSpace(state, space.usedPercent, rules, now);
    await this.alert(job, rules, outcome.alerts, { error: null, at: now, usedPercent: space.usedPercent, freeBytes: space.freeBytes, folder: space.folder });
    return outcome.state;
  }

  private async checkOverdue(): Promise<void> {
    const now = this.deps.now();
    // What the rules remembered about deleted jobs goes with them.
    await this.deps.states.keepOnly(new Set(this.deps.jobs.all().map((job) => job.id)));
    for (const job of this.deps.jobs.all()) {
      const rules = this.rulesOf(job);
      if (!job.enabled || rules.overdue_hours === null) continue;
      const state = this.deps.states.of(job.id);
      const outcome = checkOverdue(state, this.lastSuccessOf(job, state), rules, now);
      if (outcome.alerts.length === 0) continue;
      const lastError = state.failing ? (this.deps.runs.ofJob(job.id).find((run) => run.status === 'failed')?.error_message ?? null) : null;
      // "Not plugged in" only when it is true now; a drive that is there but fails gets the plain words and the error.
      const removable = await this.deps.driveOf(job);
      const drive = removable && !removable.attached ? removable.name : null;
      await this.alert(job, rules, outcome.alerts, { error: lastError, at: now, overdueHours: outcome.hours, drive });
      await this.deps.states.save(outcome.state);
    }
  }

  /** The job's last success: remembered by the rules, else its newest completed run kept, else its creation. */
  private lastSuccessOf(job: JobRecord, state: AlertState): Date {
    if (state.last_success_at) return new Date(state.last_success_at);
    const completed = this.deps.runs.ofJob(job.id).find((run) => run.status === 'completed' && runKindOf(run.trigger) === 'backup' && run.completed_at);
    return new Date(completed?.completed_at ?? job.created_at);
  }

  private async alert(job: JobRecord, rules: NotifyRules, decisions: Decision[], facts: Omit<AlertFacts, 'event' | 'job' | 'timezone' | 'box'>): Promise<void> {
    for (const decision of decisions) {
      const message = composeAlert({
        ...facts,
        event: decision.event,
        job: { id: job.id, name: job.name },
        timezone: this.deps.timezone(),
        box: this.deps.box,
        since: decision.since ? new Date(decision.since) : null,
      });
      await this.deps.sender.send(rules.channel_ids, message);
    }
  }
}
