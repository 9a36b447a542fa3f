/**
 * A daemon killed with SIGKILL in the middle of a snapshot run, then started again on the same data
 * dir: no half-made snapshot is ever listed, and the next run completes it (on real ext4, real rsync).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSnapshots } from '../../../src/history/index.ts';
import { ApiClient, createJob, finishedRun, rsyncPids, spawnDaemonProcess, tempDir, type DaemonProcess } from '../../helpers.ts';
import { fileContent, snapshotTree, waitFor } from '../../trees.ts';
import { ext4Drive } from './engine.ts';

test('kill -9 of the daemon mid-snapshot: only complete snapshots are listed, and after a restart the next run completes it', async () => {
  const drive = ext4Drive(128);
  const daemons: DaemonProcess[] = [];
  try {
    const dataDir = tempDir();
    daemons.push(await spawnDaemonProcess(dataDir));
    const client = new ApiClient(daemons[0].url);
    await client.setupAdmin();
    const source = path.join(tempDir(), 'documents');
    mkdirSync(source);
    for (let i = 0; i < 30; i++) writeFileSync(path.join(source, `chunk-${i}.bin`), fileContent(`c${i}`, 256 * 1024));
    const job = await createJob(client, {
      source_dirs: [source],
      destination_config: { mount_point: drive.mount, backup_subdir: 'history' },
      backup_mode: 'snapshots',
      // 7.5 MB at 500 kB/s: about 15 s, long enough to be caught mid-copy.
      sync_options: { bandwidth_limit_kbps: 500 },
    });
    const root = path.join(drive.mount, 'history');
    const interrupted = (await client.post(`/api/jobs/${job.id}/run`)).body.run_id;
    const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
    const work = await waitFor('a few files in the work folder', () => {
      const name = listing(root).find((entry) => entry.startsWith('.incomplete-'));
      // rsync's temp files start with a dot; the others are finished.
      return name && listing(path.join(root, name, 'documents')).filter((file) => !file.startsWith('.')).length >= 3 ? name : null;
    });
    await daemons[0].kill('SIGKILL');
    // A power cut takes rsync along; a killed daemon leaves it orphaned, so end it the same way.
    for (const pid of rsyncPids(root)) process.kill(pid, 'SIGKILL');
    await waitFor('rsync to be gone', () => rsyncPids(root).length === 0);

    assert.equal(await listSnapshots(root), [], 'nothing half-made is listed');
    assert.equal(readdirSync(root), [work], 'only the hidden work folder is there');

    daemons.push(await spawnDaemonProcess(dataDir));
    const again = new ApiClient(daemons[1].url);
    again.cookie = client.cookie;
    const old = (await again.get(`/api/runs/${interrupted}`)).body;
    assert.equal([old.status, /Interrupted/.test(old.error_message)], ['failed', true]);
    assert.is((await again.put(`/api/jobs/${job.id}`, { sync_options: { bandwidth_limit_kbps: null } })).status, 200);
    const next = await finishedRun(again, (await again.post(`/api/jobs/${job.id}/run`)).body.run_id);
    assert.is(next.status, 'completed', next.error_message);
    assert.ok(next.files_transferred < 30, `files copied before the kill are not copied again (${next.files_transferred} copied)`);
    const logs = (await again.get(`/api/runs/${next.id}/logs`)).body.map((entry: any) => entry.message);
    assert.ok(logs.some((line: string) => line.startsWith('Resuming the snapshot')), logs.join('\n'));

    const snapshots = await listSnapshots(root);
    assert.is(snapshots.length, 1);
    assert.is(snapshots[0].run_id, next.id);
    assert.equal(readdirSync(root), [snapshots[0].id], 'no work folder left');
    assert.equal(snapshotTree(path.join(snapshots[0].path, 'documents')), snapshotTree(source));
  } finally {
    for (const daemon of daemons) await daemon.kill('SIGKILL');
    drive.remove();
  }
});

test.run();
