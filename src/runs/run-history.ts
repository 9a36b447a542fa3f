/** Reading and deleting run history: run records and their logs, never an active run. */
import { conflict, notFound } from '../domain/errors.ts';
import { isFinished, type LogEntry, type LogLevel, type RunRecord, type RunStatus, type RunTrigger } from '../domain/runs.ts';
import type { RunLogs } from '../logs/index.ts';
import type { JobRepository, RunRepository } from '../store/index.ts';

/** Which runs `GET /runs` lists: every given field must match; `since` ≤ created_at < `until`. */
export interface RunFilter {
  job_id?: number;
  status?: RunStatus;
  trigger?: RunTrigger;
  since?: Date;
  until?: Date;
}

/** A page of runs across jobs and how many match in all. */
export interface RunPage {
  runs: RunRecord[];
  total: number;
  limit: number;
  offset: number;
}

export class RunHistory {
  constructor(
    private readonly runs: RunRepository,
    private readonly jobs: JobRepository,
    private readonly logs: RunLogs,
  ) {}

  /** A page of the job's runs, newest first, and how many runs the job has in all. */
  pageOfJob(jobId: number, page: { limit: number; offset: number }): { runs: RunRecord[]; total: number } {
    if (!this.jobs.byId(jobId)) throw notFound('JOB_NOT_FOUND', 'Job not found');
    const all = this.runs.ofJob(jobId);
    return { runs: all.slice(page.offset, page.offset + page.limit).map(runView), total: all.length };
  }

  /** Runs of every job matching `filter`, newest first, one page of them with the total. */
  list(filter: RunFilter, page: { limit: number; offset: number }): RunPage {
    const since = filter.since?.getTime() ?? -Infinity;
    const until = filter.until?.getTime() ?? Infinity;
    const matching = this.runs
      .all()
      .filter((run) => {
        if (filter.job_id !== undefined && run.job_id !== filter.job_id) return false;
        if (filter.status !== undefined && run.status !== filter.status) return false;
        if (filter.trigger !== undefined && run.trigger !== filter.trigger) return false;
        const created = Date.parse(run.created_at);
        return created >= since && created < until;
      })
      .sort((a, b) => b.id - a.id);
    return { runs: matching.slice(page.offset, page.offset + page.limit).map(runView), total: matching.length, limit: page.limit, offset: page.offset };
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
    // Runs stored before progress existed have no field.
    progress: run.progress ? { ...run.progress } : null,
  };
}
