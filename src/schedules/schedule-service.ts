/**
 * Schedule workflows behind the API (contract: Schedules) and what a fire does: a schedule is
 * checked, saved, and the timers follow at once; a fire starts its job's run unless the job is
 * disabled or still busy. The service owns the in-process `Scheduler`, so nothing else has to
 * remember to refresh it after a change.
 */
import { notFound } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';
import { requireSnapshotMode, type LogLevel, type RunRecord } from '../domain/runs.ts';
import { normalizeScheduleInput, type ScheduleInput, type ScheduleRecord, type ScheduleView } from '../domain/schedules.ts';
import type { Logger } from '../log.ts';
import type { ScheduleRepository } from '../store/index.ts';
import { checkCronExpression } from './cron-patterns.ts';
import { scheduleViewOf, scheduleViewsOf } from './schedule-view.ts';
import { Scheduler } from './scheduler.ts';

/** What a fire needs of the run manager (runs/RunManager implements it). */
export interface ScheduledRuns {
  /** The job's pending or running run, if any. */
  activeRunOf(jobId: number): RunRecord | undefined;
  /** Adds a line to the job's active run's log, if it has one. */
  noteOnActiveRun(jobId: number, level: LogLevel, message: string): void;
  /** Starts a run; rejects with a CairnError when it cannot. */
  request(jobId: number, request: { trigger: 'scheduled'; scheduleId: number }): Promise<unknown>;
  /** Starts a verify run of the job's newest snapshot (as of when it starts); rejects with a CairnError when it cannot. */
  requestScheduledVerify(jobId: number, percent: number, scheduleId: number): Promise<unknown>;
}

export interface ScheduleServiceDependencies {
  schedules: ScheduleRepository;
  /** Jobs as stored: a schedule belongs to one, and a fire reads whether it is enabled. */
  jobs: { byId(id: number): JobRecord | undefined };
  runs: ScheduledRuns;
  /** The settings' IANA time zone, read whenever a schedule is planned or shown. */
  timezone(): string;
  /** The wall clock schedules fire by (default: the system's); tests move it. */
  now?: () => Date;
  /** Whether that clock may be believed (default: always); see clock-sync.ts. */
  clockTrusted?: () => boolean;
  log: Logger;
}

export class ScheduleService {
  private readonly scheduler: Scheduler;

  constructor(private readonly deps: ScheduleServiceDependencies) {
    this.scheduler = new Scheduler({
      schedules: () => deps.schedules.all(),
      timezone: deps.timezone,
      fire: (schedule) => this.fire(schedule),
      log: (message) => deps.log.info(message),
      now: deps.now,
      clockTrusted: deps.clockTrusted,
    });
  }

  /** Starts firing (runs missed while stopped are not made up; see scheduler.ts). */
  start(): void {
    this.scheduler.start();
  }

  /** Stops firing; nothing fires after this returns. */
  stop(): void {
    this.scheduler.stop();
  }

  /**
   * Replans after a change made elsewhere: a job saved, cloned or deleted (its schedules went with
   * it), or the settings' time zone moved.
   */
  refresh(): void {
    this.scheduler.refresh();
  }

  /** The job's schedules as the API shows them; 404 JOB_NOT_FOUND when the job does not exist. */
  ofJob(jobId: number): ScheduleView[] {
    this.requireJob(jobId);
    return this.viewsOf(jobId);
  }

  /** The job's schedules with their next run; an unknown job simply has none. */
  viewsOf(jobId: number): ScheduleView[] {
    return scheduleViewsOf(this.deps.schedules.ofJob(jobId), this.deps.timezone());
  }

  /** Adds a schedule to a job (404 for an unknown job, 400 for a rule that cannot run). */
  async create(jobId: number, input: ScheduleInput): Promise<ScheduleView> {
    const checked = this.checkedFor(this.requireJob(jobId), input);
    const schedule = await this.deps.schedules.create(jobId, checked);
    this.scheduler.refresh();
    return this.view(schedule);
  }

  /** Replaces a schedule's rule (404 SCHEDULE_NOT_FOUND, 400 for a rule that cannot run). */
  async update(id: number, input: ScheduleInput): Promise<ScheduleView> {
    const checked = this.checkedFor(this.requireJob(this.require(id).job_id), input);
    const schedule = await this.deps.schedules.update(id, checked);
    this.scheduler.refresh();
    return this.view(schedule);
  }

  /** Deletes a schedule (404 SCHEDULE_NOT_FOUND); it does not fire after this resolves. */
  async delete(id: number): Promise<void> {
    this.require(id);
    await this.deps.schedules.delete(id);
    this.scheduler.refresh();
  }

  /**
   * A schedule came due: run its job, unless the job is gone or disabled (nothing to say), or it
   * still has a run (then the skip is logged and noted in that run's log, so the owner sees why a
   * backup did not start; queueing it would pile up runs behind a slow one).
   */
  fire(schedule: ScheduleRecord): void {
    const job = this.deps.jobs.byId(schedule.job_id);
    if (!job || !job.enabled) return;
    const busy = this.deps.runs.activeRunOf(job.id);
    if (busy) {
      const message = `Scheduled run (schedule ${schedule.id}) skipped: this job was still ${busy.status}`;
      this.deps.log.info(message, { job_id: job.id });
      this.deps.runs.noteOnActiveRun(job.id, 'warning', message);
      return;
    }
    const started =
      (schedule.action ?? 'backup') === 'verify'
        ? this.deps.runs.requestScheduledVerify(job.id, schedule.verify_percent ?? 100, schedule.id)
        : this.deps.runs.request(job.id, { trigger: 'scheduled', scheduleId: schedule.id });
    started.catch((error) => this.deps.log.error('scheduled run could not start', { job_id: job.id, error: String(error) }));
  }

  private view(schedule: ScheduleRecord): ScheduleView {
    return scheduleViewOf(schedule, this.deps.timezone());
  }

  private require(id: number): ScheduleRecord {
    const schedule = this.deps.schedules.byId(id);
    if (!schedule) throw notFound('SCHEDULE_NOT_FOUND', 'Schedule not found');
    return schedule;
  }

  private requireJob(jobId: number): JobRecord {
    const job = this.deps.jobs.byId(jobId);
    if (!job) throw notFound('JOB_NOT_FOUND', 'Job not found');
    return job;
  }

  private checkedFor(job: JobRecord, input: ScheduleInput): ScheduleInput {
    const checked = checkedInput(input);
    if (checked.action === 'verify') requireSnapshotMode(job);
    return checked;
  }
}

/** The body with the fields its type does not use nulled, and a custom cron expression checked. */
function checkedInput(payload: ScheduleInput): ScheduleInput {
  const input = normalizeScheduleInput(payload);
  if (input.cron_expression !== null) checkCronExpression(input.cron_expression);
  return input;
}
