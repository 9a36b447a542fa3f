/** Runs: the manager that executes them and the retention that prunes them. */
export { RunManager, PROGRESS_INTERVAL_MS, type AbortReason, type RunManagerDependencies, type RunRequest } from './run-manager.ts';
export { runsBeyondRetention } from './retention.ts';
export { RunHistory, runView, type RunFilter, type RunPage } from './run-history.ts';
export { describeRunOutcome, formatBytes } from './run-outcome.ts';
export { RepositoryRunner, belongsToJob, jobTagOf, type RepositorySnapshotInfo, type ListedEntry } from './repository-runs.ts';
