/**
 * Filesystems that cannot make hard links, refused for snapshots by name: when the job is saved if
 * its backup folder is there, else by its first run. The drive is a real exFAT image on a loop
 * device mounted with exfat-fuse (this kernel has no vfat or exfat driver; FUSE is what a Pi without
 * the exfat module uses too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** An exFAT image on a loop device; `mount()` mounts it with exfat-fuse at `at`. */
function exfatDrive() {
  const image = path.join(tempDir('cairn-exfat-'), 'disk.img');
  run('truncate', ['-s', '64M', image]);
  run('mkfs.exfat', ['-L', 'STICK', image]);
  const device = run('losetup', ['-f', '--show', image]);
  const uuid = run('blkid', ['-p', '-s', 'UUID', '-o', 'value', device]);
  const mounted: string[] = [];
  return {
    uuid,
    mount(at: string) {
      run('mount.exfat-fuse', [device, at]);
      mounted.push(at);
    },
    remove() {
      for (const at of mounted) execFileSync('umount', [at], { stdio: 'ignore' });
      execFileSync('losetup', ['-d', device]);
    },
  };
}

let daemon: TestDaemon;
let client: ApiClient;
let drive: ReturnType<typeof exfatDrive>;
test.before(async () => {
  drive = exfatDrive();
  daemon = await startTestDaemon();
  client = daemon.client();
  await client.setupAdmin();
});
test.after(async () => {
  await daemon?.stop();
  drive?.remove();
});

test('a snapshots job on a mounted exFAT drive is refused when saved (400 FILESYSTEM_NO_HARD_LINKS naming exfat); a mirror job there is fine', async () => {
  const mountPoint = tempDir('cairn-stick-');
  drive.mount(mountPoint);
  const body = {
    name: 'On the stick',
    source_dirs: [tempDir()],
    destination_type: 'local',
    destination_config: { mount_point: mountPoint, backup_subdir: 'cairn/photos' },
    backup_mode: 'snapshots',
  };
  const refused = await client.post('/api/jobs', body);
  assert.is(refused.status, 400);
  assert.ok(isErrorShape(refused.body, 'FILESYSTEM_NO_HARD_LINKS'), JSON.stringify(refused.body));
  assert.match(refused.body.message, /is on exfat \(FUSE\), a filesystem that cannot make hard links/);
  assert.equal((await client.get('/api/jobs')).body, [], 'nothing saved');
  assert.equal(readdirSync(mountPoint), [], 'no folder made and no probe left on the stick');

  const mirror = await createJob(client, { ...body, backup_mode: 'mirror' });
  const changed = await client.put(`/api/jobs/${mirror.id}`, { backup_mode: 'snapshots' });
  assert.is(changed.status, 400);
  assert.ok(isErrorShape(changed.body, 'FILESYSTEM_NO_HARD_LINKS'));
  assert.is((await client.get(`/api/jobs/${mirror.id}`)).body.backup_mode, 'mirror');
  await client.delete(`/api/jobs/${mirror.id}`);
});

test('a USB snapshots job saved while its exFAT drive is away is accepted; its first run on the drive fails naming the filesystem', async () => {
  const mountPoint = tempDir('cairn-usb-');
  const job = await createJob(client, {
    destination_config: { mount_point: mountPoint, backup_subdir: 'history', usb_uuid: drive.uuid, auto_mount: false, auto_unmount: false },
    backup_mode: 'snapshots',
  });
  drive.mount(mountPoint);
  const failed = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id);
  assert.is(failed.status, 'failed');
  assert.match(failed.error_message, /is on exfat \(FUSE\), a filesystem that cannot make hard links; snapshots need a Linux filesystem/);
  assert.ok(!existsSync(path.join(mountPoint, 'history')) || readdirSync(path.join(mountPoint, 'history')).length === 0, 'nothing half-made on the stick');
});

test.run();
