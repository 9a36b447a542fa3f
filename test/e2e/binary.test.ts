/**
 * The single x64 binary, built fresh (scripts/build-binary.mjs), run from a folder with no
 * node_modules: the daemon starts, a backup runs and its bytes arrive, and the TUI draws its
 * dashboard in tmux. Cold start and idle memory are printed for the record, not asserted.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, createJob, finishedRun, REPO_ROOT, tempDir } from '../helpers.ts';
import { startS3Server, startSftpServer } from '../servers.ts';
import { memoryNow } from '../process-memory.ts';
import { fileContent, snapshotTree, waitFor } from '../trees.ts';
import { restic } from '../integration/repository/restic.ts';
import { startSmtpRecorder } from '../integration/notifications/receivers.ts';

interface Context {
  binary: string;
  /** The folder the daemon may back up from. */
  allowed: string;
  daemon: ChildProcess | null;
  url: string;
  session: string | null;
}

/**
 * x64 by default. CAIRN_BINARY_ARCH=arm64 (scripts/smoke-arm64.sh) runs the same tests on the arm64
 * binary under qemu-aarch64-static, with Debian's arm64 cross libraries as its root.
 */
const ARCH = process.env.CAIRN_BINARY_ARCH === 'arm64' ? 'arm64' : 'x64';
const LAUNCHER = ARCH === 'arm64' ? ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'] : [];
/** The command line that runs `file` (through qemu for arm64). */
const commandFor = (file: string, args: string[]): [string, string[]] => (LAUNCHER.length > 0 ? [LAUNCHER[0], [...LAUNCHER.slice(1), file, ...args]] : [file, args]);

/** Emulated arm64 is many times slower. */
const PATIENCE_MS = ARCH === 'arm64' ? 300_000 : 30_000;

const binary = suite<Context>(`binary ${ARCH}`);

binary.before(async (context) => {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-binary.mjs'), '--arch', ARCH], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  // Away from the repository: nothing to resolve modules from.
  const folder = tempDir('cairn-binary-');
  context.binary = path.join(folder, 'cairn');
  copyFileSync(path.join(REPO_ROOT, 'dist', `cairn-linux-${ARCH}`), context.binary);
  execFileSync('chmod', ['755', context.binary]);
  context.daemon = null;
  context.session = null;
});

binary.after((context) => {
  if (context.session) spawnSync('tmux', ['kill-session', '-t', context.session], { stdio: 'ignore' });
  context.daemon?.kill('SIGTERM');
});

binary('it prints its version, runs the daemon, backs up a folder, and draws the TUI', async (context) => {
  const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
  const cwd = path.dirname(context.binary);
  assert.is(execFileSync(...commandFor(context.binary, ['version']), { cwd, encoding: 'utf8' }).trim(), version);

  const allowed = tempDir();
  context.allowed = allowed;
  const started = Date.now();
  const daemon = spawn(...commandFor(context.binary, ['daemon']), {
    cwd,
    env: { PATH: process.env.PATH, CAIRN_DATA_DIR: path.join(cwd, 'data'), CAIRN_PORT: '0', CAIRN_HOST: '127.0.0.1', CAIRN_ALLOWED_PATHS: allowed },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  context.daemon = daemon;
  let output = '';
  daemon.stdout!.on('data', (chunk) => (output += chunk));
  daemon.stderr!.on('data', (chunk) => (output += chunk));
  context.url = await waitFor('the daemon to listen', () => output.match(/listening on (http:\/\/\S+)/)?.[1], PATIENCE_MS);
  const api = new ApiClient(context.url);
  await waitFor('health', async () => (await api.get('/api/system/health')).body.status === 'ok', PATIENCE_MS);
  const coldStartMs = Date.now() - started;

  await api.setupAdmin();
  const source = path.join(allowed, 'documents');
  mkdirSync(path.join(source, 'sub'), { recursive: true });
  writeFileSync(path.join(source, 'letter.txt'), 'dear owner');
  writeFileSync(path.join(source, 'sub', 'scan.pdf'), fileContent('scan', 200_000));
  // The backup folder lies inside the daemon's allowed paths, as every local destination must.
  const target = path.join(allowed, 'usb');
  mkdirSync(target);
  const job = await createJob(api, { name: 'Documents', source_dirs: [source], destination_config: { mount_point: target, backup_subdir: '' } });
  const runId = (await api.post(`/api/jobs/${job.id}/run`)).body.run_id;
  const run = await waitFor('the run', async () => {
    const current = (await api.get(`/api/runs/${runId}`)).body;
    return ['completed', 'failed', 'cancelled'].includes(current.status) ? current : null;
  }, PATIENCE_MS);
  assert.is(run.status, 'completed', run.error_message);
  assert.equal(snapshotTree(path.join(target, 'documents')), snapshotTree(source), 'the bytes arrived');

  await new Promise((resolve) => setTimeout(resolve, 2000));
  // Under qemu the process is the emulator, whose memory says nothing about the binary's.
  const memory = LAUNCHER.length === 0 ? memoryNow(daemon.pid!) : null;
  const memoryText = memory ? `RSS ${memory.rssMb.toFixed(0)} MB (${memory.anonymousMb.toFixed(0)} MB its own, ${memory.fileMb.toFixed(0)} MB file pages)` : 'memory not measurable under qemu';
  console.log(`    binary: cold start to healthy ${coldStartMs} ms; after a run, idle: ${memoryText}; bench/binary-memory.ts measures it properly`);

  context.session = `cairn-binary-${process.pid}`;
  execFileSync('tmux', ['new-session', '-d', '-s', context.session, '-x', '100', '-y', '30', commandFor(context.binary, ['tui', '--url', context.url]).flat().join(' ')]);
  const screen = () => execFileSync('tmux', ['capture-pane', '-t', context.session!, '-p'], { encoding: 'utf8' });
  const type = (text: string) => {
    execFileSync('tmux', ['send-keys', '-t', context.session!, '-l', text]);
    execFileSync('tmux', ['send-keys', '-t', context.session!, 'Enter']);
  };
  await waitFor('the login', () => screen().includes('Username:'), PATIENCE_MS);
  type('admin');
  await waitFor('the password field', () => screen().includes('Password:'), PATIENCE_MS);
  type('correct horse battery');
  await waitFor('the dashboard with the job', () => /Documents .*completed/.test(screen()), PATIENCE_MS).catch((error) => {
    throw new Error(`${error.message}; the screen was:\n${screen()}`);
  });
});

binary('what it loads on first use works inside it: a backup to S3 and one over SFTP, bytes on both servers', async (context) => {
  const api = new ApiClient(context.url);
  assert.is((await api.login()).status, 200);
  const source = path.join(context.allowed, 'papers');
  mkdirSync(source);
  writeFileSync(path.join(source, 'deed.txt'), 'the house is ours');
  writeFileSync(path.join(source, 'scan.bin'), fileContent('deed scan', 300_000));
  const expected = snapshotTree(source);
  const [s3, sftp] = await Promise.all([startS3Server(), startSftpServer()]);
  try {
    const backUp = async (provider_type: string, secret: Record<string, string>, destination_config: Record<string, unknown>) => {
      const credential = await api.post('/api/credentials', { name: provider_type, provider_type, data: secret });
      assert.is(credential.status, 201, JSON.stringify(credential.body));
      const job = await createJob(api, { name: `Papers to ${provider_type}`, source_dirs: [source], destination_type: provider_type, destination_config, credential_id: credential.body.id });
      const run = await finishedRun(api, (await api.post(`/api/jobs/${job.id}/run`)).body.run_id, PATIENCE_MS);
      assert.is(run.status, 'completed', run.error_message);
    };

    await backUp('s3', { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey }, { bucket: s3.bucket, prefix: 'box/', region: s3.region, endpoint: s3.endpoint, storage_class: null });
    for (const name of ['deed.txt', 'scan.bin']) {
      assert.ok(readFileSync(s3.objectFile(`box/papers/${name}`)).equals(readFileSync(path.join(source, name))), `${name} in the bucket`);
    }
    await backUp('sftp', { password: sftp.password }, { host: sftp.host, port: sftp.port, username: sftp.username, remote_path: path.join(sftp.root, 'box'), key_based_auth: false });
    assert.equal(snapshotTree(path.join(sftp.root, 'box', 'papers')), expected, 'the files on the SFTP server');
  } finally {
    await Promise.all([s3.stop(), sftp.stop()]);
  }
});

binary('loaded on first use, not at start: an email reaches a real SMTP server, and the OpenAPI document is served', async (context) => {
  const api = new ApiClient(context.url);
  assert.is((await api.login()).status, 200);
  const smtp = await startSmtpRecorder();
  try {
    const channel = await api.post('/api/notifications/channels', {
      name: 'Mail',
      kind: 'email',
      config: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'cairn@box.example', to: ['owner@example.com'] },
    });
    assert.is(channel.status, 201, JSON.stringify(channel.body));
    const tested = await api.post(`/api/notifications/channels/${channel.body.id}/test`);
    assert.is(tested.body.ok, true, JSON.stringify(tested.body));
    assert.is(smtp.messages.length, 1);
    assert.equal(smtp.messages[0].to, ['owner@example.com']);
  } finally {
    await smtp.close();
  }
  const first = await api.get('/api/openapi.json');
  assert.is(first.status, 200);
  assert.ok(first.body.paths['/api/jobs'], 'the jobs routes are described');
  assert.equal((await api.get('/api/openapi.json')).body, first.body, 'built again, the same document');
});

binary('a repository job backs up and restores inside it (its worker is in the binary), and restic checks the repository clean', async (context) => {
  const api = new ApiClient(context.url);
  assert.is((await api.login()).status, 200);
  const source = path.join(context.allowed, 'letters');
  mkdirSync(path.join(source, 'Фото'), { recursive: true });
  writeFileSync(path.join(source, 'note.txt'), 'the key is under the mat');
  writeFileSync(path.join(source, 'Фото', 'scan.bin'), fileContent('letter scan', 400_000));
  const expected = snapshotTree(source);
  const target = path.join(context.allowed, 'vault');
  mkdirSync(target);
  const job = await createJob(api, { name: 'Letters', source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
  const run = await finishedRun(api, (await api.post(`/api/jobs/${job.id}/run`)).body.run_id, PATIENCE_MS);
  assert.is(run.status, 'completed', run.error_message);

  const repo = path.join(target, 'repo');
  const check = await restic(repo, job.repository_password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  // The binary's Node has zstd: the repository is format version 2, compressed, as restic makes them.
  assert.match((await restic(repo, job.repository_password, ['cat', 'config'])).stdout, /"version": 2/);

  // History reads go to the kept worker: the first starts it, the next reuse it and its opened repository.
  const timings: number[] = [];
  let listed: any = null;
  for (let read = 0; read < 3; read++) {
    const begin = performance.now();
    listed = await api.get(`/api/jobs/${job.id}/snapshots`);
    timings.push(performance.now() - begin);
    assert.is(listed.status, 200, JSON.stringify(listed.body));
  }
  console.log(`    binary: GET /jobs/:id/snapshots of a repository job: ${timings.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
  assert.is(listed.body.snapshots.length, 1);
  assert.is(listed.body.snapshots[0].files, 2);
  const top = await api.get(`/api/jobs/${job.id}/snapshots/${listed.body.snapshots[0].id}/tree`);
  assert.is(top.status, 200, JSON.stringify(top.body));
  assert.equal(top.body.entries.map((entry: { name: string }) => entry.name), ['letters']);

  const out = path.join(context.allowed, 'restored');
  const restore = await api.post(`/api/jobs/${job.id}/restore`, { target_dir: out, snapshot_id: listed.body.snapshots[0].id });
  assert.is(restore.status, 202, JSON.stringify(restore.body));
  const restored = await finishedRun(api, restore.body.run_id, PATIENCE_MS);
  assert.is(restored.status, 'completed', restored.error_message);
  assert.equal(snapshotTree(path.join(out, 'letters')), expected, 'the restore, byte for byte');
});

binary('scripts/install.sh puts it in a system image as an enabled service, and --uninstall keeps the data unless --purge', async (context) => {
  const root = tempDir('cairn-root-');
  const install = (...args: string[]) =>
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'install.sh'), '--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const said = install('--binary', context.binary);
  assert.match(said, /installed: .*\/usr\/local\/bin\/cairn, service cairn\.service \(enabled\)/);
  const installed = path.join(root, 'usr/local/bin/cairn');
  assert.ok(readFileSync(installed).equals(readFileSync(context.binary)), 'the binary, byte for byte');
  assert.is(statSync(installed).mode & 0o777, 0o755);
  assert.is(execFileSync(...commandFor(installed, ['version']), { encoding: 'utf8' }).trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  assert.is(readFileSync(path.join(root, 'etc/systemd/system/cairn.service'), 'utf8'), readFileSync(path.join(REPO_ROOT, 'systemd/cairn.service'), 'utf8'));
  assert.is(readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/cairn.service')), '/etc/systemd/system/cairn.service');
  assert.is(statSync(path.join(root, 'var/lib/cairn')).mode & 0o777, 0o700);
  const settings = path.join(root, 'etc/default/cairn');
  assert.match(readFileSync(settings, 'utf8'), /^CAIRN_WATCH_DRIVES=true$/m);

  // The owner's settings survive a reinstall (an upgrade); the service's data dir and host are added if missing.
  writeFileSync(settings, 'CAIRN_PORT=9090\n');
  install('--binary', context.binary);
  assert.is(readFileSync(settings, 'utf8'), 'CAIRN_PORT=9090\nCAIRN_DATA_DIR=/var/lib/cairn\nCAIRN_HOST=0.0.0.0\n');

  writeFileSync(path.join(root, 'var/lib/cairn/cairn-db.json'), '{}');
  install('--uninstall');
  assert.not.ok(existsSync(installed));
  assert.not.ok(existsSync(path.join(root, 'etc/systemd/system/cairn.service')));
  assert.not.ok(existsSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/cairn.service')));
  assert.ok(existsSync(path.join(root, 'var/lib/cairn/cairn-db.json')), 'the data stays');
  assert.ok(existsSync(settings), 'the settings stay');
  install('--uninstall', '--purge');
  assert.not.ok(existsSync(path.join(root, 'var/lib/cairn')));
  assert.not.ok(existsSync(settings));
});

binary('it reads the code cache its blob carries: V8 rejects one written under other flags (issue 17)', async (context) => {
  // V8 says what it did with each code cache when --profile-deserialization is on; the binary takes
  // no V8 flag on its command line, but a preload may set it before the bundle is compiled.
  const preload = path.join(tempDir(), 'profile-deserialization.cjs');
  writeFileSync(preload, "require('v8').setFlagsFromString('--profile-deserialization');\n");
  const run = spawnSync(...commandFor(context.binary, ['version']), { env: { PATH: process.env.PATH, NODE_OPTIONS: `--require ${preload}` }, encoding: 'utf8' });
  const said = `${run.stdout}${run.stderr}`;
  assert.is(run.status, 0, said);
  // The bundle's cache is hundreds of kB; Node's own built-ins' are tens (and are rejected under the
  // binary's --heap-growing-percent, see docs/ARCHITECTURE.md).
  const read = [...said.matchAll(/Deserializing from (\d+) bytes/g)].map((match) => Number(match[1]));
  assert.ok(Math.max(0, ...read) >= 256 * 1024, `the bundle's code cache was not read:\n${said.slice(0, 2000)}`);
});

binary.run();
