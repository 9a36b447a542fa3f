/** Another computer on the LAN (a network namespace, test/other-computer.ts) cannot claim a new box. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, isErrorShape, startTestDaemon } from '../../helpers.ts';
import { otherComputerOnTheLan } from '../../other-computer.ts';

const run = promisify(execFile);

test('from another computer: no code 403 with where to find it, a wrong code 403, the code 201; from the box none is needed', async () => {
  const lan = await otherComputerOnTheLan();
  try {
    const daemon = await startTestDaemon({ host: lan.hostAddress });
    try {
      const api = `${daemon.url}/api/auth`;
      assert.equal((await lan.request(`${api}/setup-required`, 'GET')).body, { setup_required: true, setup_code_required: true });

      const missing = await lan.request(`${api}/setup`, 'POST', ADMIN);
      assert.is(missing.status, 403);
      assert.ok(isErrorShape(missing.body, 'SETUP_CODE_REQUIRED'));
      assert.match(missing.body.message, /sudo cairn setup-code/);

      const code = readFileSync(path.join(daemon.config.dataDir, 'setup-code'), 'utf8').trim();
      const wrong = await lan.request(`${api}/setup`, 'POST', { ...ADMIN, setup_code: code === 'AAAA-AAAA-AAAA' ? 'BBBB-BBBB-BBBB' : 'AAAA-AAAA-AAAA' });
      assert.is(wrong.status, 403);
      assert.ok(isErrorShape(wrong.body, 'SETUP_CODE_INVALID'));
      assert.is(daemon.store.users.count(), 0, 'no owner was made');

      const created = await lan.request(`${api}/setup`, 'POST', { ...ADMIN, setup_code: code });
      assert.is(created.status, 201);
      assert.equal(created.body, { id: 1, username: 'admin' });
    } finally {
      await daemon.stop();
    }
  } finally {
    await lan.remove();
  }
  const { stdout } = await run('ip', ['-o', 'link', 'show']);
  assert.not.ok(stdout.includes(`cl${process.pid % 16_384}h`), 'the link is gone');
  assert.not.ok((await run('ip', ['netns', 'list'])).stdout.includes(`cairn-lan-${process.pid}`), 'the namespace is gone');
});

test('on the box itself, a daemon listening on every address takes a loopback setup without a code', async () => {
  const daemon = await startTestDaemon({ host: '0.0.0.0' });
  try {
    const port = new URL(daemon.url).port;
    const local = await fetch(`http://127.0.0.1:${port}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    assert.is(local.status, 201);
  } finally {
    await daemon.stop();
  }
});

test.run();
