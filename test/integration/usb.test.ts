/**
 * USB drives for real: ext4 images with chosen UUIDs on loop devices, a real systemd-udevd, real
 * mount/umount. The owner registers a drive, plugs it in, walks away, and comes back to a backed-up
 * drive that is safe to pull.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { isMountPoint, mountImageReadOnly, mountTargetsOf, plugInDrive, startUdev, type TestDrive } from '../drives.ts';
import { createJob, isErrorShape, outsideDir, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../helpers.ts';
import { fileContent, makeSampleTree, snapshotTree, waitFor } from '../trees.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  events: Array<{ at: number; message: any }>;
  socket: WebSocket;
  ledDir: string;
  notifyLog: string;
  drives: TestDrive[];
  stopUdev: () => void;
}

const usb = suite<Context>('usb');

usb.before(async (context) => {
  context.stopUdev = startUdev();
});
usb.after(({ stopUdev }) => stopUdev());

usb.before.each(async (context) => {
  context.drives = [];
  context.ledDir = tempDir();
  writeFileSync(path.join(context.ledDir, 'trigger'), 'none timer [mmc0] heartbeat');
  context.notifyLog = path.join(tempDir(), 'notified');
  const notify = path.join(tempDir(), 'notify.sh');
  writeFileSync(notify, `#!/bin/sh\necho "$CAIRN_EVENT $CAIRN_OUTCOME $CAIRN_DRIVE_UUID" >> ${context.notifyLog}\n`);
  chmodSync(notify, 0o755);
  context.daemon = await startTestDaemon(
    { watchDrives: true, ledPath: context.ledDir, notifyCommand: notify },
    { plugInDebounceMs: 300 },
  );
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  const token = (await context.client.get('/api/auth/token')).body.token;
  context.events = [];
  context.socket = new WebSocket(`${context.daemon.url.replace('http', 'ws')}/api/ws/status?token=${token}`);
  context.socket.on('message', (data) => context.events.push({ at: Date.now(), message: JSON.parse(String(data)) }));
  await new Promise((resolve) => context.socket.once('open', resolve));
});

usb.after.each(async (context) => {
  context.socket.close();
  await context.daemon.stop();
  for (const drive of context.drives) {
    try {
      drive.detach();
    } catch {
      // already gone
    }
  }
});

const eventOf = (context: Context, type: string, uuid?: string) =>
  context.events.find(({ message }) => message.type === type && (uuid === undefined || message.uuid === uuid));

async function registerJob(context: Context, uuid: string, overrides: Record<string, unknown> = {}) {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  const mountPoint = path.join(tempDir(), 'usb');
  const job = await createJob(context.client, {
    name: `USB ${uuid}`,
    source_dirs: [source],
    destination_config: { mount_point: mountPoint, backup_subdir: 'cairn', usb_uuid: uuid, auto_mount: true, auto_unmount: true },
    ...overrides,
  });
  return { jobId: job.id as number, source, mountPoint };
}

usb('a registered drive is backed up on plug-in, unmounted, and announced safe to remove', async (context) => {
  const uuid = '0b6f6a2e-1c1d-4c83-9a55-3f1f3c0a7d01';
  const { jobId, source, mountPoint } = await registerJob(context, uuid);
  makeSampleTree(source, { largeFileBytes: 1024 * 1024 });

  const plugged = Date.now();
  const drive = plugInDrive({ uuid, label: 'BACKUP' });
  context.drives.push(drive);
  const safe = await waitFor('drive_safe_to_remove', () => eventOf(context, 'drive_safe_to_remove', uuid), 30_000);
  assert.is(safe.message.outcome, 'completed');
  assert.is(safe.message.mount_point, mountPoint);

  const types = context.events.filter(({ message }) => !message.uuid || message.uuid === uuid).map(({ message }) => message.type);
  assert.equal(
    types.filter((type) => !type.includes('progress')),
    ['drive_connected', 'drive_mounted', 'job_started', 'job_completed', 'drive_safe_to_remove'],
  );
  const started = eventOf(context, 'job_started')!;
  assert.is(started.message.trigger, 'device');
  assert.is(eventOf(context, 'job_completed')!.message.status, 'completed');
  assert.is(eventOf(context, 'drive_connected', uuid)!.message.registered, true);

  const runs = (await context.client.get(`/api/jobs/${jobId}/runs`)).body;
  assert.is(runs.length, 1, 'one run, however many events udev sent');
  assert.is(runs[0].trigger, 'device');

  assert.equal(mountTargetsOf(drive.device), [], 'not mounted any more');
  const look = mountImageReadOnly(drive.image);
  try {
    assert.equal(snapshotTree(path.join(look.dir, 'cairn', 'photos')), snapshotTree(source), 'the files are on the drive, byte for byte');
  } finally {
    look.unmount();
  }

  assert.is(readFileSync(path.join(context.ledDir, 'trigger'), 'utf8'), 'none');
  assert.is(readFileSync(path.join(context.ledDir, 'brightness'), 'utf8'), '1', 'steady LED: safe to remove');
  await waitFor('the notify command', () => existsSync(context.notifyLog));
  assert.is(readFileSync(context.notifyLog, 'utf8').trim(), `drive_safe_to_remove completed ${uuid}`);

  const toRsync = started.at - plugged;
  const toSafe = safe.at - eventOf(context, 'job_completed')!.at;
  console.log(`    plug-in → rsync start: ${toRsync} ms; run end → safe to remove: ${toSafe} ms`);
  assert.ok(toRsync < 3000, `plug-in to rsync took ${toRsync} ms`);
  assert.ok(toSafe < 3000, `run end to safe-to-remove took ${toSafe} ms`);
});

usb('a drive already plugged in when the daemon starts is backed up as if just plugged in', async (context) => {
  const uuid = '3c3c3c3c-dddd-4eee-8fff-000000000001';
  const { jobId, source } = await registerJob(context, uuid);
  writeFileSync(path.join(source, 'present.txt'), 'here before the daemon');
  await context.daemon.stop();
  const drive = plugInDrive({ uuid });
  context.drives.push(drive);
  await new Promise((resolve) => setTimeout(resolve, 500));

  context.daemon = await startTestDaemon(context.daemon.config, { plugInDebounceMs: 300 });
  const run = await waitFor('the run at start', async () => {
    const latest = context.daemon.store.runs.ofJob(jobId)[0];
    return latest && ['completed', 'failed'].includes(latest.status) ? latest : null;
  }, 30_000);
  assert.is(run.trigger, 'device');
  assert.is(run.status, 'completed', run.error_message ?? '');
  await waitFor('the unmount', () => mountTargetsOf(drive.device).length === 0);
});

usb('an unregistered drive is announced but nothing runs or mounts', async (context) => {
  await registerJob(context, '11111111-2222-3333-4444-555555555555');
  const drive = plugInDrive({ uuid: '99999999-8888-7777-6666-555555555555' });
  context.drives.push(drive);
  const connected = await waitFor('drive_connected', () => eventOf(context, 'drive_connected', drive.uuid), 15_000);
  assert.is(connected.message.registered, false);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.not.ok(context.events.some(({ message }) => message.type === 'job_started' || message.type === 'drive_mounted'));
  assert.equal(mountTargetsOf(drive.device), []);
});

usb('a drive pulled out mid-run fails the run with "drive removed", writes nothing to the root filesystem, and works again next time', async (context) => {
  const uuid = '5e1f0c3a-aaaa-4bbb-8ccc-0123456789ab';
  const { jobId, source, mountPoint } = await registerJob(context, uuid, { sync_options: { bandwidth_limit_kbps: 300 } });
  for (let i = 0; i < 12; i++) writeFileSync(path.join(source, `video-${i}.bin`), fileContent(`v${i}`, 256 * 1024));
  const first = plugInDrive({ uuid, sizeMb: 64 });
  context.drives.push(first);
  await waitFor('the run to transfer', async () => (await context.client.get(`/api/jobs/${jobId}/runs`)).body[0]?.files_transferred >= 1, 30_000);

  first.yank();
  const failed = await waitFor('the run to fail', async () => {
    const run = (await context.client.get(`/api/jobs/${jobId}/runs`)).body[0];
    return run.status === 'failed' ? run : null;
  }, 30_000);
  assert.match(failed.error_message, /Drive removed/);
  await waitFor('the dead mount to be detached', () => !isMountPoint(mountPoint));
  assert.equal(readdirSync(mountPoint), [], 'nothing was written into the mount point directory on the root filesystem');
  assert.is((await context.client.get('/api/system/health')).status, 200, 'the daemon keeps serving');
  first.detach();
  context.drives.pop();

  await context.client.put(`/api/jobs/${jobId}`, { sync_options: { bandwidth_limit_kbps: null } });
  context.events.length = 0;
  const second = plugInDrive({ uuid });
  context.drives.push(second);
  const safe = await waitFor('the next plug-in to finish', () => eventOf(context, 'drive_safe_to_remove', uuid), 30_000);
  assert.is(safe.message.outcome, 'completed');
  assert.is((await context.client.get(`/api/jobs/${jobId}/runs`)).body[0].status, 'completed');
});

usb('a failed backup still unmounts, and the LED and command say it failed', async (context) => {
  const uuid = '7a7a7a7a-bbbb-4ccc-8ddd-eeeeeeeeeeee';
  await registerJob(context, uuid, { source_dirs: [path.join(tempDir(), 'missing-folder')] });
  const drive = plugInDrive({ uuid });
  context.drives.push(drive);
  const safe = await waitFor('drive_safe_to_remove', () => eventOf(context, 'drive_safe_to_remove', uuid), 30_000);
  assert.is(safe.message.outcome, 'failed');
  assert.is(readFileSync(path.join(context.ledDir, 'trigger'), 'utf8'), 'timer');
  assert.is(readFileSync(path.join(context.ledDir, 'delay_off'), 'utf8'), '900');
  await waitFor('the notify command', () => existsSync(context.notifyLog));
  assert.match(readFileSync(context.notifyLog, 'utf8'), /drive_safe_to_remove failed/);
});

usb('mount, list, browse and unmount through the API; busy drives are named, bad input is refused', async (context) => {
  const drive = plugInDrive({ uuid: 'c0ffee00-1234-4567-89ab-cdef01234567', label: 'PHOTOS' });
  context.drives.push(drive);
  // A fresh folder inside the test daemon's allowed paths (the temp folder).
  const root = tempDir();
  await waitFor('the drive to be listed', async () => (await context.client.get('/api/system/drives')).body.find((d: any) => d.uuid === drive.uuid));
  const listed = (await context.client.get('/api/system/drives')).body.find((d: any) => d.uuid === drive.uuid);
  assert.equal({ label: listed.label, fstype: listed.fstype, mountpoint: listed.mountpoint }, { label: 'PHOTOS', fstype: 'ext4', mountpoint: null });
  assert.is(listed.size, '64M');

  const mountPoint = path.join(root, 'photos');
  const mounted = await context.client.post('/api/system/mount', { uuid: drive.uuid, mount_point: mountPoint });
  assert.equal(mounted.body, { message: 'Drive mounted', mount_point: mountPoint });
  assert.ok((await context.client.get('/api/system/mounts')).body.some((m: any) => m.mountpoint === mountPoint && m.fstype === 'ext4'));
  const options = (await context.client.get('/api/system/mounts')).body.find((m: any) => m.mountpoint === mountPoint).options;
  assert.match(options, /nosuid/);
  assert.match(options, /nodev/);

  const made = await context.client.post('/api/system/mkdir', { path: path.join(mountPoint, 'new folder') });
  assert.is(made.status, 201);
  const browsed = (await context.client.get(`/api/system/browse?path=${encodeURIComponent(mountPoint)}`)).body;
  assert.is(browsed.parent, root);
  assert.ok(browsed.entries.some((entry: any) => entry.name === 'new folder' && entry.is_dir));

  const holder = execFileSync('sh', ['-c', `cd '${mountPoint}' && (sleep 30 >/dev/null 2>&1 & echo $!)`]).toString().trim();
  const busy = await context.client.post('/api/system/unmount', { mount_point: mountPoint });
  assert.is(busy.status, 409);
  assert.ok(isErrorShape(busy.body, 'DRIVE_BUSY'));
  assert.match(busy.body.message, /sleep/);
  process.kill(Number(holder));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const unmounted = await context.client.post('/api/system/unmount', { mount_point: mountPoint });
  assert.equal(unmounted.body, { message: 'Drive unmounted', mount_point: mountPoint });

  const unknown = await context.client.post('/api/system/mount', { uuid: 'DEAD-BEEF', mount_point: path.join(root, 'x') });
  assert.is(unknown.status, 404);
  assert.ok(isErrorShape(unknown.body, 'DRIVE_NOT_FOUND'));
});

usb('paths outside the allowed roots, traversal, symlink escapes and shell strings are refused and nothing runs', async (context) => {
  const root = tempDir();
  const outside = outsideDir();
  symlinkSync(outside, path.join(root, 'escape'));
  const marker = path.join(tempDir(), 'pwned');
  const refused: Array<[string, string, unknown, number]> = [
    ['GET', `/api/system/browse?path=${encodeURIComponent('/etc')}`, undefined, 403],
    ['GET', `/api/system/browse?path=${encodeURIComponent(`${root}/../../etc`)}`, undefined, 400],
    ['GET', `/api/system/browse?path=${encodeURIComponent(`${root}/escape`)}`, undefined, 403],
    ['GET', `/api/system/browse?path=relative/path`, undefined, 400],
    ['POST', '/api/system/mkdir', { path: `${root}/escape/inside-outside` }, 403],
    ['POST', '/api/system/mkdir', { path: `${root}/../../evil` }, 400],
    ['POST', '/api/system/mount', { uuid: 'ABCD-1234', mount_point: '/etc' }, 403],
    ['POST', '/api/system/mount', { uuid: 'ABCD-1234', mount_point: `${root}/escape/m` }, 403],
    ['POST', '/api/system/mount', { uuid: `$(touch ${marker})`, mount_point: `${root}/m` }, 400],
    ['POST', '/api/system/mount', { uuid: 'ABCD;rm -rf /', mount_point: `${root}/m` }, 400],
    ['POST', '/api/system/mount', { uuid: 'ABCD-1234', mount_point: `${root}/m;touch ${marker}` }, 404],
    ['POST', '/api/system/unmount', { mount_point: `/` }, 403],
    ['POST', '/api/system/unmount', { mount_point: `${root}/$(touch ${marker})` }, 404],
    ['POST', '/api/system/mkdir', { path: `${root}/a\nb` }, 400],
  ];
  for (const [method, url, body, status] of refused) {
    const response = await context.client.request(method, url, body);
    assert.is(response.status, status, `${method} ${url} ${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
  }
  assert.not.ok(existsSync(marker), 'no shell ran anything');
  assert.equal(readdirSync(outside), [], 'nothing was created outside');
  assert.not.ok(existsSync(path.join(root, 'm;touch ' + marker)));
});

usb.run();
