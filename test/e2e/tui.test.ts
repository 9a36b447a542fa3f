/**
 * The real terminal UI in tmux against a real daemon: what an owner sees and types over SSH.
 * Keys are pressed by action name from tui/keys.ts.
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { currentTotpCode } from '../../src/auth/index.ts';
import { plugInDrive, startUdev } from '../drives.ts';
import { startSftpServer } from '../servers.ts';
import { ApiClient, createJob, spawnDaemonProcess, tempDir, type DaemonProcess } from '../helpers.ts';
import { act, fillField, killSession, launchTui, logIn, newSessionName, press, screenOf, shows, tmux, type } from '../tmux-tui.ts';
import { fileContent, waitFor } from '../trees.ts';

interface Context {
  daemon: DaemonProcess;
  api: ApiClient;
  session: string;
}

const tui = suite<Context>('tui');

/** The job form's fields in the order they are filled (the two after Credential are the local folder's, from GET /providers; History and Keep before Schedule). */
const FORM_LABELS = ['Name', 'Sources', 'Destination', 'Credential', 'Backup subdir', 'USB UUID', 'Excludes', 'Mirror (y/n)', 'Limit KiB/s', 'Dry run (y/n)', 'Log detail', 'History', 'Keep', 'Schedule'];

const startTui = (context: Context, size?: { width: number; height: number }, env?: Record<string, string>) => launchTui(context.session, context.daemon.url, size, env);

tui.before.each(async (context) => {
  context.daemon = await spawnDaemonProcess(tempDir());
  context.api = new ApiClient(context.daemon.url);
  await context.api.setupAdmin();
  context.session = newSessionName();
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'notes-for-the-tui.txt'), 'hello');
  await createJob(context.api, { name: 'Documents', source_dirs: [source], destination_config: { mount_point: tempDir(), backup_subdir: 'backup' } });
});

tui.after.each(async (context) => {
  killSession(context);
  await context.daemon.kill();
});

tui('log in, see the jobs, run one, watch it complete, read its log, quit', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  assert.match(screenOf(context), /never run/);
  assert.match(screenOf(context), /r run {2}c cancel {2}⏎ log/, 'key hints in the footer');

  act(context, 'run');
  await shows(context, /Documents.*completed/);
  await shows(context, /#1 completed manual/);

  act(context, 'open-log');
  await shows(context, 'documents/notes-for-the-tui.txt');
  assert.match(screenOf(context), /Completed: 1 file/);
  act(context, 'back');
  await shows(context, 'Jobs');

  act(context, 'quit');
  await waitFor('the TUI to exit', () => {
    try {
      tmux('has-session', '-t', context.session);
      return false;
    } catch {
      return true;
    }
  });
});

tui('on a new box the TUI creates the owner account, then shows the dashboard', async (context) => {
  await context.daemon.kill();
  context.daemon = await spawnDaemonProcess(tempDir());
  startTui(context);
  await shows(context, 'Create the owner account');
  for (const [label, value] of [['Username:', 'owner'], ['Password:', 'a long passphrase'], ['Again:', 'a different one']]) {
    await shows(context, label);
    type(context, value);
    press(context, 'Enter');
  }
  await shows(context, 'The two passwords differ');
  for (const [label, value] of [['Username:', 'owner'], ['Password:', 'a long passphrase'], ['Again:', 'a long passphrase']]) {
    await shows(context, label);
    type(context, value);
    press(context, 'Enter');
  }
  await shows(context, 'Jobs');
  const api = new ApiClient(context.daemon.url);
  assert.is((await api.login({ username: 'owner', password: 'a long passphrase' })).status, 200);
});

tui('a wrong password is shown and the login asks again', async (context) => {
  startTui(context);
  await logIn(context, { username: 'admin', password: 'not it' });
  await shows(context, 'Invalid username or password');
  await logIn(context);
  await shows(context, 'Documents');
});

tui('with 2FA on, the login asks for the code', async (context) => {
  const { secret } = await context.api.enableTotp();
  startTui(context);
  await logIn(context);
  await shows(context, '2FA code:');
  type(context, currentTotpCode(secret));
  press(context, 'Enter');
  await shows(context, 'Documents');
});

tui('a long job can be cancelled from the dashboard', async (context) => {
  const source = path.join(tempDir(), 'videos');
  mkdirSync(source);
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, `clip-${i}.bin`), fileContent(`c${i}`, 256 * 1024));
  const slow = await createJob(context.api, { name: 'Videos', source_dirs: [source], sync_options: { bandwidth_limit_kbps: 500 } });
  startTui(context);
  await logIn(context);
  await shows(context, 'Videos');
  press(context, 'Down');
  act(context, 'run');
  await shows(context, /Videos.*running/);
  act(context, 'cancel');
  await shows(context, /Videos.*cancelled/);
  assert.is((await context.api.get(`/api/jobs/${slow.id}/runs`)).body[0].status, 'cancelled');
});

tui('clone, disable and delete (with confirmation) from the dashboard', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'clone');
  await shows(context, /Documents \(Copy\)\s+\S+ in backup\s+disabled/);
  act(context, 'toggle');
  await shows(context, /Documents\s+\S+ in backup\s+disabled/);
  press(context, 'Down');
  act(context, 'delete');
  await shows(context, /Delete "Documents \(Copy\)"/);
  type(context, 'y');
  await waitFor('the copy to be gone', async () => (await context.api.get('/api/jobs')).body.length === 1);
  await shows(context, 'deleted Documents (Copy)');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await context.api.get('/api/jobs')).body.map((job: any) => [job.name, job.enabled]), [['Documents', false]], 'the "y" answer did nothing else');
});

tui('a new job through the form: the API’s validation message stands next to the field, then it saves', async (context) => {
  const source = path.join(tempDir(), 'music');
  mkdirSync(source);
  const target = tempDir();
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'new');
  await shows(context, 'New job');
  const labels = FORM_LABELS;
  const first = ['Music', 'relative/music', target, '', 'cairn', '', '*.tmp', '', '2048', '', '', '', '', 'daily 25:00'];
  for (const [i, label] of labels.entries()) await fillField(context, label, first[i]);
  await shows(context, /Sources: .*absolute path/);
  await fillField(context, 'Sources', source, 'relative/music'.length);
  // The fields after the one that was wrong keep what was typed: Enter through them.
  for (const label of labels.slice(2)) await fillField(context, label, '');
  await shows(context, /Schedule: .*hour/);
  await fillField(context, 'Schedule', 'daily 02:00', 'daily 25:00'.length);
  await shows(context, 'saved Music');
  await shows(context, /Music\s+\S+ in cairn\s+never run/);
  const saved = (await context.api.get('/api/jobs')).body.find((job: any) => job.name === 'Music');
  assert.equal(saved.source_dirs, [source]);
  assert.equal(saved.sync_options.exclude_patterns, ['*.tmp']);
  assert.is(saved.sync_options.bandwidth_limit_kbps, 2048);
  assert.is(saved.destination_config.mount_point, target);
  assert.equal(saved.schedules.map((schedule: any) => [schedule.schedule_type, schedule.hour, schedule.minute]), [['daily', 2, 0]]);
  assert.is((await context.api.get('/api/jobs')).body.filter((job: any) => job.name === 'Music').length, 1, 'saved once');
});

tui('2FA set up from the terminal: QR code, code confirmed, recovery codes shown once', async (context) => {
  startTui(context, { width: 100, height: 50 });
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'two-factor');
  await shows(context, 'Code from the app:');
  const secret = screenOf(context).match(/type the secret ([A-Z2-7]+)/)![1];
  assert.match(screenOf(context), /[▄▀█]{10,}/, 'a QR code is drawn');
  type(context, '000000');
  press(context, 'Enter');
  await shows(context, /Invalid|does not match/);
  await shows(context, 'Code from the app:');
  type(context, currentTotpCode(secret));
  press(context, 'Enter');
  await shows(context, 'Recovery codes');
  const codes = screenOf(context).match(/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/g)!;
  assert.is(new Set(codes).size, 10);
  press(context, 'Enter');
  await shows(context, 'two-factor authentication is on');
  assert.equal((await context.api.get('/api/auth/totp/status')).body, { enabled: true });
});

tui('settings through the form: a bad value is named next to its field, a good one is saved', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'settings');
  await fillField(context, 'Runs kept', '5000', 3);
  for (const label of ['At once', 'Time zone', 'Theme']) await fillField(context, label, '');
  await shows(context, /Runs kept: .*max_runs_per_job.*1000/);
  await fillField(context, 'Runs kept', '25', 4);
  for (const label of ['At once', 'Time zone', 'Theme']) await fillField(context, label, '');
  await shows(context, 'settings saved');
  assert.is((await context.api.get('/api/settings')).body.max_runs_per_job, 25);
});

tui('a credential is added with its secrets typed but never shown, then deleted', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'credentials');
  await shows(context, 'no credentials yet');
  act(context, 'new-credential');
  await fillField(context, 'Name', 'AWS backup');
  await fillField(context, 'Provider', '', 2);
  await shows(context, /"provider_type" must be one of/);
  await fillField(context, 'Provider', 's3');
  // The access key id is not a secret (the API says so): it is shown; the secret key is not.
  await fillField(context, 'Access key', 'AKIAEXAMPLEKEY');
  await shows(context, '› Secret key:');
  type(context, 'very-secret-value');
  assert.match(screenOf(context), /AKIAEXAMPLEKEY/);
  assert.not.match(screenOf(context), /very-secret/, 'secrets are not echoed');
  press(context, 'Enter');
  await fillField(context, 'Session token', '');
  await shows(context, /s3\s+AWS backup/);
  assert.not.match(screenOf(context), /very-secret|AKIAEXAMPLE/);
  act(context, 'edit-credential');
  await fillField(context, 'Name', ' (old)');
  await fillField(context, 'Access key', '');
  await fillField(context, 'Secret key', '');
  await fillField(context, 'Session token', '');
  await shows(context, 'saved AWS backup (old)');
  act(context, 'delete-credential');
  await shows(context, 'deleted AWS backup (old)');
  assert.equal((await context.api.get('/api/credentials')).body, []);
  act(context, 'back');
  await shows(context, 'Documents');
});

tui('when the daemon restarts, the dashboard says it is reconnecting and comes back by itself', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, /live/);
  const port = new URL(context.daemon.url).port;
  const dataDir = context.daemon.dataDir;
  await context.daemon.kill();
  await shows(context, 'reconnecting');
  context.daemon = await spawnDaemonProcess(dataDir, { CAIRN_PORT: port });
  await shows(context, / live/, 30_000);
  act(context, 'run');
  await shows(context, /Documents.*completed/);
});

tui('a log of thousands of lines written in a burst is shown in full and the view keeps answering keys', async (context) => {
  const source = path.join(tempDir(), 'many');
  mkdirSync(source);
  for (let i = 0; i < 5000; i++) writeFileSync(path.join(source, `file-${String(i).padStart(4, '0')}.txt`), `${i}`);
  const job = await createJob(context.api, { name: 'Many', source_dirs: [source] });
  startTui(context);
  await logIn(context);
  await shows(context, 'Many');
  const runId = (await context.api.post(`/api/jobs/${job.id}/run`)).body.run_id;
  press(context, 'Down');
  await shows(context, /Many.*(running|completed)/);
  act(context, 'open-log');
  await shows(context, /run \d+ · completed · 500[3-9]\/500[3-9] lines/, 30_000);
  assert.match(screenOf(context), /Completed: 5000 file/, 'following: the end is in view');
  act(context, 'level');
  await shows(context, /level warning/);
  act(context, 'back');
  await shows(context, 'Jobs');
  assert.is((await context.api.get(`/api/runs/${runId}`)).body.files_transferred, 5000);
});

tui('a job to an SFTP server is set up by its address, run, and restored, all from the terminal', async (context) => {
  const server = await startSftpServer();
  try {
    const allowed = tempDir();
    await context.daemon.kill();
    context.daemon = await spawnDaemonProcess(context.daemon.dataDir, { CAIRN_ALLOWED_PATHS: allowed });
    context.api = new ApiClient(context.daemon.url);
    await context.api.login();
    await context.api.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: server.password } });
    const source = path.join(allowed, 'photos');
    mkdirSync(source);
    writeFileSync(path.join(source, 'beach.jpg'), fileContent('beach', 300_000));
    startTui(context);
    await logIn(context);
    await shows(context, 'Documents');
    act(context, 'new');
    const address = `sftp://${server.username}@127.0.0.1:${server.port}${server.root}/pi`;
    const values = ['Photos', source, address, 'NAS', '', '', '', '', '', '', '', '', '', ''];
    for (const [i, label] of FORM_LABELS.entries()) {
      await fillField(context, label, values[i]);
    }
    await shows(context, 'saved Photos');
    await shows(context, /Photos\s+sftp:\/\/cairn-sftp@127\.0\.0\.1/);
    press(context, 'Down');
    act(context, 'run');
    await shows(context, /Photos .*completed/, 30_000);
    assert.equal(readFileSync(path.join(server.root, 'pi', 'photos', 'beach.jpg')), fileContent('beach', 300_000), 'the bytes are on the server');

    act(context, 'restore');
    await fillField(context, 'Into folder', path.join(allowed, 'restored'));
    await fillField(context, 'Only (paths)', '');
    await fillField(context, 'Over sources', '');
    await shows(context, /restoring Photos into/);
    const restored = path.join(allowed, 'restored', 'photos', 'beach.jpg');
    await waitFor('the restored file', () => existsSync(restored));
    assert.equal(readFileSync(restored), fileContent('beach', 300_000));
  } finally {
    await server.stop();
  }
});

tui('an rclone job is set up by typing its address (the form lists the providers), run, and its files land', async (context) => {
  const source = path.join(tempDir(), 'letters');
  mkdirSync(source);
  writeFileSync(path.join(source, 'to grandma.txt'), fileContent('letter', 50_000));
  const target = path.join(tempDir(), 'rclone target');
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'new');
  await fillField(context, 'Name', 'Letters');
  await fillField(context, 'Sources', source);
  await shows(context, '› Destination:');
  assert.match(screenOf(context), /rclone remote\s+rclone:\/\/b2\/my-bucket/, 'the destination help lists the providers with their addresses');
  assert.match(screenOf(context), /Google Drive\s+gdrive:\/\//);
  type(context, 'ftp://old.example.com/x');
  press(context, 'Enter');
  for (const label of FORM_LABELS.slice(3)) await fillField(context, label, '');
  await shows(context, /Destination: "ftp" is not a destination Cairn knows/);
  // rclone's local backend: the path after the remote type's '/' is absolute, its space percent-encoded.
  await fillField(context, 'Destination', `rclone://local/${target.replace(/ /g, '%20')}`, 'ftp://old.example.com/x'.length);
  for (const label of FORM_LABELS.slice(3)) await fillField(context, label, '');
  await shows(context, 'saved Letters');
  await shows(context, /Letters\s+rclone:\/\/local\/\//);
  const saved = (await context.api.get('/api/jobs')).body.find((job: any) => job.name === 'Letters');
  assert.is(saved.destination_type, 'rclone');
  assert.equal(saved.destination_config, { remote_type: 'local', path: target, options: {} });
  press(context, 'Down');
  act(context, 'run');
  await shows(context, /Letters .*completed/, 30_000);
  assert.equal(readFileSync(path.join(target, 'letters', 'to grandma.txt')), fileContent('letter', 50_000), 'the bytes are where the address says');
});

tui('a Google Drive credential asks for the token with the rclone authorize command, typed without echo', async (context) => {
  startTui(context);
  await logIn(context);
  await shows(context, 'Documents');
  act(context, 'credentials');
  await shows(context, 'no credentials yet');
  act(context, 'new-credential');
  await fillField(context, 'Name', 'Drive');
  await shows(context, '› Provider:');
  assert.match(screenOf(context), /google_drive\s+Google Drive/, 'the provider help lists the choices');
  await fillField(context, 'Provider', 'google_drive');
  await shows(context, '› Token (JSON):');
  assert.match(screenOf(context), /rclone authorize "drive"/, 'the command that makes the token is shown');
  type(context, '{"access_token":"ya29.secret-token","refresh_token":"1//refresh-secret","expiry":"2030-01-01T00:00:00Z"}');
  assert.not.match(screenOf(context), /secret-token|refresh-secret/, 'the token is not echoed');
  press(context, 'Enter');
  for (const label of ['Access token', 'Refresh token', 'Expires at (Unix time)']) await fillField(context, label, '');
  await shows(context, /google_drive\s+Drive/);
  assert.equal((await context.api.get('/api/credentials')).body.map((credential: any) => [credential.name, credential.provider_type]), [['Drive', 'google_drive']]);
});

tui('plugging in a registered drive shows in the drives panel until it is safe to remove', async (context) => {
  const stopUdev = startUdev();
  const drive = { current: null as ReturnType<typeof plugInDrive> | null };
  try {
    const dataDir = context.daemon.dataDir;
    await context.daemon.kill();
    context.daemon = await spawnDaemonProcess(dataDir, { CAIRN_WATCH_DRIVES: 'true' });
    context.api = new ApiClient(context.daemon.url);
    await context.api.login();
    const uuid = '7e57d21e-0000-4000-8000-00000000a11e';
    const source = path.join(tempDir(), 'camera');
    mkdirSync(source);
    writeFileSync(path.join(source, 'photo.jpg'), 'jpeg');
    await createJob(context.api, {
      name: 'Camera',
      source_dirs: [source],
      destination_config: { mount_point: path.join(tempDir(), 'usb'), backup_subdir: '', usb_uuid: uuid, auto_mount: true, auto_unmount: true },
    });
    startTui(context);
    await logIn(context);
    await shows(context, 'Camera');
    drive.current = plugInDrive({ uuid, label: 'CAMERA' });
    await shows(context, /CAMERA\s+64M\s+safe to remove/, 30_000);
    await shows(context, /Camera.*completed/);
  } finally {
    drive.current?.detach();
    stopUdev();
  }
});

tui('it fits 80×24 and honours NO_COLOR', async (context) => {
  startTui(context, { width: 80, height: 24 }, { NO_COLOR: '1' });
  await logIn(context);
  await shows(context, 'Documents');
  const screen = screenOf(context);
  assert.ok(screen.split('\n').every((line) => line.length <= 80));
  assert.match(screen, /q quit/, 'the footer is still there');
  tmux('resize-window', '-t', context.session, '-x', '120', '-y', '40');
  await shows(context, /Documents/);
  const ansi = tmux('capture-pane', '-t', context.session, '-p', '-e');
  assert.not.match(ansi, /\x1b\[3[1-7]m/, 'no colour escapes');
});

tui.run();
