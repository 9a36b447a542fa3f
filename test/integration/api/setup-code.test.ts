/**
 * A new box cannot be claimed by whoever reaches it first: setup from anywhere but the box itself
 * needs the setup code the daemon shows on the box. (The request from another machine, through a
 * real network namespace, is in setup-remote.test.ts; here a reverse proxy on the box is the way in.)
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { setupCodeCommand } from '../../../src/cli/setup-code.ts';
import { ADMIN, ApiClient, isErrorShape, spawnDaemonProcess, startTestDaemon, tempDir, testConfig, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

const codeFileOf = (daemon: TestDaemon) => path.join(daemon.config.dataDir, 'setup-code');
const viaProxy = { 'x-forwarded-for': '203.0.113.7' };

/** POST /api/auth/setup as a reverse proxy on the box forwards it for 203.0.113.7. */
function proxiedSetup(daemon: TestDaemon, body: Record<string, unknown>, headers: Record<string, string> = viaProxy) {
  return daemon.client().request('POST', '/api/auth/setup', body, { headers });
}

/**
 * What `cairn setup-code` prints, and its exit code. The daemon must be another process (as on the
 * box): a daemon in this very process is not "running" for the command's pid check.
 */
async function setupCodeCli(dataDir: string): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (chunk: string | Uint8Array) => ((out += String(chunk)), true);
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  try {
    return { code: await setupCodeCommand(testConfig({ dataDir })), out };
  } finally {
    [process.stdout.write, process.stderr.write] = [stdout, stderr];
  }
}

const setup = suite<{ daemon: TestDaemon }>('setup code');
setup.before.each(async (context) => {
  context.daemon = await startTestDaemon();
});
setup.after.each(async (context) => {
  await context.daemon.stop();
});

setup('setup from the box itself (loopback, no forwarding headers) needs no code', async ({ daemon }) => {
  const client = daemon.client();
  assert.equal((await client.get('/api/auth/setup-required')).body, { setup_required: true, setup_code_required: false });
  const created = await client.post('/api/auth/setup', ADMIN);
  assert.is(created.status, 201);
  assert.not.ok(existsSync(codeFileOf(daemon)), 'the code file is removed once the owner exists');
});

setup('a new box writes a typable code to <data dir>/setup-code (0600) and says in its log where to use it', async ({ daemon }) => {
  const code = readFileSync(codeFileOf(daemon), 'utf8').trim();
  assert.match(code, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
  assert.is(statSync(codeFileOf(daemon)).mode & 0o777, 0o600);
  const logged = daemon.logLines.join('');
  assert.ok(logged.includes(code), 'the code is in the log');
  assert.match(logged, /another computer/);
  assert.match(logged, /cairn setup-code/);
});

setup('through a reverse proxy on the box the request is not local: no code 403, wrong code 403, the code 201', async ({ daemon }) => {
  const asked = await daemon.client().request('GET', '/api/auth/setup-required', undefined, { headers: viaProxy });
  assert.equal(asked.body, { setup_required: true, setup_code_required: true });

  const missing = await proxiedSetup(daemon, ADMIN);
  assert.is(missing.status, 403);
  assert.ok(isErrorShape(missing.body, 'SETUP_CODE_REQUIRED'));
  assert.match(missing.body.message, /sudo cairn setup-code/);
  assert.match(missing.body.message, /journalctl -u cairn/);

  const code = readFileSync(codeFileOf(daemon), 'utf8').trim();
  const wrong = await proxiedSetup(daemon, { ...ADMIN, setup_code: code.startsWith('A') ? 'BBBB-BBBB-BBBB' : 'AAAA-AAAA-AAAA' });
  assert.is(wrong.status, 403);
  assert.ok(isErrorShape(wrong.body, 'SETUP_CODE_INVALID'));
  assert.match(wrong.body.message, /sudo cairn setup-code/);
  assert.is(daemon.store.users.count(), 0, 'nothing was created');

  // Typed back in lower case with spaces, as from a phone.
  const created = await proxiedSetup(daemon, { ...ADMIN, setup_code: code.toLowerCase().replace(/-/g, ' ') });
  assert.is(created.status, 201);
  assert.equal(created.body, { id: 1, username: 'admin' });
  assert.not.ok(existsSync(codeFileOf(daemon)));
});

setup('a setup code of the wrong type or absurd length is a 400 in the error shape and nothing is created', async ({ daemon }) => {
  for (const setup_code of [123456, ['AAAA'], 'A'.repeat(10_000)]) {
    const refused = await proxiedSetup(daemon, { ...ADMIN, setup_code });
    assert.is(refused.status, 400, JSON.stringify(setup_code).slice(0, 40));
    assert.ok(isErrorShape(refused.body), JSON.stringify(refused.body));
  }
  assert.is(daemon.store.users.count(), 0);
});

setup('a Forwarded header (RFC 7239) makes a loopback request non-local too', async ({ daemon }) => {
  const refused = await proxiedSetup(daemon, ADMIN, { forwarded: 'for=127.0.0.1;proto=http' });
  assert.is(refused.status, 403);
  assert.ok(isErrorShape(refused.body, 'SETUP_CODE_REQUIRED'));
});

setup('the code cannot be guessed: wrong codes lock the client out like wrong passwords', async ({ daemon }) => {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await proxiedSetup(daemon, { ...ADMIN, setup_code: `GUES-SSSS-${'ABCDEF'[i]}AAA` })).status);
  assert.equal(statuses, [403, 403, 403, 403, 403, 429]);
  const code = readFileSync(codeFileOf(daemon), 'utf8').trim();
  const locked = await proxiedSetup(daemon, { ...ADMIN, setup_code: code });
  assert.is(locked.status, 429, 'even the right code waits out the lockout');
  assert.is(daemon.store.users.count(), 0);
});

test('cairn setup-code shows the code while there is no owner, then says the box has one', async () => {
  const daemon = await spawnDaemonProcess(path.join(tempDir(), 'data'));
  try {
    const codeFile = path.join(daemon.dataDir, 'setup-code');
    const code = readFileSync(codeFile, 'utf8').trim();
    await waitFor('the code in the daemon\'s output (the journal)', () => daemon.output().includes(code), 10_000);
    const shown = await setupCodeCli(daemon.dataDir);
    assert.is(shown.code, 0);
    assert.ok(shown.out.includes(`Setup code: ${code}`), shown.out);

    const created = await new ApiClient(daemon.url).request('POST', '/api/auth/setup', { ...ADMIN, setup_code: code }, { headers: viaProxy });
    assert.is(created.status, 201);
    assert.not.ok(existsSync(codeFile));
    const after = await setupCodeCli(daemon.dataDir);
    assert.is(after.code, 0);
    assert.match(after.out, /already has an owner/);
    assert.not.ok(after.out.includes(code));
  } finally {
    await daemon.kill();
  }
});

test('a stopped daemon leaves no code behind, and cairn setup-code says to start it; a new start makes a new code', async () => {
  const dataDir = path.join(tempDir(), 'data');
  const first = await spawnDaemonProcess(dataDir);
  const firstCode = readFileSync(path.join(dataDir, 'setup-code'), 'utf8').trim();
  await waitFor('the daemon to finish starting', () => first.output().includes(firstCode), 10_000);
  await first.kill();
  assert.not.ok(existsSync(path.join(dataDir, 'setup-code')));
  const stopped = await setupCodeCli(dataDir);
  assert.is(stopped.code, 1);
  assert.match(stopped.out, /No Cairn daemon is running.*start it/is);

  const second = await spawnDaemonProcess(dataDir);
  try {
    const shown = await setupCodeCli(dataDir);
    assert.is(shown.code, 0);
    const secondCode = readFileSync(path.join(dataDir, 'setup-code'), 'utf8').trim();
    assert.ok(shown.out.includes(secondCode));
    assert.is.not(secondCode, firstCode);
  } finally {
    await second.kill();
  }
});

test('cairn setup-code on a folder with no Cairn data says where the service keeps it', async () => {
  const missing = await setupCodeCli(path.join(tempDir(), 'nothing-here'));
  assert.is(missing.code, 1);
  assert.match(missing.out, /No Cairn data in .*CAIRN_DATA_DIR=\/var\/lib\/cairn cairn setup-code/);
});

setup('a daemon whose box has an owner makes no code and removes a leftover file', async ({ daemon }) => {
  await daemon.client().setupAdmin();
  await daemon.stop();
  writeFileSync(codeFileOf(daemon), 'LEFT-OVER-CODE\n', { mode: 0o600 });
  const restarted = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    assert.not.ok(existsSync(codeFileOf(daemon)));
    assert.not.ok(restarted.logLines.join('').includes('setup code'));
    const refused = await proxiedSetup(restarted, { username: 'mallory', password: 'another password', setup_code: 'LEFT-OVER-CODE' });
    assert.is(refused.status, 403);
    assert.ok(isErrorShape(refused.body, 'SETUP_DONE'));
  } finally {
    await restarted.stop();
  }
});

setup.run();
test.run();
