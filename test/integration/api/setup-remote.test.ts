/**
 * Another computer on the LAN cannot claim a new box. The other computer is a network namespace
 * joined to this one by a veth pair on a private /30 (only this machine's own namespaces: nothing
 * else on the network is touched), so its requests arrive from a real non-loopback address.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, isErrorShape, startTestDaemon } from '../../helpers.ts';

const run = promisify(execFile);

interface Lan {
  hostAddress: string;
  /** Runs `fetch` from the other computer; resolves to the status and parsed body. */
  request(url: string, method: string, body?: unknown): Promise<{ status: number; body: any }>;
  remove(): Promise<void>;
}

/** A namespace "other computer" and a veth link to it; names and the /30 come from this process's pid. */
async function otherComputerOnTheLan(): Promise<Lan> {
  const n = process.pid % 16_384;
  const base = `10.231.${n >> 6}.${(n & 63) * 4}`.split('.').map(Number);
  const [hostAddress, otherAddress] = [1, 2].map((last) => [...base.slice(0, 3), base[3] + last].join('.'));
  const namespace = `cairn-lan-${process.pid}`;
  const [hostEnd, otherEnd] = [`cl${n}h`, `cl${n}o`];
  const remove = async () => {
    // Deleting one end of a veth pair deletes both; the namespace goes after.
    await run('ip', ['link', 'del', hostEnd]).catch(() => {});
    await run('ip', ['netns', 'del', namespace]).catch(() => {});
  };
  try {
    await run('ip', ['netns', 'add', namespace]);
    await run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', otherEnd]);
    await run('ip', ['link', 'set', otherEnd, 'netns', namespace]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostEnd]);
    await run('ip', ['link', 'set', hostEnd, 'up']);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'addr', 'add', `${otherAddress}/30`, 'dev', otherEnd]);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', otherEnd, 'up']);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }
  const script = `
    const [url, method, body] = process.argv.slice(1);
    const response = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body || undefined });
    console.log(JSON.stringify({ status: response.status, body: await response.json() }));`;
  return {
    hostAddress,
    async request(url, method, body) {
      const args = ['netns', 'exec', namespace, process.execPath, '--input-type=module', '-e', script, url, method, body === undefined ? '' : JSON.stringify(body)];
      const { stdout } = await run('ip', args);
      return JSON.parse(stdout);
    },
    remove,
  };
}

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
