/** Paged lists carry their total, in the X-Total-Count header, so the bare-list bodies stay as they were. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const totals = suite<{ daemon: TestDaemon; owner: ApiClient }>('paged totals');

totals.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
totals.after(async ({ daemon }) => {
  await daemon.stop();
});

totals('the runs of a job answer a page as a list and the number of runs in X-Total-Count', async ({ owner }) => {
  const job = await createJob(owner);
  const empty = await owner.get(`/api/jobs/${job.id}/runs`);
  assert.equal(empty.body, []);
  assert.is(empty.headers.get('x-total-count'), '0');
  for (let i = 0; i < 3; i++) await finishedRun(owner, (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id);
  const page = await owner.get(`/api/jobs/${job.id}/runs?limit=2&offset=1`);
  assert.is(page.status, 200);
  assert.ok(Array.isArray(page.body));
  assert.is(page.body.length, 2);
  assert.is(page.headers.get('x-total-count'), '3');
  const all = (await owner.get(`/api/jobs/${job.id}/runs`)).body;
  assert.equal(page.body, all.slice(1, 3));
});

totals('the log of a run carries its total too', async ({ owner }) => {
  const job = await createJob(owner);
  const runId = (await owner.post(`/api/jobs/${job.id}/run`)).body.run_id;
  await finishedRun(owner, runId);
  const all = await owner.get(`/api/runs/${runId}/logs`);
  const page = await owner.get(`/api/runs/${runId}/logs?limit=1`);
  assert.is(page.body.length, 1);
  assert.is(page.headers.get('x-total-count'), String(all.body.length));
});

totals.run();
