/** Keeps each job's history to `max_runs_per_job` finished runs; older runs go with their logs. */
import { isFinished } from '../domain/runs.ts';
import type { RunRepository } from '../store/index.ts';

/** Ids of the job's finished runs beyond the newest `keep`, oldest last. */
export function runsBeyondRetention(jobId: number, keep: number, runs: RunRepository): number[] {
  return runs
    .ofJob(jobId)
    .filter((run) => isFinished(run.status))
    .slice(keep)
    .map((run) => run.id);
}
