/**
 * What the disaster tests (a box's export brought to a new box) share: running a job to its end,
 * the files a restore brings back, and a run's log lines.
 */
import * as assert from 'uvu/assert';
import { finishedRun, type ApiClient } from '../helpers.ts';
import { snapshotTree } from '../trees.ts';

export async function runJob(client: ApiClient, jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(client, started.body.run_id);
}

/** Each regular file's SHA-256 by path: what a restore brings back (links and empty folders are not restored, as the destination contract suite says). */
export function filesOf(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotTree(root)).filter(([, value]) => value !== 'dir' && !value.startsWith('link:')));
}

export async function logOf(client: ApiClient, runId: number): Promise<string[]> {
  return (await client.get(`/api/runs/${runId}/logs`)).body.map((entry: any) => `${entry.level} ${entry.message}`);
}
