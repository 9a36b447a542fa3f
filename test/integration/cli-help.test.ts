/**
 * The `cairn` command line, spawned for real: every command answers --help without starting
 * anything, bad arguments are usage errors, and on an installed box (the service's settings file,
 * here in a temp dir standing in for /etc/default/cairn) the CLI finds the service with no variables.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, createJob, runCli, spawnDaemonProcess, tempDir } from '../helpers.ts';

const COMMANDS = [['daemon'], ['run'], ['tui'], ['user', 'reset-password'], ['setup-code'], ['fingerprint'], ['pair'], ['store', 'reset'], ['version']];
/** Generous: a command that answers help takes well under a second; one that starts a daemon never ends. */
const PATIENCE_MS = 20_000;
/** The escape sequence by which blessed switches to the alternate screen: a TUI was opened. */
const OPENS_SCREEN = '\x1b[?1049h';

/** An environment whose data dir does not exist yet, so anything a command creates shows. */
function untouchedEnv() {
  const dataDir = path.join(tempDir(), 'data');
  return { dataDir, env: { CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0', CAIRN_HOST: '127.0.0.1', CAIRN_WATCH_DRIVES: 'false' } };
}

for (const words of COMMANDS) {
  for (const flag of words[0] === 'daemon' || words[0] === 'tui' ? ['--help', '-h'] : ['--help']) {
    test(`cairn ${words.join(' ')} ${flag}: its usage, exit 0, nothing started or created`, async () => {
      const { dataDir, env } = untouchedEnv();
      const result = await runCli([...words, flag], { env, timeoutMs: PATIENCE_MS });
      assert.not.ok(result.timedOut, `still running after ${PATIENCE_MS} ms: it started something\n${result.stdout}${result.stderr}`);
      assert.is(result.code, 0, result.stderr);
      assert.ok(result.stdout.startsWith(`Usage: cairn ${words.join(' ')}`), result.stdout);
      assert.match(result.stdout, /-h, --help/);
      assert.not.ok(result.stdout.includes(OPENS_SCREEN), 'no screen was opened');
      assert.not.ok(existsSync(dataDir), 'no data dir (and so no pid file or socket) was created');
    });
  }
}

test('cairn, cairn --help and cairn help run: the overview and one command help, exit 0', async () => {
  for (const args of [[], ['--help'], ['help']]) {
    const result = await runCli(args, { timeoutMs: PATIENCE_MS });
    assert.is(result.code, 0);
    for (const words of COMMANDS) assert.ok(result.stdout.includes(`  ${words.join(' ')}`), `${args.join(' ')} lists ${words.join(' ')}`);
  }
  const one = await runCli(['help', 'run'], { timeoutMs: PATIENCE_MS });
  assert.is(one.code, 0);
  assert.ok(one.stdout.startsWith('Usage: cairn run <job id or name>'), one.stdout);
});

test('unknown options, missing and extra arguments: exit 2, the usage on stderr, nothing started', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['daemon', '--bogus'], /cairn daemon: unknown option --bogus/],
    [['daemon', 'now'], /cairn daemon: unexpected argument "now"/],
    [['tui', '--bogus'], /cairn tui: unknown option --bogus/],
    [['tui', '--url'], /cairn tui: --url needs a value/],
    [['run'], /cairn run: missing job id or name/],
    [['run', 'Notes', 'extra'], /cairn run: unexpected argument "extra"/],
    [['user', 'reset-password', '--user', 'x'], /unknown option --user/],
    [['store', 'reset', '--force'], /unknown option --force/],
    [['version', 'please'], /unexpected argument/],
    [['user'], /Usage:\n.*user reset-password/],
    [['frobnicate'], /Unknown command: frobnicate/],
  ];
  for (const [args, message] of cases) {
    const { dataDir, env } = untouchedEnv();
    const result = await runCli(args, { env, timeoutMs: PATIENCE_MS });
    assert.not.ok(result.timedOut, `cairn ${args.join(' ')} kept running`);
    assert.is(result.code, 2, `cairn ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /Usage:/);
    assert.is(result.stdout, '', 'usage errors go to stderr');
    assert.not.ok(existsSync(dataDir), `cairn ${args.join(' ')} created nothing`);
  }
});

test('a job named like an option runs after --', async () => {
  const { env } = untouchedEnv();
  const result = await runCli(['run', '--', '--help'], { env, timeoutMs: PATIENCE_MS });
  assert.is(result.code, 1, 'it looked for the daemon (none runs) instead of printing help');
  assert.match(result.stderr, /No Cairn daemon is running/);
});

/** A settings file as scripts/install.sh writes it, in a temp dir standing in for /etc/default. */
function serviceSettings(lines: string[]): string {
  const file = path.join(tempDir('cairn-etc-'), 'cairn');
  writeFileSync(file, `# Cairn's settings\n${lines.join('\n')}\n`);
  return file;
}

test("on an installed box `cairn run JOB` reaches the service through its settings file, with no variables", async () => {
  const dataDir = tempDir();
  const daemon = await spawnDaemonProcess(dataDir);
  try {
    const client = new ApiClient(daemon.url);
    await client.setupAdmin();
    const source = path.join(tempDir(), 'letters');
    mkdirSync(source);
    writeFileSync(path.join(source, 'dear.txt'), 'dear owner');
    const destination_config = { mount_point: tempDir(), backup_subdir: '', auto_mount: false, auto_unmount: false };
    await createJob(client, { name: 'Letters', source_dirs: [source], destination_config });

    const settings = serviceSettings([`CAIRN_DATA_DIR="${dataDir}"`, 'CAIRN_HOST=0.0.0.0']);
    const result = await runCli(['run', 'Letters'], { env: { CAIRN_SERVICE_SETTINGS: settings }, timeoutMs: 60_000 });
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, /dear\.txt/);
    assert.match(result.stdout, /completed/);
  } finally {
    await daemon.kill();
  }
});

test('on an installed box, with the service stopped, run and tui advise systemctl; in a checkout, npm start', async () => {
  const dataDir = tempDir();
  const settings = serviceSettings([`CAIRN_DATA_DIR=${dataDir}`, 'CAIRN_HOST=0.0.0.0', 'CAIRN_PORT=39091']);
  const installed = { CAIRN_SERVICE_SETTINGS: settings };

  const run = await runCli(['run', 'Letters'], { env: installed, timeoutMs: PATIENCE_MS });
  assert.is(run.code, 1);
  assert.match(run.stderr, new RegExp(`No Cairn daemon is running with data dir ${dataDir}\\. Start the service with \`sudo systemctl start cairn\`; \`journalctl -u cairn\``));

  const tui = await runCli(['tui'], { env: installed, timeoutMs: PATIENCE_MS });
  assert.not.ok(tui.timedOut);
  assert.is(tui.code, 1);
  assert.match(tui.stderr, /Cannot reach the Cairn daemon at http:\/\/127\.0\.0\.1:39091 .*sudo systemctl start cairn/);
  assert.not.ok(tui.stdout.includes(OPENS_SCREEN), 'no screen that could not log in');

  const checkout = { CAIRN_SERVICE_SETTINGS: path.join(tempDir(), 'no-such-file'), CAIRN_PORT: '39091' };
  const here = await runCli(['tui'], { env: checkout, timeoutMs: PATIENCE_MS });
  assert.is(here.code, 1);
  assert.match(here.stderr, /npm start/);
  assert.not.match(here.stderr, /systemctl/);
});

test('the environment still wins: CAIRN_DATA_DIR set means the service file is not read', async () => {
  const settings = serviceSettings(['CAIRN_DATA_DIR=/nonexistent/service-data']);
  const mine = path.join(tempDir(), 'mine');
  const result = await runCli(['run', 'Letters'], { env: { CAIRN_SERVICE_SETTINGS: settings, CAIRN_DATA_DIR: mine }, timeoutMs: PATIENCE_MS });
  assert.match(result.stderr, new RegExp(`data dir ${mine}\\. Start it with \`npm start\``));
});

test.run();
