/**
 * How long the API's history reads of a repository job take (issue 14): GET /jobs/:id/snapshots
 * and one tree page, each asked READS times in a row of a daemon run from source. The first read
 * pays the worker's start and the repository's scrypt; the figures after it show what a kept worker
 * saves. Prints the figures and the load; asserts nothing.
 *
 *   npx tsx bench/repository-reads.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createJob, finishedRun, startTestDaemon, tempDir } from '../test/helpers.ts';

const READS = 5;

const daemon = await startTestDaemon();
try {
  const api = daemon.client();
  await api.setupAdmin();
  const source = path.join(tempDir(), 'letters');
  mkdirSync(source);
  for (let file = 0; file < 50; file++) writeFileSync(path.join(source, `letter-${file}.txt`), `letter ${file}\n`.repeat(100));
  const job = await createJob(api, { source_dirs: [source], destination_config: { mount_point: tempDir(), backup_subdir: 'repo' }, backup_mode: 'repository' });
  const run = await finishedRun(api, (await api.post(`/api/jobs/${job.id}/run`)).body.run_id, 180_000);
  if (run.status !== 'completed') throw new Error(`the backup ${run.status}: ${run.error_message}`);
  const time = async (what: string, url: string) => {
    const figures: string[] = [];
    for (let read = 0; read < READS; read++) {
      const begin = performance.now();
      const answer = await api.get(url);
      if (answer.status !== 200) throw new Error(`${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
      figures.push(`${(performance.now() - begin).toFixed(0)} ms`);
    }
    console.log(`${what}: ${figures.join(', ')}`);
  };
  await time('GET /jobs/:id/snapshots', `/api/jobs/${job.id}/snapshots`);
  const [snapshot] = (await api.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
  await time('GET /jobs/:id/snapshots/:sid/tree', `/api/jobs/${job.id}/snapshots/${snapshot.id}/tree`);
  console.log(`load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
} finally {
  await daemon.stop();
}
