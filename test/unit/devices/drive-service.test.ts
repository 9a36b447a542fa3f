/**
 * The API's mount rules (devices/drive-service.ts) on real folders under the real allowed-paths rule,
 * with drive operations the test records: a real mount needs loop devices and udev, which
 * test/integration/usb.test.ts covers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DriveService, type DriveOperations } from '../../../src/devices/index.ts';
import { isCairnError } from '../../../src/domain/errors.ts';
import { AllowedPaths } from '../../../src/files/allowed-paths.ts';
import { outsideDir, tempDir } from '../../helpers.ts';

const UUID = 'AAAA-1111';

/** A service over a fresh allowed root, with one attached drive mounted at `mountedAt` (under the root) or nowhere. */
function setup(mountedAt: string | null = null) {
  const root = tempDir();
  const calls: string[] = [];
  const mountpoint = mountedAt === null ? null : path.join(root, mountedAt);
  const drives: DriveOperations = {
    listDrives: async () => [{ name: 'sdz1', device: '/dev/sdz1', label: null, uuid: UUID, fstype: 'ext4', size: '1G', size_bytes: 2 ** 30, mountpoint }],
    mount: async (uuid, target) => calls.push(`mount ${uuid} ${target}`),
    unmount: async (target) => void calls.push(`unmount ${target}`),
    lazyUnmount: async (target) => void calls.push(`lazy unmount ${target}`),
  };
  const listings = { listDrives: drives.listDrives, listMounts: async () => [] };
  return { root, calls, service: new DriveService({ allowed: new AllowedPaths([root]), drives, listings }) };
}

/** The code of the CairnError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!isCairnError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.code;
}

test('a drive is mounted at the real path of an empty folder, created when missing', async () => {
  const { root, calls, service } = setup();
  mkdirSync(path.join(root, 'empty'));
  assert.is(await service.mount(UUID, path.join(root, 'usb')), path.join(root, 'usb'));
  assert.is(await service.mount(UUID, `${root}//empty/`), path.join(root, 'empty'));
  // ".." is refused, not folded: after a link the kernel would take it elsewhere.
  assert.is(await refusal(service.mount(UUID, `${root}/x/../empty`)), 'INVALID_PATH');
  assert.equal(calls, [`mount ${UUID} ${path.join(root, 'usb')}`, `mount ${UUID} ${path.join(root, 'empty')}`]);
});

test('a folder holding files is never mounted over, unless that drive is already mounted there', async () => {
  const { root, calls, service } = setup();
  mkdirSync(path.join(root, 'photos'));
  writeFileSync(path.join(root, 'photos', 'keep.jpg'), 'x');
  assert.is(await refusal(service.mount(UUID, path.join(root, 'photos'))), 'MOUNT_POINT_NOT_EMPTY');
  assert.equal(calls, []);

  const mounted = setup('usb');
  mkdirSync(path.join(mounted.root, 'usb'));
  writeFileSync(path.join(mounted.root, 'usb', 'backup.txt'), 'x');
  assert.is(await mounted.service.mount(UUID, path.join(mounted.root, 'usb')), path.join(mounted.root, 'usb'));
});

test('mount points outside the allowed paths are refused before anything is touched', async () => {
  const { calls, service } = setup();
  assert.is(await refusal(service.mount(UUID, path.join(outsideDir(), 'usb'))), 'PATH_NOT_ALLOWED');
  assert.is(await refusal(service.mount(UUID, '/etc')), 'PATH_NOT_ALLOWED');
  assert.equal(calls, []);
});

test('only a drive is ever unmounted: a folder no drive is mounted at is 404 NOT_MOUNTED', async () => {
  const { root, calls, service } = setup('usb');
  mkdirSync(path.join(root, 'usb'));
  mkdirSync(path.join(root, 'plain'));
  assert.is(await refusal(service.unmount(path.join(root, 'plain'))), 'NOT_MOUNTED');
  assert.is(await refusal(service.unmount('/')), 'PATH_NOT_ALLOWED');
  assert.equal(calls, []);
  assert.is(await service.unmount(`${root}/usb/`), path.join(root, 'usb'));
  assert.equal(calls, [`unmount ${path.join(root, 'usb')}`]);
});

test.run();
