/**
 * What logins cost the daemon's memory: each password check is a scrypt that holds 32 MiB while it
 * runs, and Node's thread pool would run four at once, so a few clients logging in together lifted
 * the daemon by 128 MiB — on a Pi, on top of a running backup. The daemon hashes one password at a
 * time, and makes no hash at start.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, spawnDaemonProcess, tempDir } from '../../helpers.ts';
import { peakRssMb } from '../../process-memory.ts';

const SCRYPT_MB = 32;

test('five logins at once (as many as one client may have under way) raise the daemon’s peak memory by less than two scrypts, and all succeed', async () => {
  const daemon = await spawnDaemonProcess(tempDir('cairn-data-'));
  try {
    const api = new ApiClient(daemon.url);
    assert.is((await api.setupAdmin()).status, 201);
    // One check alone first: the peak then holds a scrypt's memory and the code a login runs.
    assert.is((await api.login()).status, 200);
    const before = peakRssMb(daemon.child.pid!);
    const logins = await Promise.all(Array.from({ length: 5 }, () => new ApiClient(daemon.url).login()));
    assert.equal(
      logins.map((login) => login.status),
      Array(5).fill(200),
    );
    const rise = peakRssMb(daemon.child.pid!) - before;
    assert.ok(rise < 1.5 * SCRYPT_MB, `the daemon's peak rose by ${rise.toFixed(0)} MB for five logins at once`);
  } finally {
    await daemon.kill();
  }
});

test.run();
