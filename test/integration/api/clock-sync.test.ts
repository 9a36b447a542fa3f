/**
 * On a box that waits for network time (CAIRN_WAIT_FOR_CLOCK_SYNC, the appliance): while the clock
 * is not synchronised a due schedule does not run, health says why, and the log says so; once the
 * clock is synchronised the schedules run from then. The system's answer is replaced by a switch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, createSchedule, startTestDaemon, tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gatedDaemon(waitForClockSync: boolean) {
  let offset = 0;
  let synchronised = false;
  let probes = 0;
  const daemon = await startTestDaemon(
    { waitForClockSync },
    {
      scheduleClock: () => new Date(Date.now() + offset),
      clockSync: { probe: async () => (probes++, synchronised), probeEveryMs: 50 },
    },
  );
  const client = daemon.client();
  await client.setupAdmin();
  await client.put('/api/settings', { timezone: 'UTC' });
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const job = await createJob(client, { name: 'Nightly', source_dirs: [source], destination_config: { mount_point: tempDir(), backup_subdir: '' } });
  return {
    daemon,
    client,
    job,
    probes: () => probes,
    setClock: (iso: string) => (offset = new Date(iso).getTime() - Date.now()),
    synchronise: () => (synchronised = true),
  };
}

test('while the clock is not synchronised a due schedule waits, health and the log say why; then it runs', async () => {
  const box = await gatedDaemon(true);
  try {
    const health = await box.client.get('/api/system/health');
    assert.is(health.status, 200);
    assert.is(health.body.status, 'degraded');
    assert.equal(health.body.reasons.map((reason: any) => reason.code), ['CLOCK_NOT_SYNCHRONIZED']);
    assert.match(health.body.reasons[0].message, /not synchronised/);
    assert.ok(box.daemon.logLines.some((line: string) => /wait until the system clock is synchronised/.test(line)), box.daemon.logLines.join('\n'));

    box.setClock('2026-01-05T01:59:59.300Z');
    await createSchedule(box.client, box.job.id);
    await sleep(1500);
    assert.equal((await box.client.get(`/api/jobs/${box.job.id}/runs`)).body, [], 'no run while the clock is not trusted');

    // Synchronised shortly before the next due time: it runs at that time, planned from the moment of
    // trust. Four seconds ahead, not one: the test once timed out in a loaded CI run, most likely
    // because trust came after 02:00 and the plan from that moment rightly went to the next day.
    box.setClock('2026-01-06T01:59:56.000Z');
    box.synchronise();
    const run = await waitFor('the scheduled run', async () => (await box.client.get(`/api/jobs/${box.job.id}/runs`)).body[0], 10_000);
    assert.is(run.trigger, 'scheduled');
    assert.equal((await box.client.get('/api/system/health')).body.reasons, []);
    assert.ok(box.daemon.logLines.some((line: string) => /clock is synchronised: scheduled runs go ahead/.test(line)));
  } finally {
    await box.daemon.stop();
  }
});

test('off the appliance (the setting off) nothing is asked and schedules never wait', async () => {
  const box = await gatedDaemon(false);
  try {
    assert.equal((await box.client.get('/api/system/health')).body.reasons, []);
    box.setClock('2026-01-05T01:59:59.300Z');
    await createSchedule(box.client, box.job.id);
    const run = await waitFor('the scheduled run', async () => (await box.client.get(`/api/jobs/${box.job.id}/runs`)).body[0], 10_000);
    assert.is(run.trigger, 'scheduled');
    assert.is(box.probes(), 0, 'the clock is not asked');
  } finally {
    await box.daemon.stop();
  }
});

test.run();
