import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatAge, formatBytes, formatIn, progressBar, sparkline } from '../../../tui/present/format.ts';
import { credentialDataOf, credentialProviders, providerChoiceHelp, providerOfChoice } from '../../../tui/present/credentials.ts';
import { destinationHelp, fieldOfError, formValuesOf, jobBodyOf, jobFormFields } from '../../../tui/present/job-form.ts';
import { PROVIDERS } from './providers.ts';
import { describeDestination, jobRows, type JobSummary } from '../../../tui/present/jobs.ts';
import { escapeTags, renderLine, visibleLines, type LogLine } from '../../../tui/present/logs.ts';
import { footerFor, KEYS } from '../../../tui/keys.ts';
import { parseScheduleText, scheduleText } from '../../../tui/present/schedule-text.ts';

const now = Date.parse('2026-01-05T12:00:00Z');
const job: JobSummary & { source_dirs: string[]; sync_options: any } = {
  id: 1,
  name: 'Photos',
  enabled: true,
  destination_type: 'local',
  destination_config: { mount_point: '/mnt/usb', backup_subdir: 'cairn', usb_uuid: '1234-ABCD' },
  last_run: { id: 3, status: 'failed', started_at: '2026-01-05T10:00:00Z', completed_at: '2026-01-05T11:00:00Z' },
  schedules: [{ next_run: '2026-01-06T02:00:00Z' }, { next_run: null }],
  source_dirs: ['/home/me/photos', '/home/me/videos'],
  sync_options: { exclude_patterns: ['*.tmp', '.cache'], delete_extraneous: true },
};

test('sizes, ages and bars read the way people say them', () => {
  assert.equal([formatBytes(0), formatBytes(1536), formatBytes(52_428_800)], ['0 B', '1.5 KB', '50 MB']);
  assert.equal([formatAge('2026-01-05T11:59:50Z', now), formatAge('2026-01-05T11:00:00Z', now), formatAge(null, now)], ['just now', '1h ago', '—']);
  assert.is(formatIn('2026-01-06T02:00:00Z', now), 'in 14h');
  assert.is(progressBar(0.5, 10), '█████░░░░░');
  assert.is(sparkline([0, 50, 100]), '▁▅█');
  assert.is(sparkline([0, 0]), '▁▁');
  assert.is(sparkline([]), '');
});

test('a job row shows where it goes, its last outcome and its next run', () => {
  assert.is(describeDestination(job, PROVIDERS), '/mnt/usb in cairn USB 1234-ABCD');
  assert.equal(jobRows([job], new Map(), PROVIDERS, now), [['Photos', '/mnt/usb in cairn USB 1234-ABCD', 'failed', '1h ago', 'in 14h']]);
  const live = new Map([[1, { run_id: 4, files_transferred: 12, bytes_transferred: 3 * 1024 * 1024, rate: 1024 * 1024 }]]);
  assert.is(jobRows([job], live, PROVIDERS, now)[0][2], '█░░░░ running 12 files 3.0 MB 1.0 MB/s');
  assert.is(jobRows([job], live, PROVIDERS, now, 2)[0][2].slice(0, 5), '░░█░░', 'the activity bar moves');
});

test('a running job with a known total shows a filling bar, the percent, bytes of the total, rate and time left', () => {
  const progress = { percent: 42.5, bytes_done: 3 * 1024 * 1024, bytes_total: 7 * 1024 * 1024, files_done: 12, files_total: 20, rate_bytes_per_s: 1024 * 1024, eta_seconds: 4 };
  const live = new Map([[1, { run_id: 4, files_transferred: 12, bytes_transferred: 3 * 1024 * 1024, rate: 0, progress }]]);
  assert.is(jobRows([job], live, PROVIDERS, now)[0][2], '██░░░ 42% 3.0 MB/7.0 MB 1.0 MB/s 4s left');
  assert.is(jobRows([job], live, PROVIDERS, now, 2)[0][2], '██░░░ 42% 3.0 MB/7.0 MB 1.0 MB/s 4s left', 'a known share does not move with the tick');
  const noRateYet = new Map([[1, { ...live.get(1)!, progress: { ...progress, rate_bytes_per_s: null, eta_seconds: null } }]]);
  assert.is(jobRows([job], noRateYet, PROVIDERS, now)[0][2], '██░░░ 42% 3.0 MB/7.0 MB 0 B/s');
  const shareOnly = new Map([[1, { ...live.get(1)!, progress: { ...progress, bytes_total: null, files_total: null } }]]);
  assert.is(jobRows([job], shareOnly, PROVIDERS, now)[0][2], '██░░░ 42% 3.0 MB sent 1.0 MB/s 4s left', 'a share without totals (local, one pass) still fills the bar');
  const unknown = new Map([[1, { ...live.get(1)!, progress: { ...progress, percent: null, bytes_total: null, files_total: null } }]]);
  assert.match(jobRows([job], unknown, PROVIDERS, now)[0][2], /^█░░░░ running 12 files/, 'no total: the activity bar');
});

test('log lines filter by level and search, and braces in file names are not taken as markup', () => {
  const lines: LogLine[] = [
    { id: 1, timestamp: '2026-01-05T02:00:01.000Z', level: 'info', message: 'photos/{draft}.jpg' },
    { id: 2, timestamp: '2026-01-05T02:00:02.000Z', level: 'warning', message: 'file has vanished: tmp.bin' },
    { id: 3, timestamp: '2026-01-05T02:00:03.000Z', level: 'error', message: 'Failed: disk full' },
  ];
  assert.equal(visibleLines(lines, 'warning', '').map((line) => line.id), [2, 3]);
  assert.equal(visibleLines(lines, 'all', 'DISK').map((line) => line.id), [3]);
  assert.is(renderLine(lines[0], false), '02:00:01 INF photos/{open}draft{close}.jpg');
  assert.is(renderLine(lines[2], true), '{red-fg}02:00:03 ERR Failed: disk full{/red-fg}');
  assert.is(escapeTags('{a}'), '{open}a{close}');
});

test('the job form round-trips a job and points API errors at their field', () => {
  const previous = { ...job, destination_config: { ...job.destination_config, auto_mount: true, auto_unmount: true }, schedules: [] };
  const values = formValuesOf(previous, PROVIDERS);
  assert.equal(values, { name: 'Photos', sources: '/home/me/photos, /home/me/videos', destination: '/mnt/usb', credential: '', backup_subdir: 'cairn', usb_uuid: '1234-ABCD', excludes: '*.tmp, .cache', delete: 'y', bandwidth: '', dry_run: 'n', verbosity: 'normal', schedule: '', history: 'mirror', retention: '' });
  const body = jobBodyOf(values, PROVIDERS, [], previous) as any;
  assert.equal(body.source_dirs, job.source_dirs);
  assert.equal(body.destination_type, 'local');
  assert.equal(body.destination_config, { mount_point: '/mnt/usb', backup_subdir: 'cairn', usb_uuid: '1234-ABCD', auto_mount: true, auto_unmount: true }, 'what the address does not carry is kept');
  assert.equal(body.sync_options, { exclude_patterns: ['*.tmp', '.cache'], delete_extraneous: true, bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' });
  assert.is((jobBodyOf({ ...values, bandwidth: 'fast' }, PROVIDERS) as any).sync_options.bandwidth_limit_kbps, 'fast', 'left for the API to refuse by name');
  assert.is(fieldOfError('VALIDATION_FAILED', '"sync_options.bandwidth_limit_kbps" must be a number'), 'bandwidth');
  assert.throws(() => jobBodyOf(formValuesOf(null, PROVIDERS), PROVIDERS), (error: any) => error.field === 'destination' && /is not an address: use \/mnt\/backup/.test(error.message));
  assert.throws(() => jobBodyOf({ ...values, destination: 's3://bucket' }, PROVIDERS), (error: any) => error.field === 'backup_subdir' && /take no backup_subdir/.test(error.message));
  assert.is(fieldOfError('VALIDATION_FAILED', '"source_dirs[0]" must be an absolute path such as /home/user/documents'), 'sources');
  assert.is(fieldOfError('VALIDATION_FAILED', 'destination_config: "mount_point" must be an absolute path such as /mnt/backup', PROVIDERS), 'destination');
  assert.is(fieldOfError('VALIDATION_FAILED', 'destination_config: "usb_uuid" must be a filesystem UUID', PROVIDERS), 'usb_uuid');
  assert.is(fieldOfError('JOB_NAME_TAKEN', 'A job named "x" already exists'), 'name');
  assert.is(fieldOfError('VALIDATION_FAILED', '"sync_options.exclude_patterns[1]" must not contain control characters'), 'excludes');
});

test('the job form\'s fields come from the providers: the fields set beside an address follow the credential', () => {
  assert.equal(jobFormFields(PROVIDERS).map((field) => field.label), ['Name', 'Sources', 'Destination', 'Credential', 'Backup subdir', 'USB UUID', 'Excludes', 'Mirror (y/n)', 'Limit KiB/s', 'Dry run (y/n)', 'Log detail', 'History', 'Keep', 'Schedule']);
  const help = destinationHelp(PROVIDERS.map((provider) => (provider.type === 'onedrive' ? { ...provider, available: false, reason: 'rclone is not installed' } : provider)));
  assert.match(help, /^Local \/ USB\s+\/mnt\/backup$/m);
  assert.match(help, /^rclone remote\s+rclone:\/\/b2\/my-bucket/m);
  assert.match(help, /^OneDrive\s+not available: rclone is not installed$/m);
});

test('schedules read and write as one line of text', () => {
  assert.equal(parseScheduleText('daily 02:30'), { schedule_type: 'daily', hour: 2, minute: 30 });
  assert.equal(parseScheduleText('weekly Sunday 03:00'), { schedule_type: 'weekly', day_of_week: 0, hour: 3, minute: 0 });
  assert.equal(parseScheduleText('monthly 31 01:15'), { schedule_type: 'monthly', day_of_month: 31, hour: 1, minute: 15 });
  assert.equal(parseScheduleText('cron 0 2 * * 1-5'), { schedule_type: 'custom', cron_expression: '0 2 * * 1-5' });
  assert.equal(parseScheduleText('daily 25'), { schedule_type: 'daily' }, 'left for the API to name what is missing');
  assert.is(parseScheduleText('  '), null);
  assert.is(scheduleText({ schedule_type: 'weekly', hour: 3, minute: 0, day_of_week: 6, day_of_month: null, cron_expression: null }), 'weekly sat 03:00');
  assert.is(fieldOfError('VALIDATION_FAILED', '"hour" must be less than or equal to 23'), 'schedule');
});

test('the dashboard footer fits 80 columns and every key is in one table', () => {
  assert.ok(footerFor('dashboard').length <= 80);
  const keys = KEYS.flatMap((key) => key.keys.map((k) => `${k}:${key.screens.join()}`));
  assert.is(new Set(keys).size, keys.length, 'no key bound twice on a screen');
});


test('the job form names a remote job\'s credential, and refuses one that does not exist', () => {
  const credentials = [{ id: 4, name: 'NAS' }];
  const remote = { ...job, destination_type: 'sftp', destination_config: { host: 'nas', port: 22, username: 'me', remote_path: '/b', key_based_auth: false }, credential_id: 4 };
  const values = formValuesOf(remote, PROVIDERS, credentials);
  assert.is(values.destination, 'sftp://me@nas/b');
  assert.is(values.credential, 'NAS');
  assert.is(values.backup_subdir, '', 'a local field is empty for an SFTP job');
  const body = jobBodyOf(values, PROVIDERS, credentials, remote);
  assert.is(body.destination_type, 'sftp');
  assert.is(body.credential_id, 4);
  assert.throws(() => jobBodyOf({ ...values, credential: 'Nope' }, PROVIDERS, credentials), (error: any) => error.field === 'credential');
});

test('the credential form offers the providers with credential fields; an unavailable one is refused with its reason', () => {
  assert.equal(credentialProviders(PROVIDERS).map((provider) => provider.type), ['s3', 'google_drive', 'onedrive', 'sftp', 'webdav']);
  const withoutRclone = PROVIDERS.map((provider) => (provider.type === 'google_drive' ? { ...provider, available: false, reason: 'rclone is not installed' } : provider));
  assert.match(providerChoiceHelp(withoutRclone), /^google_drive\s+Google Drive: not available, rclone is not installed$/m);
  assert.throws(() => providerOfChoice(withoutRclone, 'google_drive'), /Google Drive is not available here: rclone is not installed/);
  assert.throws(() => providerOfChoice(withoutRclone, ''), /"provider_type" must be one of s3, onedrive, sftp, webdav$/);
  const drive = providerOfChoice(PROVIDERS, ' google_drive ');
  const token = drive.credential_fields.find((field) => field.key === 'token')!;
  assert.ok(token.secret, 'the token is typed without echo');
  assert.match(token.help ?? '', /rclone authorize "drive"/, 'the command that makes it is shown');
});

test('an SFTP credential takes a password, or a key read from a file with its passphrase; empty fields are left out', () => {
  const fields = providerOfChoice(PROVIDERS, 'sftp').credential_fields;
  const files: Record<string, string> = { '/home/me/.ssh/id_ed25519': '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n' };
  const read = (file: string) => files[file] ?? assert.unreachable(`read ${file}`);
  assert.equal(credentialDataOf(fields, { password: 'hunter22', private_key: '', passphrase: '' }, read), { password: 'hunter22' });
  assert.equal(credentialDataOf(fields, { password: '', private_key: ' /home/me/.ssh/id_ed25519 ', passphrase: 'words' }, read), {
    private_key: files['/home/me/.ssh/id_ed25519'],
    passphrase: 'words',
  });
  const s3 = providerOfChoice(PROVIDERS, 's3').credential_fields;
  assert.equal(credentialDataOf(s3, { access_key_id: 'AKIA', secret_access_key: 's', session_token: '' }, read), { access_key_id: 'AKIA', secret_access_key: 's' });
});

test.run();
