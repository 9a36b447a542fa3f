/**
 * Health's drive rule: a mounted drive that an enabled job backs up to and that is 90% full makes the
 * daemon degraded; another full drive does not. The drive listing is given (lsblk needs udev for
 * UUIDs, which tests do not start); the filesystem is a real, filled tmpfs read with statfs.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DashboardService, FreeSpaceCache } from '../../../src/dashboard/index.ts';
import { destinationOf } from '../../../src/destinations/index.ts';
import type { Drive } from '../../../src/devices/index.ts';
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';
import { fileContent } from '../../trees.ts';

const execFileAsync = promisify(execFile);

function drive(uuid: string, mountpoint: string): Drive {
  return { name: 'sdz1', device: '/dev/sdz1', label: `DRIVE-${uuid}`, uuid, fstype: 'ext4', size: '4M', size_bytes: 4 * 1024 * 1024, mountpoint };
}

test('a nearly full drive a job backs up to degrades health; an unrelated full drive does not', async () => {
  const mount = tempDir('cairn-drive-');
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
  try {
    writeFileSync(path.join(mount, 'filler.bin'), fileContent('filler', Math.round(3.8 * 1024 * 1024)));
    const store = await openStore(tempDir());
    const job = await store.jobs.create({
      name: 'To the stick',
      description: '',
      enabled: true,
      source_dirs: ['/srv/photos'],
      destination_type: 'local',
      destination_config: { mount_point: mount, backup_subdir: '', usb_uuid: 'abcd-1234', auto_mount: true, auto_unmount: true },
      sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
      credential_id: null,
      backup_mode: 'mirror',
      retention: emptyRetentionPolicy(),
    });
    let drives = [drive('FFFF-0000', mount)];
    const dashboard = new DashboardService({
      jobs: store.jobs,
      runs: store.runs,
      stats: store.runStats,
      nextRunOf: () => null,
      overdueAfterMs: () => null,
      space: new FreeSpaceCache({ destinationOf, secretOf: async () => null, hostKeys: { check: async () => 'matched' } }),
      drives: { listDrives: async () => drives },
      driveUuidOf: (entry) => destinationOf(entry.destination_type).removableDrive?.(entry.destination_config)?.uuid ?? null,
    });
    assert.equal(await dashboard.health(), { status: 'ok', reasons: [] }, 'a full drive no job uses');

    drives = [drive('FFFF-0000', mount), drive('ABCD-1234', mount)];
    const health = await dashboard.health();
    assert.is(health.status, 'degraded');
    assert.equal(health.reasons.map((reason) => [reason.code, reason.uuid]), [['DRIVE_NEARLY_FULL', 'ABCD-1234']]);
    assert.match(health.reasons[0].message, /DRIVE-ABCD-1234 \(ABCD-1234\) is 9\d% full/);

    await store.jobs.update(job.id, { ...store.jobs.byId(job.id)!, enabled: false });
    assert.is((await dashboard.health()).status, 'ok', 'a disabled job does not make its drive a concern');
  } finally {
    await execFileAsync('umount', [mount]);
  }
});

test.run();
