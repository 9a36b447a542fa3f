/** Jobs, their schedules and their runs in the database. Changes resolve once durably written. */
import type { JobInput, JobRecord } from '../domain/jobs.ts';
import type { RunRecord, RunSummary } from '../domain/runs.ts';
import type { ScheduleInput, StoredSchedule } from '../domain/schedules.ts';
import type { Database } from './database.ts';
import { nextId, now } from './repositories.ts';

export class JobRepository {
  constructor(private readonly db: Database) {}

  all(): readonly JobRecord[] {
    return this.db.data.jobs;
  }

  byId(id: number): JobRecord | undefined {
    return this.db.data.jobs.find((job) => job.id === id);
  }

  byName(name: string): JobRecord | undefined {
    return this.db.data.jobs.find((job) => job.name === name);
  }

  async create(input: JobInput): Promise<JobRecord> {
    const timestamp = now();
    const job: JobRecord = { id: nextId(this.db.data, 'jobs'), ...input, created_at: timestamp, updated_at: timestamp };
    this.db.data.jobs.push(job);
    await this.db.write();
    return job;
  }

  async update(id: number, input: JobInput): Promise<JobRecord> {
    const job = this.byId(id);
    if (!job) throw new Error(`job ${id} does not exist`);
    Object.assign(job, input, { updated_at: now() });
    await this.db.write();
    return job;
  }

  /**
   * Deletes the job with its schedules, run records, snapshot tally and run counters (the caller
   * removes run logs); the daily series keeps what its runs did.
   */
  async delete(id: number): Promise<RunRecord[]> {
    const data = this.db.data;
    const runs = data.runs.filter((run) => run.job_id === id);
    data.jobs = data.jobs.filter((job) => job.id !== id);
    data.schedules = data.schedules.filter((schedule) => schedule.job_id !== id);
    data.runs = data.runs.filter((run) => run.job_id !== id);
    data.snapshot_tallies = data.snapshot_tallies.filter((tally) => tally.job_id !== id);
    data.run_stats.jobs = data.run_stats.jobs.filter((entry) => entry.job_id !== id);
    await this.db.write();
    return runs;
  }
}

export class ScheduleRepository {
  constructor(private readonly db: Database) {}

  all(): readonly StoredSchedule[] {
    return this.db.data.schedules;
  }

  ofJob(jobId: number): StoredSchedule[] {
    return this.db.data.schedules.filter((schedule) => schedule.job_id === jobId);
  }

  byId(id: number): StoredSchedule | undefined {
    return this.db.data.schedules.find((schedule) => schedule.id === id);
  }

  async create(jobId: number, input: ScheduleInput): Promise<StoredSchedule> {
    const schedule = { ...input, id: nextId(this.db.data, 'schedules'), job_id: jobId, created_at: now() } as StoredSchedule;
    this.db.data.schedules.push(schedule);
    await this.db.write();
    return schedule;
  }

  async update(id: number, input: ScheduleInput): Promise<StoredSchedule> {
    const schedule = this.byId(id);
    if (!schedule) throw new Error(`schedule ${id} does not exist`);
    Object.assign(schedule, input);
    await this.db.write();
    return schedule;
  }

  async delete(id: number): Promise<void> {
    this.db.data.schedules = this.db.data.schedules.filter((schedule) => schedule.id !== id);
    await this.db.write();
  }
}

export type NewRun = Omit<RunRecord, 'id' | 'created_at'>;

export class RunRepository {
  constructor(private readonly db: Database) {}

  byId(id: number): RunRecord | undefined {
    return this.db.data.runs.find((run) => run.id === id);
  }

  /** Every run record, in the order they were made. */
  all(): readonly RunRecord[] {
    return this.db.data.runs;
  }

  /** Runs of a job, newest first. */
  ofJob(jobId: number): RunRecord[] {
    return this.db.data.runs.filter((run) => run.job_id === jobId).sort((a, b) => b.id - a.id);
  }

  /** Runs in any of the given states, oldest first. */
  inStatus(...statuses: RunRecord['status'][]): RunRecord[] {
    return this.db.data.runs.filter((run) => statuses.includes(run.status)).sort((a, b) => a.id - b.id);
  }

  latestOf(jobId: number): RunSummary | null {
    let latest: RunRecord | undefined;
    for (const run of this.db.data.runs) if (run.job_id === jobId && (!latest || run.id > latest.id)) latest = run;
    return latest ? { id: latest.id, status: latest.status, started_at: latest.started_at, completed_at: latest.completed_at } : null;
  }

  async create(fields: NewRun): Promise<RunRecord> {
    const run: RunRecord = { id: nextId(this.db.data, 'runs'), created_at: now(), ...fields };
    this.db.data.runs.push(run);
    await this.db.write();
    return run;
  }

  /** Applies `change` to the run and saves it. */
  async update(run: RunRecord, change: Partial<RunRecord>): Promise<RunRecord> {
    Object.assign(run, change);
    await this.db.write();
    return run;
  }

  /** Deletes the given runs; returns how many were deleted. */
  async deleteMany(ids: number[]): Promise<number> {
    const doomed = new Set(ids);
    const before = this.db.data.runs.length;
    this.db.data.runs = this.db.data.runs.filter((run) => !doomed.has(run.id));
    await this.db.write();
    return before - this.db.data.runs.length;
  }
}
