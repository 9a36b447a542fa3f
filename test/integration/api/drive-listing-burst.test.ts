/**
 * Issue 11: a client bug sent thousands of GET /api/system/drives and each started its own `lsblk`.
 * A wrapper named lsblk first on PATH records every start and then runs the real one, so the count
 * is what the daemon really spawned.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listDrives } from '../../../src/devices/index.ts';
import { startTestDaemon, tempDir } from '../../helpers.ts';

const BURST = 200;

/** Puts a recording `lsblk` first on PATH (taking `delaySeconds` before it answers); returns how many times it has run so far. */
function countLsblk(delaySeconds = 0): { starts(): number; restore(): void } {
  const dir = tempDir('cairn-lsblk-');
  const log = path.join(dir, 'starts.log');
  writeFileSync(log, '');
  const wrapper = path.join(dir, 'lsblk');
  writeFileSync(wrapper, `#!/bin/sh\necho "$$" >> '${log}'\nsleep ${delaySeconds}\nexec /usr/bin/lsblk "$@"\n`);
  chmodSync(wrapper, 0o755);
  const original = process.env.PATH;
  process.env.PATH = `${dir}:${original}`;
  return {
    starts: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length,
    restore: () => {
      process.env.PATH = original;
    },
  };
}

test(`${BURST} concurrent GET /api/system/drives share a few lsblk runs, all answer the real list, and health answers meanwhile`, async () => {
  const expected = await listDrives();
  const lsblk = countLsblk();
  // One address, many sockets: the per-client connection cap is not what this test is about.
  const daemon = await startTestDaemon({}, { apiLimits: { connectionsPerClient: BURST * 2 } });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    assert.is(lsblk.starts(), 0);

    const burst = Promise.all(Array.from({ length: BURST }, () => client.get('/api/system/drives')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const healthStarted = Date.now();
    const health = await daemon.client().get('/api/system/health');
    const healthMs = Date.now() - healthStarted;
    const answers = await burst;

    assert.is(health.status, 200);
    assert.ok(healthMs < 2000, `health took ${healthMs} ms during the burst`);
    assert.equal(answers.filter((answer) => answer.status !== 200).map((answer) => answer.body), []);
    for (const answer of answers) assert.equal(answer.body, expected);
    const starts = lsblk.starts();
    // One shared run per 2 s listing age at most; 10 leaves room for a very slow machine.
    assert.ok(starts >= 1 && starts <= 10, `${BURST} requests started lsblk ${starts} times`);
  } finally {
    lsblk.restore();
    await daemon.stop();
  }
});

test('the dashboard, metrics and health read drives from the shared listing: a burst of them starts a few lsblk, not one each', async () => {
  const lsblk = countLsblk();
  const daemon = await startTestDaemon({}, { apiLimits: { connectionsPerClient: BURST * 2 } });
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const paths = ['/api/dashboard', '/metrics', '/api/system/health'];
    const answers = await Promise.all(Array.from({ length: 60 }, (_, index) => client.get(paths[index % paths.length])));
    assert.equal(answers.filter((answer) => answer.status !== 200).map((answer) => answer.body), []);
    const starts = lsblk.starts();
    assert.ok(starts >= 1 && starts <= 10, `60 requests started lsblk ${starts} times`);
  } finally {
    lsblk.restore();
    await daemon.stop();
  }
});

test('health does not hang on a drive listing that hangs (a dying disk can stall lsblk)', async () => {
  const lsblk = countLsblk(8);
  const daemon = await startTestDaemon();
  try {
    const started = Date.now();
    const health = await daemon.client().get('/api/system/health');
    const took = Date.now() - started;
    assert.is(health.status, 200);
    assert.is(health.body.status, 'ok');
    assert.is(lsblk.starts(), 1);
    // It gives the listing a second; the generous margin is for a loaded machine, not a speed target.
    assert.ok(took < 6000, `health took ${took} ms while lsblk hung for 8 s`);
  } finally {
    lsblk.restore();
    await daemon.stop();
  }
});

test('a mount through the API clears the shared listing, so the next one reads again', async () => {
  const lsblk = countLsblk();
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    assert.is((await client.get('/api/system/drives')).status, 200);
    assert.is((await client.get('/api/system/drives')).status, 200);
    assert.is(lsblk.starts(), 1, 'the second listing reused the first');
    // No drive has this UUID, so the mount is refused after reading fresh; it still counts as a change.
    const mountPoint = path.join(daemon.config.allowedPaths[0], 'usb');
    const mount = await client.post('/api/system/mount', { uuid: 'DEAD-BEEF', mount_point: mountPoint });
    assert.is(mount.status, 404);
    assert.is(mount.body.code, 'DRIVE_NOT_FOUND');
    const afterMount = lsblk.starts();
    assert.ok(afterMount >= 2, 'the mount decided on a fresh read, not the shared listing');
    assert.is((await client.get('/api/system/drives')).status, 200);
    assert.is(lsblk.starts(), afterMount + 1);
  } finally {
    lsblk.restore();
    await daemon.stop();
  }
});

test.run();
