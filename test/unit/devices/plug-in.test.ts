/**
 * The plug-in policy's decisions, with drive operations the test records (the real mount, udev and
 * rsync path is covered by test/integration/usb.test.ts).
 */
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutcomeSignal, PlugInPolicy, type DriveOperations } from '../../../src/devices/index.ts';
import type { JobRecord } from '../../../src/domain/jobs.ts';
import { AllowedPaths } from '../../../src/files/allowed-paths.ts';
import type { RunRecord } from '../../../src/domain/runs.ts';
import { EventBus } from '../../../src/events.ts';
import { createMemoryLogger } from '../../../src/log.ts';
import type { RunManager } from '../../../src/runs/index.ts';
import { openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

const UUID = 'AAAA-1111';

async function setup(jobOverrides: Partial<JobRecord['destination_config']> = {}) {
  const store = await openStore(tempDir());
  await store.jobs.create({
    name: 'usb',
    description: '',
    enabled: true,
    source_dirs: ['/srv/photos'],
    destination_type: 'local',
    destination_config: { mount_point: '/mnt/usb', backup_subdir: '', usb_uuid: UUID, auto_mount: true, auto_unmount: true, ...jobOverrides },
    sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    credential_id: null,
    backup_mode: 'mirror',
    retention: emptyRetentionPolicy(),
  });
  const events = new EventBus();
  const calls: string[] = [];
  const finishers = new Map<number, (status: RunRecord['status']) => void>();
  let nextRun = 1;
  const runManager = {
    request: async (jobId: number) => {
      const id = nextRun++;
      calls.push(`run ${jobId}`);
      const run = { id, job_id: jobId, status: 'running' } as RunRecord;
      finishers.set(id, (status) => events.emit('run:finished', { ...run, status }));
      return run;
    },
    driveRemoved: (jobId: number) => {
      calls.push(`drive removed ${jobId}`);
      for (const finish of finishers.values()) finish('failed');
      return undefined;
    },
  } as unknown as RunManager;
  const drives: DriveOperations = {
    listDrives: async () => [],
    mount: async (uuid, mountPoint) => calls.push(`mount ${uuid} ${mountPoint}`),
    unmount: async (mountPoint) => void calls.push(`unmount ${mountPoint}`),
    lazyUnmount: async (mountPoint) => void calls.push(`lazy unmount ${mountPoint}`),
  };
  const seen: string[] = [];
  for (const type of ['drive:connected', 'drive:mounted', 'drive:safe_to_remove', 'drive:removed'] as const) {
    events.on(type, () => seen.push(type));
  }
  const policy = new PlugInPolicy({
    jobs: store.jobs,
    runManager,
    events,
    log: createMemoryLogger(),
    signal: new OutcomeSignal({ ledPath: null, notifyCommand: null }, createMemoryLogger()),
    drives,
    allowed: new AllowedPaths(['/mnt', '/srv']),
    debounceMs: 50,
  });
  return { policy, calls, finishers, seen };
}

const plug = (policy: PlugInPolicy, action: 'add' | 'change' = 'add', uuid: string | null = UUID) =>
  policy.handle({ action, device: '/dev/sdz1', uuid, fstype: 'ext4', label: 'USB' });

test('udev repeating itself (add, change, change) is one plug-in and one run', async () => {
  const { policy, calls, finishers } = await setup();
  plug(policy);
  plug(policy, 'change');
  plug(policy, 'change');
  await waitFor('the run', () => finishers.size === 1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(calls, ['mount AAAA-1111 /mnt/usb', 'run 1']);
  finishers.get(1)!('completed');
  await waitFor('the unmount', () => calls.includes('unmount /mnt/usb'));
});

test('a drive announced again while its backup runs does not start a second run', async () => {
  const { policy, calls, finishers, seen } = await setup();
  plug(policy);
  await waitFor('the run', () => finishers.size === 1);
  plug(policy, 'change');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(calls.filter((call) => call.startsWith('run')), ['run 1']);
  finishers.get(1)!('completed');
  await waitFor('safe to remove', () => seen.includes('drive:safe_to_remove'));
  assert.equal(seen, ['drive:connected', 'drive:mounted', 'drive:safe_to_remove']);
});

test('without auto_unmount the drive stays mounted and is not announced safe to remove', async () => {
  const { policy, calls, finishers, seen } = await setup({ auto_unmount: false });
  plug(policy);
  await waitFor('the run', () => finishers.size === 1);
  finishers.get(1)!('completed');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.not.ok(calls.some((call) => call.startsWith('unmount')));
  assert.not.ok(seen.includes('drive:safe_to_remove'));
});

test('a job saved before the allowed-paths rule with its mount point outside: the drive is not mounted there, and the run is still asked for (it fails at its start, naming the path)', async () => {
  const { policy, calls, finishers, seen } = await setup({ mount_point: '/etc' });
  plug(policy);
  await waitFor('the run', () => finishers.size === 1);
  finishers.get(1)!('failed');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(calls, ['run 1'], 'nothing was mounted over /etc');
  assert.not.ok(seen.includes('drive:mounted'));
});

test('without auto_mount, or for another UUID, nothing is mounted or run', async () => {
  const off = await setup({ auto_mount: false });
  plug(off.policy);
  const other = await setup();
  plug(other.policy, 'add', 'BBBB-2222');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(off.calls, []);
  assert.equal(other.calls, []);
  assert.equal(other.seen, ['drive:connected']);
});

test('pulled out mid-run: the run is stopped first, then the dead mount is detached', async () => {
  const { policy, calls, finishers, seen } = await setup();
  plug(policy);
  await waitFor('the run', () => finishers.size === 1);
  // A loop device losing its medium shows up as a change without a filesystem.
  plug(policy, 'change', null);
  await waitFor('the lazy unmount', () => calls.includes('lazy unmount /mnt/usb'));
  assert.equal(calls, ['mount AAAA-1111 /mnt/usb', 'run 1', 'drive removed 1', 'lazy unmount /mnt/usb']);
  assert.ok(seen.includes('drive:removed'));
  assert.not.ok(seen.includes('drive:safe_to_remove'));
});

test.run();
