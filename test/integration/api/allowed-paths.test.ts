/**
 * Issue 11: one rule (the allowed paths, after realpath) for every path the API can make root touch —
 * job sources and local destinations when saved and when each run starts, restore targets, mkdir —
 * and every filesystem failure of mkdir and restore answered as a 4xx in the error shape.
 */
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, outsideDir, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { countFiles } from '../../trees.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  /** A folder inside the allowed paths (the test daemon's are the temp folder). */
  home: string;
  source: string;
  target: string;
}

const paths = suite<Context>('allowed paths');

paths.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.home = tempDir();
  context.source = path.join(context.home, 'documents');
  mkdirSync(context.source);
  writeFileSync(path.join(context.source, 'letter.txt'), 'dear owner');
  context.target = tempDir();
});
paths.after.each(async ({ daemon }) => {
  await daemon.stop();
});

function localJob(context: Context, overrides: Record<string, unknown> = {}) {
  return {
    name: 'Documents',
    source_dirs: [context.source],
    destination_type: 'local',
    destination_config: { mount_point: context.target, backup_subdir: 'backup', auto_mount: false, auto_unmount: false },
    ...overrides,
  };
}

/** A refusal: 403 PATH_NOT_ALLOWED in the error shape, naming the path and the setting that would allow it. */
function assertRefused(response: { status: number; body: any }, named: string) {
  assert.is(response.status, 403, JSON.stringify(response.body));
  assert.ok(isErrorShape(response.body, 'PATH_NOT_ALLOWED'), JSON.stringify(response.body));
  assert.ok(response.body.message.includes(named), response.body.message);
  assert.match(response.body.message, /allowed_paths/);
}

/** A job as it might have been saved before the rule existed: straight into the store. */
async function storedJob(context: Context, overrides: Record<string, unknown>) {
  const job = await context.daemon.store.jobs.create({
    name: 'Saved before the rule',
    description: '',
    enabled: true,
    source_dirs: [context.source],
    destination_type: 'local',
    destination_config: { mount_point: context.target, backup_subdir: 'backup', usb_uuid: null, auto_mount: false, auto_unmount: false },
    sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    credential_id: null,
    backup_mode: 'mirror',
    retention: emptyRetentionPolicy(),
    ...overrides,
  });
  return job.id;
}

async function runToEnd(client: ApiClient, jobId: number) {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  return finishedRun(client, started.body.run_id);
}

paths('a job whose source is outside the allowed paths is refused on create and update, and nothing is saved', async (context) => {
  assertRefused(await context.client.post('/api/jobs', localJob(context, { source_dirs: ['/etc'] })), '/etc');
  // Through a symbolic link inside a root, too.
  symlinkSync('/etc', path.join(context.home, 'settings'));
  assertRefused(await context.client.post('/api/jobs', localJob(context, { source_dirs: [path.join(context.home, 'settings')] })), '/etc');
  assert.equal((await context.client.get('/api/jobs')).body, [], 'no job was saved');

  const created = await createJob(context.client, localJob(context));
  assertRefused(await context.client.put(`/api/jobs/${created.id}`, { source_dirs: ['/etc'] }), '/etc');
  assert.equal((await context.client.get(`/api/jobs/${created.id}`)).body.source_dirs, [context.source], 'the job is unchanged');
});

paths('a local destination outside the allowed paths is refused; a drive not mounted yet is accepted', async (context) => {
  const outside = outsideDir();
  assertRefused(await context.client.post('/api/jobs', localJob(context, { destination_config: { mount_point: outside, backup_subdir: '' } })), outside);
  assertRefused(await context.client.post('/api/jobs', localJob(context, { destination_config: { mount_point: '/etc', backup_subdir: 'cairn' } })), '/etc');
  // The backup folder below an allowed mount point, through a link that leads out.
  symlinkSync(outside, path.join(context.target, 'backup'));
  assertRefused(await context.client.post('/api/jobs', localJob(context)), outside);
  assert.equal((await context.client.get('/api/jobs')).body, [], 'no job was saved');
  // A connection test writes a probe file at the destination: not outside either.
  assertRefused(await context.client.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: '/etc', backup_subdir: '' } }), '/etc');
  assertRefused(await context.client.post('/api/providers/test', { destination_type: 'local', destination_config: { mount_point: outside, backup_subdir: '' } }), outside);
  assert.equal(readdirSync(outside), [], 'nothing was written outside');

  // A USB drive's mount point that does not exist until the drive is mounted.
  const notMounted = path.join(context.home, 'usb', 'drive');
  await createJob(context.client, localJob(context, { destination_config: { mount_point: notMounted, backup_subdir: 'cairn', usb_uuid: '1234-ABCD', auto_mount: true } }));
});

paths('a clone of a job saved before the rule, with a path outside, is refused', async (context) => {
  const jobId = await storedJob(context, { source_dirs: ['/etc'] });
  assertRefused(await context.client.post(`/api/jobs/${jobId}/clone`), '/etc');
  assert.is((await context.client.get('/api/jobs')).body.length, 1, 'no copy was saved');
});

paths('a source link swapped after saving to point at /etc: the run fails naming it and copies nothing', async (context) => {
  const link = path.join(context.home, 'photos');
  const real = path.join(context.home, 'camera');
  mkdirSync(real);
  writeFileSync(path.join(real, 'holiday.jpg'), 'sand');
  symlinkSync(real, link);
  const created = await createJob(context.client, localJob(context, { source_dirs: [link] }));

  rmSync(link);
  symlinkSync('/etc', link);
  const run = await runToEnd(context.client, created.id);
  assert.is(run.status, 'failed');
  assert.ok(run.error_message.includes(link) && run.error_message.includes('/etc'), run.error_message);
  assert.match(run.error_message, /outside the allowed paths.*allowed_paths/);
  assert.is(countFiles(context.target).files, 0, 'nothing was copied');
});

paths('jobs saved before the rule with a path outside fail their run clearly and touch nothing', async (context) => {
  const secrets = outsideDir();
  writeFileSync(path.join(secrets, 'shadow'), 'root:x');
  const reading = await storedJob(context, { source_dirs: [secrets] });
  const run = await runToEnd(context.client, reading);
  assert.is(run.status, 'failed');
  assert.ok(run.error_message.startsWith(`Source ${secrets} is outside the allowed paths`), run.error_message);
  assert.match(run.error_message, /allowed_paths \(CAIRN_ALLOWED_PATHS\)/);
  assert.is(countFiles(context.target).files, 0, 'nothing was copied');

  const elsewhere = outsideDir();
  const writing = await storedJob(context, { name: 'Writes outside', destination_config: { mount_point: elsewhere, backup_subdir: 'backup', usb_uuid: null, auto_mount: false, auto_unmount: false } });
  const second = await runToEnd(context.client, writing);
  assert.is(second.status, 'failed');
  assert.ok(second.error_message.startsWith(`The destination ${elsewhere} is outside the allowed paths`), second.error_message);
  assert.equal(readdirSync(elsewhere), [], 'nothing was written outside');

  const restore = await context.client.post(`/api/jobs/${writing}/restore`, { target_dir: path.join(context.home, 'restored') });
  assert.is(restore.status, 202, 'the target is allowed; the backup it would read is not');
  const restored = await finishedRun(context.client, restore.body.run_id);
  assert.is(restored.status, 'failed');
  assert.match(restored.error_message, /outside the allowed paths/);
});

/** Paths inside an allowed root that the filesystem cannot make a folder at, with what the owner is told. */
function unusablePaths(home: string): Array<[string, string, number, string]> {
  symlinkSync('loop-b', path.join(home, 'loop-a'));
  symlinkSync('loop-a', path.join(home, 'loop-b'));
  writeFileSync(path.join(home, 'notes.txt'), 'a file');
  return [
    ['a symlink loop', path.join(home, 'loop-a', 'x'), 400, 'PATH_UNUSABLE'],
    ['a name over 255 bytes', path.join(home, 'n'.repeat(300)), 400, 'PATH_UNUSABLE'],
    ['a path under a regular file', path.join(home, 'notes.txt', 'x'), 400, 'PATH_UNUSABLE'],
  ];
}

/** A read-only filesystem mounted inside the root, unmounted at the end. */
function readOnlyMount(home: string): { folder: string; unmount(): void } {
  const folder = path.join(home, 'read-only');
  mkdirSync(folder);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', folder]);
  return { folder, unmount: () => execFileSync('umount', [folder]) };
}

paths('mkdir answers every filesystem failure with a 4xx naming the path, never a 500', async (context) => {
  const readOnly = readOnlyMount(context.home);
  try {
    const cases = [
      ...unusablePaths(context.home),
      ['a file already there', path.join(context.home, 'notes.txt'), 409, 'PATH_EXISTS'] as const,
      ['a read-only filesystem', path.join(readOnly.folder, 'new'), 409, 'FILESYSTEM_ERROR'] as const,
    ];
    for (const [what, target, status, code] of cases) {
      const response = await context.client.post('/api/system/mkdir', { path: target });
      assert.is(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
      assert.ok(isErrorShape(response.body, code), `${what}: ${JSON.stringify(response.body)}`);
      assert.ok(response.body.message.includes(context.home), `${what}: the message names the path: ${response.body.message}`);
    }
    const outside = outsideDir();
    assertRefused(await context.client.post('/api/system/mkdir', { path: path.join(outside, 'x') }), outside);
    assert.equal(readdirSync(outside), [], 'nothing was created outside');
  } finally {
    readOnly.unmount();
  }
});

paths('restore answers every filesystem failure and a target outside with a 4xx, and starts no run', async (context) => {
  const jobId = (await createJob(context.client, localJob(context))).id;
  const backup = await runToEnd(context.client, jobId);
  assert.is(backup.status, 'completed', backup.error_message);
  const readOnly = readOnlyMount(context.home);
  try {
    const cases = [
      ...unusablePaths(context.home),
      ['a file as the target', path.join(context.home, 'notes.txt'), 409, 'PATH_NOT_FOLDER'] as const,
      ['a read-only filesystem', path.join(readOnly.folder, 'restored'), 409, 'FILESYSTEM_ERROR'] as const,
    ];
    for (const [what, target, status, code] of cases) {
      const response = await context.client.post(`/api/jobs/${jobId}/restore`, { target_dir: target });
      assert.is(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
      assert.ok(isErrorShape(response.body, code), `${what}: ${JSON.stringify(response.body)}`);
      assert.ok(response.body.message.includes(context.home), `${what}: the message names the path: ${response.body.message}`);
    }
    const outside = outsideDir();
    assertRefused(await context.client.post(`/api/jobs/${jobId}/restore`, { target_dir: path.join(outside, 'restored') }), outside);
    assert.equal(readdirSync(outside), [], 'nothing was created outside');
    assertRefused(await context.client.post(`/api/jobs/${jobId}/restore`, { target_dir: '/etc' }), '/etc');
    // The daemon's own data dir lies inside the test roots, and is refused all the same.
    const overKeys = await context.client.post(`/api/jobs/${jobId}/restore`, { target_dir: context.daemon.config.dataDir, overwrite_sources: true });
    assert.is(overKeys.status, 403, JSON.stringify(overKeys.body));
    assert.ok(isErrorShape(overKeys.body, 'PATH_NOT_ALLOWED'));
    assert.match(overKeys.body.message, /Cairn's own data folder/);
  } finally {
    readOnly.unmount();
  }
  assert.is((await context.client.get(`/api/jobs/${jobId}/runs`)).body.length, 1, 'only the backup run exists');
});

paths.run();
