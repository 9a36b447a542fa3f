/**
 * `GET /metrics`: Prometheus text that a strict parser of the format accepts, with each job's last
 * success, duration, bytes and counters; only for a logged-in client (cookie or bearer).
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { parsePrometheusText, type ParsedFamily } from '../../prometheus-parser.ts';
import { fileContent } from '../../trees.ts';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  quoted: number;
  broken: number;
  lastRun: any;
}

const metrics = suite<Context>('metrics');

/** A name that needs every escape a label value has but newline (job names refuse control characters). */
const QUOTED_NAME = 'Backup "C:\\Users\\me"';

async function runAndWait(client: ApiClient, jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(client, started.body.run_id);
}

metrics.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  const source = tempDir('cairn-source-');
  writeFileSync(path.join(source, 'a.bin'), fileContent('a', 12_345));
  context.quoted = (await createJob(context.admin, { name: QUOTED_NAME, source_dirs: [source] })).id;
  await runAndWait(context.admin, context.quoted);
  writeFileSync(path.join(source, 'b.bin'), fileContent('b', 777));
  context.lastRun = await runAndWait(context.admin, context.quoted);
  const gone = tempDir('cairn-target-');
  context.broken = (await createJob(context.admin, { name: 'Broken', destination_config: { mount_point: gone, backup_subdir: '' } })).id;
  rmSync(gone, { recursive: true });
  await runAndWait(context.admin, context.broken);
  await runAndWait(context.admin, context.broken);
});

metrics.after(async ({ daemon }) => {
  await daemon.stop();
});

function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((entry) => entry.name === name);
  return family?.samples.find((sample) => Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))?.value;
}

metrics('the strict parser refuses what the format does not allow', () => {
  for (const [why, text] of [
    ['no final newline', 'cairn_up 1'],
    ['an unescaped quote', 'x{a="say "hi""} 1\n'],
    ['an unknown escape', 'x{a="\\t"} 1\n'],
    ['a second TYPE', '# TYPE x gauge\n# TYPE x gauge\nx 1\n'],
    ['TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['a bad value', 'x one\n'],
    ['the same series twice', 'x{a="1"} 1\nx{a="1"} 2\n'],
    ['samples apart', 'x 1\ny 1\nx{a="2"} 1\n'],
    ['a bad metric name', '1x 1\n'],
  ]) {
    assert.throws(() => parsePrometheusText(text), undefined, why);
  }
  assert.equal(parsePrometheusText('# HELP x a \\\\ b\n# TYPE x counter\nx{a="q\\"b\\\\",} 1.5e3\n')[0], {
    name: 'x',
    help: 'a \\ b',
    type: 'counter',
    samples: [{ name: 'x', labels: { a: 'q"b\\' }, value: 1500 }],
  });
});

metrics('a logged-in client gets Prometheus text that parses, with HELP and TYPE for every family', async ({ admin }) => {
  const response = await admin.get('/metrics');
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusText(response.body);
  assert.ok(families.length >= 10);
  for (const family of families) {
    assert.ok(family.name.startsWith('cairn_'), family.name);
    assert.ok(family.help, `${family.name} has HELP`);
    assert.ok(family.type === 'gauge' || family.type === 'counter', `${family.name} has TYPE`);
  }
  assert.is(value(families, 'cairn_up'), 1);
});

metrics('per job: last success time, duration and bytes, and counters by status', async ({ admin, quoted, broken, lastRun }) => {
  const families = parsePrometheusText((await admin.get('/metrics')).body);
  const ofQuoted = { job_id: String(quoted), job: QUOTED_NAME };
  assert.is(value(families, 'cairn_job_last_success_timestamp_seconds', ofQuoted), Date.parse(lastRun.completed_at) / 1000, 'the label value came back whole through its escapes');
  assert.is(value(families, 'cairn_job_last_success_bytes', ofQuoted), 777);
  assert.is(value(families, 'cairn_job_last_run_duration_seconds', ofQuoted), (Date.parse(lastRun.completed_at) - Date.parse(lastRun.started_at)) / 1000);
  assert.is(value(families, 'cairn_job_runs_total', { ...ofQuoted, status: 'completed' }), 2);
  assert.is(value(families, 'cairn_job_runs_total', { ...ofQuoted, status: 'failed' }), 0);
  assert.is(value(families, 'cairn_job_failures_total', ofQuoted), 0);

  const ofBroken = { job_id: String(broken), job: 'Broken' };
  assert.is(value(families, 'cairn_job_failures_total', ofBroken), 2);
  assert.is(value(families, 'cairn_job_runs_total', { ...ofBroken, status: 'failed' }), 2);
  assert.is(value(families, 'cairn_job_consecutive_failures', ofBroken), 2);
  assert.is(value(families, 'cairn_job_last_success_timestamp_seconds', ofBroken), undefined, 'no success yet: no sample rather than a made-up time');
  assert.ok(families.some((family) => family.name === 'cairn_drive_free_bytes' && family.type === 'gauge'));
});

metrics('a bearer token works like the cookie', async ({ daemon, admin }) => {
  const token = (await admin.get('/api/auth/token')).body.token;
  const phone = daemon.client();
  phone.bearer = token;
  const response = await phone.get('/metrics');
  assert.is(response.status, 200);
  parsePrometheusText(response.body);
});

metrics('without a session it is a 401 in the error shape, and a bad token too', async ({ daemon }) => {
  const anonymous = await daemon.client().get('/metrics');
  assert.is(anonymous.status, 401);
  assert.ok(isErrorShape(anonymous.body, 'UNAUTHENTICATED'));
  const forged = daemon.client();
  forged.bearer = 'eyJhbGciOiJIUzI1NiJ9.e30.bad';
  const refused = await forged.get('/metrics');
  assert.is(refused.status, 401);
  assert.ok(isErrorShape(refused.body));
});

metrics.run();
