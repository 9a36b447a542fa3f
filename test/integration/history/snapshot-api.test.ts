/**
 * A snapshots job's history through the API, on a USB-style job (an ext4 image on a loop device,
 * registered by UUID) with snapshots made by the real engine and rsync: list, get, browse, restore
 * from an older snapshot byte for byte, delete, retention get/put/preview, and the job's snapshot
 * counts, which survive a daemon restart while the drive is away.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { localDestination } from '../../../src/destinations/local/index.ts';
import { createSnapshot, type SnapshotInfo } from '../../../src/history/index.ts';
import { createJob, finishedRun, isErrorShape, outsideDir, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { fileContent, waitFor } from '../../trees.ts';
import { engineContext, ext4Drive, type Ext4Drive } from './engine.ts';

const ZONE = 'Europe/Berlin';

interface Context {
  daemon: TestDaemon;
  admin: ApiClient;
  drive: Ext4Drive;
  /** The USB job's backup folder on the drive (its snapshot folder). */
  root: string;
  source: string;
  job: any;
  mirror: any;
  /** Snapshots made, oldest first. */
  made: SnapshotInfo[];
}

const history = suite<Context>('snapshot history through the API');

const original = {
  'keep.txt': fileContent('keep', 3000),
  'gone.txt': fileContent('gone', 5000),
  'changed.txt': fileContent('changed', 4000),
  'sub/deep.bin': fileContent('deep', 70_000),
};

function write(folder: string, files: Record<string, Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), content);
  }
}

/** A snapshot made by the engine exactly as a run makes one (the job's sources, its folder, the settings' zone). */
async function snapshotOf(root: string, sources: string[], iso: string): Promise<SnapshotInfo> {
  const { context } = engineContext(sources);
  return (await createSnapshot(context, { root, timezone: ZONE, time: new Date(iso), runId: null })).snapshot;
}

const url = (context: Context, tail = '', jobId = context.job.id) => `/api/jobs/${jobId}${tail}`;
const snap = (id: string) => `/snapshots/${encodeURIComponent(id)}`;

/** Every name and inode below `folder`, to show that something changed nothing. */
function inventory(folder: string): string[] {
  return (readdirSync(folder, { recursive: true }) as string[])
    .map((name) => `${name}:${statSync(path.join(folder, name), { throwIfNoEntry: false })?.ino ?? 'link'}`)
    .sort();
}

history.before(async (context) => {
  context.drive = ext4Drive(128);
  const uuid = execFileSync('blkid', ['-p', '-s', 'UUID', '-o', 'value', context.drive.image], { encoding: 'utf8' }).trim();
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  assert.is((await context.admin.put('/api/settings', { timezone: ZONE })).status, 200);

  context.source = path.join(tempDir(), 'photos');
  write(context.source, original);
  context.job = await createJob(context.admin, {
    source_dirs: [context.source],
    destination_config: { mount_point: context.drive.mount, backup_subdir: 'cairn', usb_uuid: uuid, auto_mount: false, auto_unmount: false },
    backup_mode: 'snapshots',
  });
  context.mirror = await createJob(context.admin);
  context.root = context.drive.root; // <mount>/cairn, made by ext4Drive

  context.made = [await snapshotOf(context.root, [context.source], '2026-11-01T10:00:00Z')];
  writeFileSync(path.join(context.source, 'changed.txt'), fileContent('changed', 4000, 1));
  // Same size: a later mtime is what tells rsync it changed (it may be within the same second).
  utimesSync(path.join(context.source, 'changed.txt'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
  unlinkSync(path.join(context.source, 'gone.txt'));
  context.made.push(await snapshotOf(context.root, [context.source], '2026-11-02T10:00:00Z'));
  for (let n = 0; n < 25; n += 1) write(context.source, { [`many/file-${String(n).padStart(2, '0')}.txt`]: fileContent(`many${n}`, 10 + n) });
  symlinkSync(outsideDir(), path.join(context.source, 'escape'));
  symlinkSync('sub', path.join(context.source, 'inner-link'));
  context.made.push(await snapshotOf(context.root, [context.source], '2026-11-03T10:00:00Z'));
});

history.after(async (context) => {
  await context.daemon?.stop();
  context.drive?.remove();
});

history('the snapshots are listed newest first with their figures, and each can be read alone', async (context) => {
  const { admin, made } = context;
  const listed = await admin.get(url(context, '/snapshots'));
  assert.is(listed.status, 200);
  assert.is(listed.body.total, 3);
  assert.equal(
    listed.body.snapshots.map((s: any) => s.id),
    [...made].reverse().map((s) => s.id),
  );
  assert.equal(listed.body.snapshots[2], {
    id: '2026-11-01T110000+0100',
    time: '2026-11-01T10:00:00.000Z',
    run_id: null,
    files: 4,
    total_size: 3000 + 5000 + 4000 + 70_000,
    bytes_added: 3000 + 5000 + 4000 + 70_000,
    kept_by: [{ rule: 'no_policy' }],
  });
  // The second shares every unchanged file: only the changed one is new.
  assert.is(listed.body.snapshots[1].bytes_added, 4000);

  const one = await admin.get(url(context, snap(made[1].id)));
  assert.is(one.status, 200);
  // The id's "+" may also be sent as it is.
  assert.equal((await admin.get(url(context, `/snapshots/${made[1].id}`))).body, one.body);
  assert.equal(one.body, listed.body.snapshots[1]);
  assert.not.ok('path' in one.body, 'the folder on the drive is not part of the answer');
});

history('an unknown snapshot id is 404 SNAPSHOT_NOT_FOUND, whatever it looks like', async (context) => {
  // (".." itself never reaches the daemon: URLs fold it away, as they do %2E%2E.)
  for (const id of ['2026-01-01T000000+0100', '...', '.cairn-snapshot.json', `.incomplete-${context.made[0].id}`, 'x'.repeat(100)]) {
    for (const tail of ['', '/tree']) {
      const response = await context.admin.get(url(context, snap(id) + tail));
      assert.is(response.status, 404, `${id}${tail}`);
      assert.ok(isErrorShape(response.body, 'SNAPSHOT_NOT_FOUND'), JSON.stringify(response.body));
    }
  }
  const tooLong = await context.admin.get(url(context, snap('x'.repeat(101))));
  assert.is(tooLong.status, 400);
  assert.ok(isErrorShape(tooLong.body, 'VALIDATION_FAILED'));
});

history('a deleted and a modified file are restored byte for byte from the older snapshot', async (context) => {
  const { admin, made } = context;
  const target = path.join(tempDir(), 'restored');
  const started = await admin.post(url(context, '/restore'), { target_dir: target, snapshot_id: made[0].id });
  assert.is(started.status, 202, JSON.stringify(started.body));
  assert.is(started.body.snapshot_id, made[0].id);
  const run = await finishedRun(admin, started.body.run_id);
  assert.is(run.status, 'completed', run.error_message);
  for (const [name, content] of Object.entries(original)) {
    assert.ok(readFileSync(path.join(target, 'photos', name)).equals(content), name);
  }
  assert.not.ok(existsSync(path.join(target, 'photos', 'many')), 'nothing of a later snapshot');
  assert.not.ok(existsSync(path.join(target, '.cairn-manifest')), "the snapshot's own files are not restored");
});

history('chosen paths are restored from the named snapshot, and the newest is the default', async (context) => {
  const { admin, made } = context;
  const chosen = path.join(tempDir(), 'chosen');
  const started = await admin.post(url(context, '/restore'), { target_dir: chosen, snapshot_id: made[1].id, paths: ['photos/changed.txt'] });
  assert.is(started.status, 202, JSON.stringify(started.body));
  assert.is((await finishedRun(admin, started.body.run_id)).status, 'completed');
  assert.equal(readdirSync(path.join(chosen, 'photos')), ['changed.txt']);
  assert.ok(readFileSync(path.join(chosen, 'photos', 'changed.txt')).equals(fileContent('changed', 4000, 1)));

  const newest = path.join(tempDir(), 'newest');
  const byDefault = await admin.post(url(context, '/restore'), { target_dir: newest });
  assert.is(byDefault.status, 202, JSON.stringify(byDefault.body));
  assert.is(byDefault.body.snapshot_id, made[2].id);
  assert.is((await finishedRun(admin, byDefault.body.run_id)).status, 'completed');
  assert.ok(existsSync(path.join(newest, 'photos', 'many', 'file-24.txt')));
  assert.not.ok(existsSync(path.join(newest, 'photos', 'gone.txt')));
});

history('a restore from an unknown snapshot is 404 and creates no target folder', async (context) => {
  const target = path.join(tempDir(), 'never-made');
  const response = await context.admin.post(url(context, '/restore'), { target_dir: target, snapshot_id: '2020-01-01T000000+0100' });
  assert.is(response.status, 404);
  assert.ok(isErrorShape(response.body, 'SNAPSHOT_NOT_FOUND'));
  assert.not.ok(existsSync(target));
  for (const bad of ['', 42, null, 'x'.repeat(101)]) {
    const refused = await context.admin.post(url(context, '/restore'), { target_dir: target, snapshot_id: bad });
    assert.is(refused.status, 400, JSON.stringify(bad));
    assert.ok(isErrorShape(refused.body, 'VALIDATION_FAILED'));
  }
  assert.not.ok(existsSync(target));
});

history("the tree lists a snapshot's folders by name, without its own files, in pages", async (context) => {
  const { admin, made } = context;
  const tree = (query: string, id = made[2].id) => admin.get(url(context, `${snap(id)}/tree${query}`));

  const top = await tree('');
  assert.is(top.status, 200);
  assert.equal(top.body, { path: '', entries: [top.body.entries[0]], total: 1, limit: 200, offset: 0 });
  assert.equal({ ...top.body.entries[0], mtime: 'x' }, { name: 'photos', type: 'dir', size: null, mtime: 'x' });

  const photos = await tree('?path=photos');
  assert.equal(
    photos.body.entries.map((entry: any) => [entry.name, entry.type, entry.size]),
    [
      ['changed.txt', 'file', 4000],
      ['escape', 'symlink', photos.body.entries[1].size],
      ['inner-link', 'symlink', 3],
      ['keep.txt', 'file', 3000],
      ['many', 'dir', null],
      ['sub', 'dir', null],
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(photos.body.entries[0].mtime)));

  const page = await tree('?path=photos/many/&limit=10&offset=20');
  assert.is(page.status, 200);
  assert.equal(
    { path: page.body.path, total: page.body.total, limit: page.body.limit, offset: page.body.offset },
    { path: 'photos/many', total: 25, limit: 10, offset: 20 },
  );
  assert.equal(
    page.body.entries.map((entry: any) => entry.name),
    ['file-20.txt', 'file-21.txt', 'file-22.txt', 'file-23.txt', 'file-24.txt'],
  );
  const beyond = await tree('?path=photos/many&offset=100');
  assert.equal([beyond.body.entries, beyond.body.total], [[], 25]);

  // A link that stays inside the snapshot may be browsed through.
  const inner = await tree('?path=photos/inner-link');
  assert.is(inner.status, 200);
  assert.equal(inner.body.entries.map((entry: any) => entry.name), ['deep.bin']);
});

history('the tree refuses "..", absolute paths, NUL and links that lead out of the snapshot', async (context) => {
  const { admin, made } = context;
  const tree = (query: string) => admin.get(url(context, `${snap(made[2].id)}/tree${query}`));
  for (const bad of ['..', 'photos/../..', '../' + made[0].id, '/etc', '/', 'photos/%00', 'photos/escape', 'photos/escape/', 'photos/escape/x']) {
    const response = await tree(`?path=${bad.replace(/\//g, '%2F')}`);
    assert.is(response.status, 400, `${bad}: ${JSON.stringify(response.body)}`);
    assert.ok(isErrorShape(response.body, 'INVALID_PATH'), `${bad}: ${JSON.stringify(response.body)}`);
  }
  const file = await tree('?path=photos/keep.txt');
  assert.is(file.status, 400);
  assert.ok(isErrorShape(file.body, 'NOT_A_FOLDER'));
  const missing = await tree('?path=photos/nothing-here');
  assert.is(missing.status, 404);
  assert.ok(isErrorShape(missing.body, 'PATH_NOT_FOUND'));
  for (const query of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=ten', '?unknown=1']) {
    const response = await tree(query);
    assert.is(response.status, 400, query);
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), query);
  }
});

history('a tree path the filesystem refuses (a name too long, a file in the middle, a link loop) is a 4xx in the error shape', async (context) => {
  const { admin, made } = context;
  symlinkSync('loop', path.join(made[2].path, 'photos', 'loop'));
  const tree = (query: string) => admin.get(url(context, `${snap(made[2].id)}/tree${query}`));
  for (const bad of [`photos/${'n'.repeat(300)}`, 'photos/keep.txt/inside', 'photos/loop', 'photos/loop/deeper']) {
    const response = await tree(`?path=${encodeURIComponent(bad)}`);
    assert.ok(response.status >= 400 && response.status < 500, `${bad}: ${response.status} ${JSON.stringify(response.body)}`);
    assert.ok(isErrorShape(response.body), `${bad}: ${JSON.stringify(response.body)}`);
  }
});

history('retention: PUT stores a policy, GET reads it back, kept_by follows it; bad bodies are 400 and change nothing', async (context) => {
  const { admin } = context;
  const initial = await admin.get(url(context, '/retention'));
  assert.is(initial.status, 200);
  assert.is(initial.body.keep_last, 0);

  const put = await admin.put(url(context, '/retention'), { keep_last: 1, keep_within: '1d' });
  assert.is(put.status, 200, JSON.stringify(put.body));
  assert.is(put.body.keep_last, 1);
  assert.is(put.body.keep_within, '1d');
  assert.equal((await admin.get(url(context, '/retention'))).body, put.body);
  assert.equal((await admin.get(url(context))).body.retention, put.body);

  // 1d back from the newest (03 Nov 10:00): 02 Nov 10:00 is not strictly newer, so only keep_last keeps.
  const listed = (await admin.get(url(context, '/snapshots'))).body.snapshots;
  assert.equal(
    listed.map((s: any) => s.kept_by),
    [[{ rule: 'keep_within' }, { rule: 'keep_last' }], [], []],
  );

  for (const bad of [{ keep_last: -2 }, { keep_last: '3' }, { keep_within: '5x' }, { keep_tags: 'a' }, { keep_forever: true }, [], null, 'all']) {
    const response = await admin.put(url(context, '/retention'), bad);
    assert.is(response.status, 400, JSON.stringify(bad));
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
  }
  assert.equal((await admin.get(url(context, '/retention'))).body, put.body);

  const reset = await admin.put(url(context, '/retention'), {});
  assert.is(reset.status, 200);
  assert.is(reset.body.keep_last, 0);
});

history('deleting a snapshot leaves the others, is gone from the list and announces snapshot:removed', async (context) => {
  const { admin, daemon, made, root } = context;
  const removed: unknown[] = [];
  const stop = daemon.events.on('snapshot:removed', (event) => removed.push(event));
  const response = await admin.delete(url(context, snap(made[1].id)));
  stop();
  assert.is(response.status, 200);
  assert.equal(response.body, { message: 'Snapshot deleted' });
  assert.equal(removed, [{ job_id: context.job.id, snapshot_id: made[1].id }]);
  assert.is((await admin.get(url(context))).body.snapshot_count, 2, 'the job view follows at once');
  assert.equal(
    (await admin.get(url(context, '/snapshots'))).body.snapshots.map((s: any) => s.id),
    [made[2].id, made[0].id],
  );
  assert.equal(readdirSync(root).sort(), [made[0].id, made[2].id].sort());
  // The others are whole: the oldest still restores its files.
  assert.ok(readFileSync(path.join(root, made[0].id, 'photos', 'changed.txt')).equals(original['changed.txt']));

  const again = await admin.delete(url(context, snap(made[1].id)));
  assert.is(again.status, 404);
  assert.ok(isErrorShape(again.body, 'SNAPSHOT_NOT_FOUND'));
});

history('a snapshot is not deleted while the job has a run', async (context) => {
  const { admin, made } = context;
  // One run at a time: a slow run of another job keeps this job's run pending (active, writing nothing).
  assert.is((await admin.put('/api/settings', { max_concurrent_runs: 1 })).status, 200);
  const slowSource = tempDir('cairn-slow-');
  writeFileSync(path.join(slowSource, 'big.bin'), fileContent('big', 3 * 1024 * 1024));
  const slow = await createJob(admin, { source_dirs: [slowSource], sync_options: { bandwidth_limit_kbps: 64 } });
  try {
    assert.is((await admin.post(`/api/jobs/${slow.id}/run`)).status, 200);
    const queued = await admin.post(url(context, '/run'));
    assert.is(queued.status, 200);
    const response = await admin.delete(url(context, snap(made[0].id)));
    assert.is(response.status, 409);
    assert.ok(isErrorShape(response.body, 'RUN_IN_PROGRESS'));
    assert.is(response.body.run_id, queued.body.run_id);
    assert.ok(existsSync(path.join(context.root, made[0].id)));
  } finally {
    await admin.post(url(context, '/cancel'));
    await admin.post(`/api/jobs/${slow.id}/cancel`);
    await admin.put('/api/settings', { max_concurrent_runs: 2 });
  }
  assert.equal((await admin.get(url(context, '/snapshots'))).body.total, 2);
});

history('a mirror job is 409 NOT_A_SNAPSHOT_JOB and an unknown job 404 on every history route', async (context) => {
  const { admin, made } = context;
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/snapshots'],
    ['GET', snap(made[0].id)],
    ['DELETE', snap(made[0].id)],
    ['GET', `${snap(made[0].id)}/tree`],
    ['POST', '/retention/preview', { keep_last: 1 }],
    ['POST', '/restore', { target_dir: path.join(tempDir(), 'x'), snapshot_id: made[0].id }],
  ];
  for (const [method, tail, body] of routes) {
    const mirror = await admin.request(method, url(context, tail, context.mirror.id), body);
    assert.is(mirror.status, 409, `${method} ${tail}`);
    assert.ok(isErrorShape(mirror.body, 'NOT_A_SNAPSHOT_JOB'), JSON.stringify(mirror.body));
    const unknown = await admin.request(method, url(context, tail, 999), body);
    assert.is(unknown.status, 404, `${method} ${tail}`);
    assert.ok(isErrorShape(unknown.body, 'JOB_NOT_FOUND'));
  }
  for (const tail of ['/retention']) {
    assert.is((await admin.get(url(context, tail, 999))).status, 404);
    assert.is((await admin.put(url(context, tail, 999), { keep_last: 1 })).status, 404);
  }
  const view = (await admin.get(url(context, '', context.mirror.id))).body;
  assert.equal([view.snapshot_count, view.latest_snapshot_at], [null, null]);
});

history('a restore run whose snapshot is gone by the time it starts fails saying so; an id is never a path', async (context) => {
  const target = tempDir('cairn-late-');
  const { signal } = new AbortController();
  for (const snapshot of ['2026-11-02T110000+0100', '..', '../cairn', '.', '']) {
    const error = await localDestination
      .restore({
        config: { mount_point: context.drive.mount, backup_subdir: 'cairn', usb_uuid: null, auto_mount: false, auto_unmount: false },
        secret: null,
        sources: [context.source],
        target,
        paths: null,
        snapshot,
        hostKeys: { check: async () => 'matched' as const },
        verbosity: 'normal',
        signal,
        log: () => undefined,
        progress: () => undefined,
      })
      .then(
        () => null,
        (caught) => caught,
      );
    assert.ok(error, snapshot);
    assert.is(error.code, 'SNAPSHOT_NOT_FOUND', `${snapshot}: ${error.message}`);
  }
  assert.equal(readdirSync(target), []);
});

history('job views carry the snapshot count and newest time, following snapshot:created', async (context) => {
  const { admin, daemon } = context;
  const before = (await admin.get(url(context))).body;
  assert.equal([before.snapshot_count, before.latest_snapshot_at], [2, '2026-11-03T10:00:00.000Z']);
  // A snapshot made by a run is announced; the job's counts follow without anyone listing.
  const made = await snapshotOf(context.root, [context.source], '2026-11-04T10:00:00Z');
  daemon.events.emit('snapshot:created', { job_id: context.job.id, snapshot: made });
  await waitFor('the count to follow', async () => (await admin.get(url(context))).body.snapshot_count === 3);
  const listed = (await admin.get('/api/jobs')).body.find((job: any) => job.id === context.job.id);
  assert.equal([listed.snapshot_count, listed.latest_snapshot_at], [3, '2026-11-04T10:00:00.000Z']);
  // A job body read back and sent again is accepted (the fields are read-only).
  const { id: _id, ...body } = listed;
  assert.is((await admin.put(url(context), body)).status, 200);

  // Pointed at another folder, the job does not show the old folder's counts; pointed back, it does.
  const elsewhere = await admin.put(url(context), { destination_config: { ...listed.destination_config, backup_subdir: 'other' } });
  assert.is(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  assert.equal([elsewhere.body.snapshot_count, elsewhere.body.latest_snapshot_at], [null, null]);
  const back = await admin.put(url(context), { destination_config: listed.destination_config });
  assert.equal([back.body.snapshot_count, back.body.latest_snapshot_at], [3, '2026-11-04T10:00:00.000Z']);
});

history('the counts survive a restart while the drive is away, and history routes say the drive is not mounted', async (context) => {
  const dataDir = context.daemon.config.dataDir;
  await context.daemon.stop();
  execFileSync('umount', [context.drive.mount]);
  context.daemon = await startTestDaemon({ dataDir });
  context.admin = context.daemon.client();
  assert.is((await context.admin.login()).status, 200);
  const view = (await context.admin.get(url(context))).body;
  assert.equal([view.snapshot_count, view.latest_snapshot_at], [3, '2026-11-04T10:00:00.000Z']);
  const listed = await context.admin.get(url(context, '/snapshots'));
  assert.is(listed.status, 503);
  assert.ok(isErrorShape(listed.body, 'DRIVE_NOT_MOUNTED'));
  // A failed read does not forget what was known.
  assert.is((await context.admin.get(url(context))).body.snapshot_count, 3);

  // A run's snapshot announced while the drive cannot be read (unplugged right after) still counts.
  const announced = { ...context.made[0], id: '2026-11-05T110000+0100', time: '2026-11-05T10:00:00.000Z', path: '/nowhere' };
  context.daemon.events.emit('snapshot:created', { job_id: context.job.id, snapshot: announced });
  const moved = await waitFor('the count to move', async () => {
    const job = (await context.admin.get(url(context))).body;
    return job.snapshot_count === 4 ? job : null;
  });
  assert.is(moved.latest_snapshot_at, '2026-11-05T10:00:00.000Z');
});

history.run();

const preview = suite<{ daemon: TestDaemon; admin: ApiClient; job: any; root: string }>('retention preview over a month of snapshots');

preview.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  assert.is((await context.admin.put('/api/settings', { timezone: ZONE })).status, 200);
  const source = path.join(tempDir(), 'docs');
  write(source, { 'a.txt': fileContent('a', 100) });
  context.root = tempDir('cairn-month-');
  context.job = await createJob(context.admin, {
    source_dirs: [source],
    destination_config: { mount_point: context.root, backup_subdir: '' },
    backup_mode: 'snapshots',
    retention: { keep_daily: 5, keep_weekly: 3 },
  });
  // One a day at 12:00 UTC through November 2026 (30 November is a Monday).
  for (let day = 1; day <= 30; day += 1) {
    writeFileSync(path.join(source, 'a.txt'), fileContent('a', 100, day));
    await snapshotOf(context.root, [source], `2026-11-${String(day).padStart(2, '0')}T12:00:00Z`);
  }
});

preview.after(async (context) => {
  await context.daemon?.stop();
});

const idOfDay = (day: number) => `2026-11-${String(day).padStart(2, '0')}T130000+0100`;
const timeOfDay = (day: number) => `2026-11-${String(day).padStart(2, '0')}T12:00:00.000Z`;

preview('the stored policy keeps the expected days with their reasons, and the preview touches nothing', async ({ admin, job, root }) => {
  const before = inventory(root);
  assert.is(before.length > 30 * 4, true);
  const response = await admin.post(`/api/jobs/${job.id}/retention/preview`);
  assert.is(response.status, 200, JSON.stringify(response.body));
  const daily = { rule: 'keep_daily' };
  const weekly = { rule: 'keep_weekly' };
  assert.equal(response.body.keep, [
    { id: idOfDay(30), time: timeOfDay(30), reasons: [daily, weekly] },
    { id: idOfDay(29), time: timeOfDay(29), reasons: [daily, weekly] },
    { id: idOfDay(28), time: timeOfDay(28), reasons: [daily] },
    { id: idOfDay(27), time: timeOfDay(27), reasons: [daily] },
    { id: idOfDay(26), time: timeOfDay(26), reasons: [daily] },
    { id: idOfDay(22), time: timeOfDay(22), reasons: [weekly] },
  ]);
  const removed = [25, 24, 23, ...Array.from({ length: 21 }, (_, i) => 21 - i)];
  assert.equal(response.body.remove, removed.map((day) => ({ id: idOfDay(day), time: timeOfDay(day) })));
  assert.equal(inventory(root), before);
  assert.is((await admin.get(`/api/jobs/${job.id}/snapshots`)).body.total, 30);
});

preview('a policy in the body is previewed instead of the stored one, which stays', async ({ admin, job, root }) => {
  const before = inventory(root);
  const response = await admin.post(`/api/jobs/${job.id}/retention/preview`, { keep_last: 2, keep_monthly: 1 });
  assert.is(response.status, 200);
  assert.equal(
    response.body.keep.map((entry: any) => [entry.id, entry.reasons.map((reason: any) => reason.rule)]),
    [
      [idOfDay(30), ['keep_last', 'keep_monthly']],
      [idOfDay(29), ['keep_last']],
    ],
  );
  assert.is(response.body.remove.length, 28);
  const stored = (await admin.get(`/api/jobs/${job.id}/retention`)).body;
  assert.equal([stored.keep_daily, stored.keep_weekly, stored.keep_last], [5, 3, 0]);
  assert.equal(inventory(root), before);
});

preview("buckets are read in the settings' time zone", async ({ admin, job }) => {
  // At UTC+14 each 12:00 UTC snapshot falls on the next local day: 29 and 30 November share a week.
  assert.is((await admin.put('/api/settings', { timezone: 'Pacific/Kiritimati' })).status, 200);
  try {
    const response = await admin.post(`/api/jobs/${job.id}/retention/preview`);
    assert.equal(
      response.body.keep.map((entry: any) => [entry.id, entry.reasons.map((reason: any) => reason.rule)]),
      [
        [idOfDay(30), ['keep_daily', 'keep_weekly']],
        [idOfDay(29), ['keep_daily']],
        [idOfDay(28), ['keep_daily', 'keep_weekly']],
        [idOfDay(27), ['keep_daily']],
        [idOfDay(26), ['keep_daily']],
        [idOfDay(21), ['keep_weekly']],
      ],
    );
    const listed = (await admin.get(`/api/jobs/${job.id}/snapshots`)).body.snapshots;
    assert.equal(listed.find((s: any) => s.id === idOfDay(21)).kept_by, [{ rule: 'keep_weekly' }]);
    assert.equal(listed.find((s: any) => s.id === idOfDay(22)).kept_by, []);
  } finally {
    await admin.put('/api/settings', { timezone: ZONE });
  }
});

preview('a bad preview body is 400 and changes nothing', async ({ admin, job, root }) => {
  const before = inventory(root);
  for (const bad of [null, [], 'all', { keep_last: -5 }, { keep_within: 'soon' }, { whatever: 1 }]) {
    const response = await admin.post(`/api/jobs/${job.id}/retention/preview`, bad);
    assert.is(response.status, 400, JSON.stringify(bad));
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
  }
  assert.equal(inventory(root), before);
});

preview('deletes sent at once are done one at a time: the same snapshot twice is deleted once, then 404', async ({ admin, job, root }) => {
  const remove = (day: number) => admin.delete(`/api/jobs/${job.id}/snapshots/${encodeURIComponent(idOfDay(day))}`);
  const answers = await Promise.all([remove(1), remove(1), remove(2), remove(1)]);
  assert.equal(
    answers.map((answer) => [answer.status, answer.body.code ?? answer.body.message]),
    [
      [200, 'Snapshot deleted'],
      [404, 'SNAPSHOT_NOT_FOUND'],
      [200, 'Snapshot deleted'],
      [404, 'SNAPSHOT_NOT_FOUND'],
    ],
  );
  assert.is((await admin.get(`/api/jobs/${job.id}/snapshots`)).body.total, 28);
  assert.not.ok(readdirSync(root).some((name) => name.startsWith('.')), 'no half-deleted folder left');
  assert.is((await admin.get(`/api/jobs/${job.id}`)).body.snapshot_count, 28);
});

preview.run();
