/** Reading and deleting run history: run records and their logs, never an active run. */
import { conflict, notFound } from '../domain/errors.ts';
import { isFinished, type LogEntry, type LogLevel, type RunRecord } from '../domain/runs.ts';
import type { RunLogs } from '../logs/index.ts';
import type { JobRepository, RunRepository } from '../store/index.ts';

export class RunHistory {
  constructor(
    private readonly runs: RunRepository,
    private readonly jobs: JobRepository,
    private readonly logs: RunLogs,
  ) {}

  /** The job's runs, newest first. */
  ofJob(jobId: number, page: { limit: number; offset: number }): RunRecord[] {
    if (!this.jobs.byId(jobId)) throw notFound('JOB_NOT_FOUND', 'Job not found');
    return this.runs.ofJob(jobId).slice(page.offset, page.offset + page.limit).map(runView);
  }

  get(runId: number): RunRecord {
    return runView(this.require(runId));
  }

  /** A page of the run's log and how many entries match the level filter in all. */
  async logsOf(runId: number, query: { limit: number; offset: number; level?: LogLevel }): Promise<{ entries: LogEntry[]; total: number }> {
    this.require(runId);
    return this.logs.read(runId, query);
  }

  async delete(runId: number): Promise<void> {
    const run = this.require(runId);
    if (!isFinished(run.status)) throw conflict('RUN_IN_PROGRESS', `Run ${run.id} is ${run.status}; cancel it first`);
    await this.deleteRuns([run]);
  }

  /** Deletes the job's finished runs; returns how many. Active runs stay. */
  async deleteOfJob(jobId: number): Promise<number> {
    if (!this.jobs.byId(jobId)) throw notFound('JOB_NOT_FOUND', 'Job not found');
    return this.deleteRuns(this.runs.ofJob(jobId).filter((run) => isFinished(run.status)));
  }

  /** Deletes every finished run of every job; returns how many. Active runs stay. */
  async deleteAll(): Promise<number> {
    return this.deleteRuns(this.runs.inStatus('completed', 'failed', 'cancelled'));
  }

  private require(runId: number): RunRecord {
    const run = this.runs.byId(runId);
    if (!run) throw notFound('RUN_NOT_FOUND', 'Run not found');
    return run;
  }

  private async deleteRuns(runs: RunRecord[]): Promise<number> {
    const count = await this.runs.deleteMany(runs.map((run) => run.id));
    for (const run of runs) await this.logs.remove(run.id);
    return count;
  }
}

/** The one serializer of a run. */
export function runView(run: RunRecord): RunRecord {
  return {
    id: run.id,
    job_id: run.job_id,
    job_name: run.job_name,
    status: run.status,
    trigger: run.trigger,
    schedule_id: run.schedule_id,
    created_at: run.created_at,
    started_at: run.started_at,
    completed_at: run.completed_at,
    files_transferred: run.files_transferred,
    bytes_transferred: run.bytes_transferred,
    files_deleted: run.files_deleted,
    error_message: run.error_message,
    // Runs stored before verify runs existed have no field.
    verify: run.verify ? { ...run.verify } : null,
  };
}
