/** A daemon killed mid-run never leaves a run `running`: the next start marks it failed. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, createJob, runCli, spawnDaemonProcess, tempDir } from '../helpers.ts';
import { fileContent, waitFor } from '../trees.ts';
import { startHttpReceiver, type HttpReceiver } from './notifications/receivers.ts';

async function jobWithSlowTree(client: ApiClient): Promise<{ jobId: number; target: string }> {
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  for (let i = 0; i < 30; i++) writeFileSync(path.join(source, `chunk-${i}.bin`), fileContent(`c${i}`, 256 * 1024));
  const target = tempDir();
  const job = await createJob(client, {
    name: 'Slow',
    source_dirs: [source],
    destination_config: { mount_point: target, backup_subdir: '', auto_mount: false, auto_unmount: false },
    sync_options: { bandwidth_limit_kbps: 500 },
  });
  return { jobId: job.id, target };
}

/** A daemon process with the admin set up and a slow run in progress. */
async function daemonMidRun() {
  const dataDir = tempDir();
  const daemon = await spawnDaemonProcess(dataDir);
  const client = new ApiClient(daemon.url);
  await client.setupAdmin();
  const { jobId } = await jobWithSlowTree(client);
  const runId: number = (await client.post(`/api/jobs/${jobId}/run`)).body.run_id;
  await waitFor('the run to transfer', async () => (await client.get(`/api/runs/${runId}`)).body.status === 'running');
  return { dataDir, daemon, client, jobId, runId };
}

test('kill -9 of the daemon mid-run, then a restart: the run is failed as interrupted', async () => {
  const { dataDir, daemon: first, client, jobId, runId } = await daemonMidRun();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await first.kill('SIGKILL');

  const daemon = await spawnDaemonProcess(dataDir);
  try {
    const again = new ApiClient(daemon.url);
    again.cookie = client.cookie;
    const run = (await again.get(`/api/runs/${runId}`)).body;
    assert.is(run.status, 'failed');
    assert.match(run.error_message, /Interrupted/);
    assert.ok(run.completed_at);
    const logs = (await again.get(`/api/runs/${runId}/logs?level=error`)).body;
    assert.ok(logs.some((entry: any) => /Interrupted/.test(entry.message)), 'the log says so too');
    assert.is((await again.post(`/api/jobs/${jobId}/run`)).status, 200, 'the job can run again');
  } finally {
    await daemon.kill();
  }
});

test('stopping the daemon (SIGTERM) mid-run ends the run as failed, never running', async () => {
  const { dataDir, daemon: first, client, runId } = await daemonMidRun();
  await first.kill('SIGTERM');
  const daemon = await spawnDaemonProcess(dataDir);
  try {
    const again = new ApiClient(daemon.url);
    again.cookie = client.cookie;
    const run = (await again.get(`/api/runs/${runId}`)).body;
    assert.is(run.status, 'failed');
    assert.match(run.error_message, /daemon stopped/);
  } finally {
    await daemon.kill();
  }
});

/** A webhook channel at a real HTTP receiver, named by the default rules (failures alert). */
async function alertsTo(client: ApiClient): Promise<HttpReceiver> {
  const receiver = await startHttpReceiver(() => ({ status: 200, body: { received: true } }));
  const channel = await client.post('/api/notifications/channels', { name: 'Hook', kind: 'webhook', config: { url: `${receiver.url}/alerts` } });
  assert.is(channel.status, 201);
  assert.is((await client.put('/api/settings', { notify: { channel_ids: [channel.body.id] } })).status, 200);
  return receiver;
}

const failureAlerts = (receiver: HttpReceiver) => receiver.requests.filter((request) => request.json?.event === 'failure');

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`a run interrupted by a daemon stop (${signal}) raises the failure alert once, naming the job and the interruption`, async () => {
    const { dataDir, daemon: first, client, runId } = await daemonMidRun();
    const receiver = await alertsTo(client);
    let daemon = first;
    try {
      await first.kill(signal);
      daemon = await spawnDaemonProcess(dataDir);
      const again = new ApiClient(daemon.url);
      again.cookie = client.cookie;
      assert.is((await again.get(`/api/runs/${runId}`)).body.status, 'failed');
      await waitFor('the failure alert', () => failureAlerts(receiver).length > 0, 15_000);
      const [alert] = failureAlerts(receiver);
      assert.is(alert.json.job_name, 'Slow');
      assert.match(alert.json.error, /Interrupted: the daemon stopped/);
      assert.ok(alert.json.time);

      // Another restart finds nothing running: no second alert for the same interruption.
      await daemon.kill();
      daemon = await spawnDaemonProcess(dataDir);
      const third = new ApiClient(daemon.url);
      third.cookie = client.cookie;
      assert.is((await third.get('/api/notifications/history')).body.items.filter((item: any) => item.event === 'failure').length, 1, 'one recorded');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.is(failureAlerts(receiver).length, 1, 'one received');
    } finally {
      await daemon.kill();
      await receiver.close();
    }
  });
}

test('cairn run JOB follows the log and exits 0 on completion, non-zero on failure', async () => {
  const dataDir = tempDir();
  const daemon = await spawnDaemonProcess(dataDir);
  try {
    const client = new ApiClient(daemon.url);
    await client.setupAdmin();
    const source = path.join(tempDir(), 'notes');
    mkdirSync(source);
    writeFileSync(path.join(source, 'hello.txt'), 'hello');
    const target = tempDir();
    const destination_config = { mount_point: target, backup_subdir: '', auto_mount: false, auto_unmount: false };
    await createJob(client, { name: 'Notes', source_dirs: [source], destination_config });
    await createJob(client, { name: 'Broken', source_dirs: [path.join(source, 'nope')], destination_config });

    const env = { CAIRN_DATA_DIR: dataDir };
    const ok = await runCli(['run', 'Notes'], { env });
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /hello\.txt/);
    assert.match(ok.stdout, /completed/);

    const failed = await runCli(['run', '2'], { env });
    assert.is(failed.code, 1);
    assert.match(failed.stdout + failed.stderr, /does not exist/);

    const unknown = await runCli(['run', 'Nope'], { env });
    assert.is(unknown.code, 2);
    assert.match(unknown.stderr, /No job "Nope"/);
  } finally {
    await daemon.kill();
  }
  const noDaemon = await runCli(['run', 'Notes'], { env: { CAIRN_DATA_DIR: dataDir } });
  assert.is(noDaemon.code, 1);
  assert.match(noDaemon.stderr, /No Cairn daemon is running/);
});

test.run();
