/** `GET /api/runs`: every job's runs in one list, filtered, paged, with the total; bad filters are 400s. */
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  photos: number;
  documents: number;
  /** Run ids in the order they were made. */
  runs: number[];
  /** A time between the first two runs and the rest. */
  middle: string;
}

const history = suite<Context>('cross-job run history');

async function runAndWait(client: ApiClient, jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(client, started.body.run_id);
}

history.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.photos = (await createJob(context.admin, { name: 'Photos' })).id;
  const gone = tempDir('cairn-target-');
  context.documents = (await createJob(context.admin, { name: 'Documents', destination_config: { mount_point: gone, backup_subdir: '' } })).id;
  rmSync(gone, { recursive: true });
  context.runs = [];
  context.runs.push((await runAndWait(context.admin, context.photos)).id);
  context.runs.push((await runAndWait(context.admin, context.documents)).id);
  await new Promise((resolve) => setTimeout(resolve, 20));
  context.middle = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  context.runs.push((await runAndWait(context.admin, context.photos)).id);
  context.runs.push((await runAndWait(context.admin, context.documents)).id);
  context.runs.push((await runAndWait(context.admin, context.photos)).id);
});

history.after(async ({ daemon }) => {
  await daemon.stop();
});

history('without filters: every run of every job, newest first, with the total', async ({ admin, runs }) => {
  const response = await admin.get('/api/runs');
  assert.is(response.status, 200);
  assert.equal(response.body.runs.map((run: any) => run.id), [...runs].reverse());
  assert.is(response.body.total, 5);
  assert.is(response.body.limit, 50);
  assert.is(response.body.offset, 0);
  assert.equal(Object.keys(response.body.runs[0]).sort(), Object.keys((await admin.get(`/api/runs/${runs[4]}`)).body).sort(), 'a run looks as GET /runs/:id shows it');
});

history('filters by job, status and trigger, alone and together', async ({ admin, photos, documents, runs }) => {
  const ids = async (query: string) => {
    const response = await admin.get(`/api/runs?${query}`);
    assert.is(response.status, 200, `${query}: ${JSON.stringify(response.body)}`);
    assert.is(response.body.total, response.body.runs.length);
    return response.body.runs.map((run: any) => run.id);
  };
  assert.equal(await ids(`job_id=${photos}`), [runs[4], runs[2], runs[0]]);
  assert.equal(await ids('status=failed'), [runs[3], runs[1]]);
  assert.equal(await ids(`status=completed&job_id=${documents}`), []);
  assert.equal(await ids('trigger=manual'), [...runs].reverse());
  assert.equal(await ids('trigger=scheduled'), []);
  assert.equal(await ids('job_id=999'), [], 'a job that does not exist (any more) has no runs');
});

history('filters by time range: since is inclusive, until exclusive', async ({ admin, runs, middle }) => {
  const since = await admin.get(`/api/runs?since=${encodeURIComponent(middle)}`);
  assert.equal(since.body.runs.map((run: any) => run.id), [runs[4], runs[3], runs[2]]);
  const until = await admin.get(`/api/runs?until=${encodeURIComponent(middle)}`);
  assert.equal(until.body.runs.map((run: any) => run.id), [runs[1], runs[0]]);
  const first = (await admin.get(`/api/runs/${runs[0]}`)).body;
  const exact = await admin.get(`/api/runs?since=${encodeURIComponent(first.created_at)}&until=${encodeURIComponent(middle)}`);
  assert.ok(exact.body.runs.some((run: any) => run.id === runs[0]), 'a run made exactly at `since` is in');
});

history('pages through the list with limit and offset; the total stays the number of matches', async ({ admin, runs }) => {
  const seen: number[] = [];
  for (let offset = 0; offset < 6; offset += 2) {
    const page = await admin.get(`/api/runs?limit=2&offset=${offset}`);
    assert.is(page.body.total, 5);
    assert.is(page.body.limit, 2);
    assert.is(page.body.offset, offset);
    seen.push(...page.body.runs.map((run: any) => run.id));
  }
  assert.equal(seen, [...runs].reverse());
  const past = await admin.get('/api/runs?offset=100');
  assert.equal([past.body.runs, past.body.total], [[], 5]);
});

history('bad filters are 400s in the error shape', async ({ admin }) => {
  for (const query of [
    'status=done',
    'trigger=cron',
    'job_id=abc',
    'job_id=0',
    'since=yesterday',
    'until=2026-13-45',
    'since=2026-06-01T00:00:00Z&until=2026-05-01T00:00:00Z',
    'since=2026-06-01T00:00:00Z&until=2026-06-01T00:00:00Z',
    'limit=0',
    'limit=1001',
    'offset=-1',
    'sort=id',
  ]) {
    const response = await admin.get(`/api/runs?${query}`);
    assert.is(response.status, 400, query);
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), `${query}: ${JSON.stringify(response.body)}`);
  }
});

history('the list needs a session', async ({ daemon }) => {
  const response = await daemon.client().get('/api/runs');
  assert.is(response.status, 401);
  assert.ok(isErrorShape(response.body, 'UNAUTHENTICATED'));
});

history.run();
