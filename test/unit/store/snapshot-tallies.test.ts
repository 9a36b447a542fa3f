/** The last known snapshot counts per job: stored durably, migrated into older stores, dropped with the job. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import { DATABASE_FILE, openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

const job = {
  id: 1,
  name: 'Photos',
  description: '',
  enabled: true,
  source_dirs: ['/home/pi/photos'],
  destination_type: 'local',
  destination_config: { mount_point: '/mnt/usb' },
  sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
  credential_id: null,
  backup_mode: 'snapshots',
  retention: emptyRetentionPolicy(),
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
};

test('a store from before the counts opens with none known', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, DATABASE_FILE), JSON.stringify({ schema_version: 4, last_ids: { jobs: 1 }, users: [], sessions: [], settings: {}, jobs: [job], schedules: [], runs: [], credentials: [] }));
  const store = await openStore(dir);
  assert.is(store.snapshotTallies.of(1), undefined);
  assert.is(store.jobs.byId(1)!.name, 'Photos');
});

test('a recorded count is on disk when record resolves, and reopens', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await store.snapshotTallies.record(7, 'local:/mnt/usb', 3, '2026-12-05T02:15:00.000Z');
  const onDisk = JSON.parse(readFileSync(path.join(dir, DATABASE_FILE), 'utf8'));
  assert.equal(onDisk.snapshot_tallies, [{ job_id: 7, count: 3, latest_at: '2026-12-05T02:15:00.000Z', folder: 'local:/mnt/usb' }]);
  await store.snapshotTallies.record(7, 'local:/mnt/usb', 0, null);
  await store.close();
  assert.equal((await openStore(dir)).snapshotTallies.of(7), { job_id: 7, count: 0, latest_at: null, folder: 'local:/mnt/usb' });
});

test('deleting a job drops its count', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  const { id: _id, created_at: _c, updated_at: _u, ...input } = job;
  const created = await store.jobs.create(input as never);
  await store.snapshotTallies.record(created.id, 'local:/mnt/usb', 2, '2026-12-05T02:15:00.000Z');
  await store.snapshotTallies.record(created.id + 1, 'local:/mnt/other', 5, null);
  await store.jobs.delete(created.id);
  assert.is(store.snapshotTallies.of(created.id), undefined);
  assert.equal(store.snapshotTallies.of(created.id + 1)?.count, 5);
});

test.run();
