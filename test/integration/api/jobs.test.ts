import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, createSchedule, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const jobs = suite<{ daemon: TestDaemon; client: ApiClient; sources: string[]; target: string }>('jobs');

jobs.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  const home = tempDir();
  context.sources = ['documents', 'photos'].map((name) => path.join(home, name));
  for (const dir of context.sources) mkdirSync(dir);
  context.target = tempDir();
});
jobs.after.each(async ({ daemon }) => {
  await daemon.stop();
});

function localJob(context: { sources: string[]; target: string }, overrides: Record<string, unknown> = {}) {
  return {
    name: 'Daily Backup',
    description: 'Home to the USB disk',
    source_dirs: context.sources,
    destination_type: 'local',
    destination_config: { mount_point: context.target, backup_subdir: 'daily', auto_mount: false, auto_unmount: false },
    ...overrides,
  };
}

jobs('a created job answers 201 with defaults filled in, and is listed and readable', async (context) => {
  const created = await context.client.post('/api/jobs', localJob(context));
  assert.is(created.status, 201);
  const job = created.body;
  assert.is(job.id, 1);
  assert.is(job.name, 'Daily Backup');
  assert.is(job.enabled, true);
  assert.equal(job.source_dirs, context.sources);
  assert.equal(job.sync_options, { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal', retry_attempts: 2, retry_delay_seconds: 30, count_first: false });
  assert.equal(job.destination_config.usb_uuid, null);
  assert.is(job.credential_id, null);
  assert.is(job.backup_mode, 'mirror');
  assert.is(job.retention.keep_last, 0);
  assert.is(job.last_run, null);
  assert.equal(job.schedules, []);
  assert.match(job.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

  assert.equal((await context.client.get('/api/jobs')).body, [job]);
  assert.equal((await context.client.get('/api/jobs/1')).body, job);
});

jobs('snapshots are kept only where hard-linked folders can live: a local job may, an S3 job is refused and nothing is saved', async (context) => {
  const local = await context.client.post('/api/jobs', localJob(context, { backup_mode: 'snapshots', retention: { keep_daily: 7 } }));
  assert.is(local.status, 201);
  assert.is(local.body.backup_mode, 'snapshots');
  assert.is(local.body.retention.keep_daily, 7);
  const s3 = await context.client.post('/api/jobs', {
    name: 'Cloud',
    source_dirs: context.sources,
    destination_type: 's3',
    destination_config: { bucket: 'family', region: 'us-east-1' },
    backup_mode: 'snapshots',
  });
  assert.is(s3.status, 400);
  assert.ok(isErrorShape(s3.body));
  assert.is(s3.body.code, 'BACKUP_MODE_UNSUPPORTED');
  const bad = await context.client.post('/api/jobs', localJob(context, { name: 'Other', backup_mode: 'versions' }));
  assert.is(bad.status, 400);
  assert.equal((await context.client.get('/api/jobs')).body.length, 1);
});

jobs('a USB drive registered by its UUID is backed up when plugged in unless told otherwise', async (context) => {
  const config = (extra: Record<string, unknown>) => ({ destination_config: { mount_point: context.target, backup_subdir: '', ...extra } });
  const usb = await createJob(context.client, config({ usb_uuid: '1234-ABCD' }));
  assert.equal([usb.destination_config.auto_mount, usb.destination_config.auto_unmount], [true, true]);
  const manual = await createJob(context.client, config({ usb_uuid: '5678-EF01', auto_mount: false }));
  assert.equal([manual.destination_config.auto_mount, manual.destination_config.auto_unmount], [false, true]);
  const folder = await createJob(context.client, config({}));
  assert.equal([folder.destination_config.auto_mount, folder.destination_config.auto_unmount], [false, false]);
});

jobs('a missing job is a 404 and a bad id a 400', async ({ client }) => {
  const missing = await client.get('/api/jobs/99');
  assert.is(missing.status, 404);
  assert.ok(isErrorShape(missing.body, 'JOB_NOT_FOUND'));
  assert.is(missing.body.message, 'Job not found');
  assert.is((await client.get('/api/jobs/abc')).status, 400);
  assert.is((await client.post('/api/jobs/99/run')).status, 404);
});

jobs('job rules are enforced with a 400 naming the problem, and nothing is created', async (context) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ name: '' }, /name/],
    [{ name: undefined }, /name/],
    [{ source_dirs: [] }, /source_dirs/],
    [{ source_dirs: ['relative/path'] }, /absolute/],
    [{ source_dirs: ['/'] }, /root/],
    [{ source_dirs: ['/a/photos', '/b/photos'] }, /photos/],
    [{ source_dirs: [context.sources[0], context.sources[0]] }, /twice|photos|documents/],
    [{ destination_type: 'floppy' }, /local/],
    [{ destination_config: { backup_subdir: 'x' } }, /mount_point/],
    [{ destination_config: { mount_point: 'relative', backup_subdir: '' } }, /mount_point/],
    [{ destination_config: { mount_point: context.target, backup_subdir: '../escape' } }, /backup_subdir/],
    [{ sync_options: { exclude_patterns: ['ok', 'bad\npattern'] } }, /control characters/],
    [{ sync_options: { bandwidth_limit_kbps: -1 } }, /bandwidth_limit_kbps/],
    [{ sync_options: { verbosity: 'chatty' } }, /verbosity/],
    [{ sync_options: { dry_run: 'yes' } }, /dry_run/],
    [{ credential_id: 7 }, /Credential 7/],
    [{ surprise: true }, /surprise/],
  ];
  for (const [overrides, message] of cases) {
    const response = await context.client.post('/api/jobs', localJob(context, overrides));
    assert.is(response.status, 400, JSON.stringify(overrides));
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
    assert.match(response.body.message, message, `${JSON.stringify(overrides)} → ${response.body.message}`);
  }
  assert.equal((await context.client.get('/api/jobs')).body, []);
});

jobs('names are unique: a taken name is a 409 on create and on rename', async (context) => {
  await createJob(context.client, localJob(context));
  const second = await createJob(context.client, localJob(context, { name: 'Other' }));
  const taken = await context.client.post('/api/jobs', localJob(context, { name: 'Daily Backup' }));
  assert.is(taken.status, 409);
  assert.ok(isErrorShape(taken.body, 'JOB_NAME_TAKEN'));
  const rename = await context.client.put(`/api/jobs/${second.id}`, { name: 'Daily Backup' });
  assert.is(rename.status, 409);
});

jobs('an update changes what it names; sync_options merge; the GET object can be sent back as is', async (context) => {
  const job = await createJob(context.client, localJob(context, { sync_options: { exclude_patterns: ['*.tmp'] } }));
  const renamed = await context.client.put(`/api/jobs/${job.id}`, { name: 'Nightly', sync_options: { delete_extraneous: true } });
  assert.is(renamed.status, 200);
  assert.is(renamed.body.name, 'Nightly');
  assert.equal(renamed.body.source_dirs, job.source_dirs);
  assert.equal(renamed.body.sync_options.exclude_patterns, ['*.tmp']);
  assert.is(renamed.body.sync_options.delete_extraneous, true);

  const roundTrip = await context.client.put(`/api/jobs/${job.id}`, { ...renamed.body, description: 'edited' });
  assert.is(roundTrip.status, 200, JSON.stringify(roundTrip.body));
  assert.is(roundTrip.body.description, 'edited');

  const bad = await context.client.put(`/api/jobs/${job.id}`, { source_dirs: ['nope'] });
  assert.is(bad.status, 400);
  assert.is((await context.client.get(`/api/jobs/${job.id}`)).body.description, 'edited', 'a refused update changes nothing');
});

jobs('clone makes "NAME (Copy)", then "NAME (Copy 2)", disabled, with the schedules', async (context) => {
  const job = await createJob(context.client, localJob(context));
  await createSchedule(context.client, job.id);
  const first = await context.client.post(`/api/jobs/${job.id}/clone`);
  assert.is(first.status, 201);
  assert.is(first.body.name, 'Daily Backup (Copy)');
  assert.is(first.body.enabled, false);
  assert.is(first.body.schedules.length, 1);
  assert.is(first.body.schedules[0].hour, 2);
  assert.is.not(first.body.id, job.id);
  const second = await context.client.post(`/api/jobs/${job.id}/clone`);
  assert.is(second.body.name, 'Daily Backup (Copy 2)');
});

jobs('delete removes the job with its schedules', async (context) => {
  const job = await createJob(context.client, localJob(context));
  const schedule = await createSchedule(context.client, job.id);
  const deleted = await context.client.delete(`/api/jobs/${job.id}`);
  assert.equal(deleted.body, { message: 'Job deleted' });
  assert.is((await context.client.get(`/api/jobs/${job.id}`)).status, 404);
  assert.is((await context.client.put(`/api/schedules/${schedule.id}`, { schedule_type: 'daily', hour: 3, minute: 0 })).status, 404);
});

jobs.run();
