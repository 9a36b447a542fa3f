/** A job's history as the terminal UI shows it: snapshots, folders, keep policies, previews, verifies. Data in, text out. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { footerFor, KEYS } from '../../../tui/keys.ts';
import { backupModeOf, backupScheduleOf, fieldOfError, FormValueError, formValuesOf, historyHelp, jobBodyOf, jobFormFields, keepsSnapshots } from '../../../tui/present/job-form.ts';
import { tagged } from '../../../tui/present/paint.ts';
import { emptyPolicy, keptByText, parseRetentionText, reasonText, RetentionTextError, retentionText } from '../../../tui/present/retention.ts';
import { runLine } from '../../../tui/present/runs.ts';
import {
  childPath,
  historyLine,
  localTime,
  parentPath,
  previewLines,
  snapshotLine,
  snapshotsTitle,
  treeLines,
  treeTitle,
  verifyStatusText,
  verifySummary,
} from '../../../tui/present/snapshots.ts';
import { applyStatusMessage } from '../../../tui/present/status-events.ts';
import type { Run, Snapshot, TreePage, VerifyFigures } from '../../../tui/wire.ts';
import { PROVIDERS } from './providers.ts';

const now = Date.parse('2026-12-05T12:00:00Z');

const snapshot = (overrides: Partial<Snapshot> = {}): Snapshot => ({
  id: '2026-12-05T031500+0100',
  time: '2026-12-05T02:15:00.000Z',
  run_id: 7,
  files: 12_345,
  total_size: 5 * 1024 ** 3,
  bytes_added: 12 * 1024 ** 2,
  kept_by: [{ rule: 'keep_last' }, { rule: 'keep_daily' }],
  ...overrides,
});

const figures = (overrides: Partial<VerifyFigures> = {}): VerifyFigures => ({
  snapshot_id: '2026-12-05T031500+0100',
  files_checked: 201,
  bytes_read: 250_100,
  mismatched: 0,
  missing: 0,
  unreadable: 0,
  ...overrides,
});

test('snapshot times read in the settings’ zone, across a daylight-saving change', () => {
  assert.is(localTime('2026-12-05T02:15:00.000Z', 'Europe/Berlin'), '2026-12-05 03:15');
  assert.is(localTime('2026-07-05T02:15:00.000Z', 'Europe/Berlin'), '2026-07-05 04:15');
  assert.is(localTime('2026-12-05T02:15:00.000Z', 'America/New_York'), '2026-12-04 21:15');
  assert.is(localTime('2026-12-05T00:05:00.000Z', 'UTC'), '2026-12-05 00:05', 'midnight is 00, not 24');
  assert.is(localTime('2026-12-05T02:15:00.000Z', 'Not/A_Zone'), '2026-12-05 02:15 UTC', 'an unknown zone falls back to UTC, saying so');
});

test('a snapshot line: time, files, size, bytes added, the rules that keep it', () => {
  assert.is(snapshotLine(snapshot(), 'Europe/Berlin'), '2026-12-05 03:15     12,345    5.0 GB    +12 MB  last, daily');
  assert.is(
    snapshotLine(snapshot({ kept_by: [] }), 'Europe/Berlin', tagged),
    '{yellow-fg}2026-12-05 03:15     12,345    5.0 GB    +12 MB  removed at the next prune{/yellow-fg}',
    'one the policy would remove stands out',
  );
  assert.match(snapshotLine(snapshot({ kept_by: [{ rule: 'no_policy' }] }), 'UTC'), /no policy$/);
  assert.match(snapshotLine(snapshot({ kept_by: [{ rule: 'keep_tags', tags: '{a}' }] }), 'UTC'), /tag \{open\}a\{close\}$/, 'a tag is not taken as markup');
  assert.is(snapshotsTitle('Photos', 2, 'last=7'), 'Photos · 2 snapshots · keep: last=7');
  assert.is(snapshotsTitle('Photos', 1, ''), 'Photos · 1 snapshot · keep: everything (no policy)');
});

test('kept-by reasons are named the way the policy line names them', () => {
  assert.is(reasonText({ rule: 'keep_monthly', oldest: true }), 'monthly (oldest)');
  assert.is(reasonText({ rule: 'newest_successful' }), 'newest');
  assert.is(reasonText({ rule: 'keep_tags', tags: 'foo,bar' }), 'tag foo,bar');
  assert.is(reasonText({ rule: 'keep_tags', tags: '' }), 'tag (untagged)');
  assert.is(reasonText({ rule: 'keep_within_daily' }), 'within_daily');
  assert.is(keptByText([]), 'removed at the next prune');
});

test('a keep policy round-trips through its one line', () => {
  const policy = { ...emptyPolicy(), keep_last: 7, keep_daily: 14, keep_yearly: -1, keep_within: '30d', keep_within_weekly: '1y6m', keep_tags: ['foo,bar', ''] };
  const text = retentionText(policy);
  assert.is(text, 'last=7 daily=14 yearly=all within=30d within_weekly=1y6m tags=foo,bar tags=');
  assert.equal(parseRetentionText(text), policy);
  assert.equal(parseRetentionText('  '), emptyPolicy(), 'empty keeps everything');
  assert.is(retentionText(emptyPolicy()), '');
  assert.equal(parseRetentionText('keep_last=3 DAILY=ALL').keep_last, 3, 'the API’s field names and any case work too');
  assert.equal(parseRetentionText('within=').keep_within, null, 'an empty duration is off');
  assert.is(parseRetentionText('within=2w').keep_within, '2w', 'a duration is sent as typed: the API names what is wrong with it');
});

test('a keep line that is not a policy says what is wrong', () => {
  const message = (text: string) => {
    try {
      parseRetentionText(text);
    } catch (error) {
      assert.instance(error, RetentionTextError);
      return (error as Error).message;
    }
    throw new Error(`"${text}" was accepted`);
  };
  assert.match(message('weekly=8 forever=1'), /"forever=1" is not a rule: use last=, hourly=/);
  assert.match(message('last'), /"last" needs a value after "=", e\.g\. last=7/);
  assert.match(message('last=seven'), /"last=" takes a number or "all", not "seven"/);
  assert.match(message('last=-2'), /takes a number or "all"/);
  assert.match(message('last=1 last=2'), /"last" is given twice/);
});

test('a folder page: folders end in /, files show their size, the title says where and which part', () => {
  const page: TreePage = {
    path: 'documents/',
    entries: [
      { name: 'letters', type: 'dir', size: null, mtime: '2026-12-05T02:15:00.000Z' },
      { name: 'notes {1}.txt', type: 'file', size: 1536, mtime: '2026-12-05T02:15:00.000Z' },
      { name: 'latest', type: 'symlink', size: 9, mtime: '2026-12-05T02:15:00.000Z' },
    ],
    total: 950,
    limit: 200,
    offset: 200,
  };
  assert.equal(treeLines(page, 'UTC', 16), [
    'letters/                    2026-12-05 02:15',
    'notes {open}1{close}.txt       1.5 KB  2026-12-05 02:15',
    'latest →                    2026-12-05 02:15',
  ]);
  assert.is(treeTitle('2026-12-05 03:15', page), '2026-12-05 03:15 /documents · 201–203 of 950');
  assert.is(treeTitle('2026-12-05 03:15', { ...page, path: '', entries: [], total: 0, offset: 0 }), '2026-12-05 03:15 / · empty folder');
  assert.is(childPath('', 'documents'), 'documents');
  assert.is(childPath('documents/', 'letters'), 'documents/letters');
  assert.is(parentPath('documents/letters'), 'documents');
  assert.is(parentPath('documents'), '');
});

test('a retention preview lists what stays with its rules and what goes, newest first', () => {
  const preview = {
    keep: [
      { id: 'c', time: '2026-12-05T02:15:00.000Z', reasons: [{ rule: 'keep_last' }] },
      { id: 'a', time: '2026-12-01T02:15:00.000Z', reasons: [{ rule: 'keep_monthly', oldest: true }] },
    ],
    remove: [{ id: 'b', time: '2026-12-03T02:15:00.000Z' }],
  };
  assert.equal(previewLines(preview, 'UTC', tagged), [
    'This policy keeps 2 and removes 1 snapshot:',
    'keep    2026-12-05 02:15  last',
    '{red-fg}remove  2026-12-03 02:15{/red-fg}',
    'keep    2026-12-01 02:15  monthly (oldest)',
  ]);
  assert.is(previewLines({ keep: [], remove: [] }, 'UTC')[0], 'This policy keeps 0 and removes 0 snapshots:');
});

test('a verify reads as running, passed, damaged or failed', () => {
  assert.is(verifySummary(figures()), '201 files checked, 244 KB read, all match');
  assert.is(verifySummary(figures({ mismatched: 1, missing: 2 })), '201 files checked, 244 KB read, 3 damaged (1 changed, 2 missing)');
  assert.is(verifyStatusText({ run_id: 9, status: 'running', verify: null, error_message: null }), 'verify (run 9) running…');
  assert.is(verifyStatusText({ run_id: 9, status: 'running', verify: figures({ files_checked: 20 }), error_message: null }), 'verify (run 9) running: 20 files checked, 244 KB read');
  assert.is(verifyStatusText({ run_id: 9, status: 'completed', verify: figures(), error_message: null }, tagged), '{green-fg}verify (run 9) passed: 201 files checked, 244 KB read, all match{/green-fg}');
  assert.is(
    verifyStatusText({ run_id: 9, status: 'failed', verify: figures({ unreadable: 1 }), error_message: 'Verify found 1 damaged file(s)' }, tagged),
    '{red-fg}verify (run 9) failed: 201 files checked, 244 KB read, 1 damaged (1 unreadable){/red-fg}',
  );
  assert.is(verifyStatusText({ run_id: 9, status: 'failed', verify: figures({ files_checked: 0 }), error_message: 'Drive not mounted' }), 'verify (run 9) failed: Drive not mounted', 'a failure without damage shows its reason');
  assert.is(verifyStatusText({ run_id: 9, status: 'cancelled', verify: null, error_message: 'Cancelled' }), 'verify (run 9) cancelled');
});

test('a verify run in the Runs box shows what it checked instead of transfer totals', () => {
  const run: Run = {
    id: 5,
    job_id: 1,
    job_name: 'Photos',
    status: 'completed',
    trigger: 'verify',
    schedule_id: null,
    created_at: '2026-12-05T11:00:00Z',
    started_at: '2026-12-05T11:00:00Z',
    completed_at: '2026-12-05T11:00:00Z',
    files_transferred: 0,
    bytes_transferred: 0,
    files_deleted: 0,
    error_message: null,
    verify: figures(),
  };
  assert.is(runLine(run, undefined, now), '#5 completed verify    1h ago  201 files checked, 244 KB read, all match');
  assert.is(runLine({ ...run, trigger: 'manual', verify: null, files_transferred: 3, bytes_transferred: 2048 }, undefined, now), '#5 completed manual    1h ago  3 files 2.0 KB');
});

test('the dashboard’s history line: snapshot count and newest, nothing for a mirror', () => {
  assert.is(historyLine({ backup_mode: 'mirror', snapshot_count: null, latest_snapshot_at: null }), '');
  assert.is(historyLine({ backup_mode: 'snapshots', snapshot_count: null, latest_snapshot_at: null }), 'snapshots: not read yet');
  assert.is(historyLine({ backup_mode: 'snapshots', snapshot_count: 0, latest_snapshot_at: null }), 'no snapshots yet');
  assert.is(historyLine({ backup_mode: 'snapshots', snapshot_count: 1, latest_snapshot_at: '2026-12-05T10:00:00Z' }, now), '1 snapshot · newest 2h ago');
  assert.is(historyLine({ backup_mode: 'snapshots', snapshot_count: 1234, latest_snapshot_at: '2026-12-05T11:59:50Z' }, now), '1,234 snapshots · newest just now');
});

test('snapshot events make the dashboard ask for the jobs again (their snapshot count changed)', () => {
  const state = { live: new Map(), driveStates: new Map() };
  const created = applyStatusMessage(state, { type: 'snapshot_created', job_id: 1, snapshot: { id: 'x', time: '2026-12-05T02:15:00.000Z', run_id: 3, files: 1, total_size: 1, bytes_added: 1 } });
  const removed = applyStatusMessage(state, { type: 'snapshot_removed', job_id: 1, snapshot_id: 'x' });
  for (const effect of [created, removed]) assert.equal(effect, { notice: null, reloadJobs: true, reloadDrives: false });
});

test('the job form offers snapshots for local folders only and sends the mode and keep policy', () => {
  const local = PROVIDERS.find((provider) => provider.type === 'local')!;
  const sftp = PROVIDERS.find((provider) => provider.type === 'sftp')!;
  assert.ok(keepsSnapshots(local));
  assert.not.ok(keepsSnapshots(sftp));
  assert.match(historyHelp(PROVIDERS), /snapshots: .*\(Local \/ USB only\)/);
  assert.equal(jobFormFields(PROVIDERS).slice(-3), [
    { key: 'history', label: 'History' },
    { key: 'retention', label: 'Keep' },
    { key: 'schedule', label: 'Schedule' },
  ]);
  assert.is(backupModeOf('', local), 'mirror');
  assert.is(backupModeOf(' Snap', local), 'snapshots');
  assert.throws(() => backupModeOf('snapshots', sftp), (error: Error) => error instanceof FormValueError && error.field === 'history' && /SFTP keeps a mirror only/.test(error.message));
  assert.throws(() => backupModeOf('versions', local), (error: Error) => error instanceof FormValueError && /type mirror or snapshots/.test(error.message));

  const values = { ...formValuesOf(null, PROVIDERS), name: 'Diary', sources: '/home/me/diary', destination: '/mnt/usb', history: 'snapshots', retention: 'last=7 daily=30' };
  const body = jobBodyOf(values, PROVIDERS) as any;
  assert.is(body.backup_mode, 'snapshots');
  assert.equal(body.retention, { ...emptyPolicy(), keep_last: 7, keep_daily: 30 });
  assert.throws(() => jobBodyOf({ ...values, retention: 'daily=often' }, PROVIDERS), (error: Error) => error instanceof FormValueError && error.field === 'retention');

  const saved = { id: 2, name: 'Diary', enabled: true, destination_type: 'local', destination_config: { mount_point: '/mnt/usb' }, last_run: null, schedules: [], backup_mode: 'snapshots' as const, retention: body.retention };
  const shown = formValuesOf(saved, PROVIDERS);
  assert.is(shown.history, 'snapshots');
  assert.is(shown.retention, 'last=7 daily=30');
});

test('the job form edits a backup schedule, never a verify schedule listed first', () => {
  const verify = { id: 1, schedule_type: 'daily', hour: 4, minute: 0, day_of_week: null, day_of_month: null, cron_expression: null, next_run: null, action: 'verify' };
  const backup = { ...verify, id: 2, hour: 2, action: 'backup' };
  assert.is(backupScheduleOf([verify, backup])?.id, 2);
  assert.is(backupScheduleOf([verify]), undefined);
  assert.is(backupScheduleOf([{ next_run: null }]) !== undefined, true, 'a schedule from before actions existed is a backup');
  const job = { id: 2, name: 'Diary', enabled: true, destination_type: 'local', destination_config: { mount_point: '/mnt/usb' }, last_run: null, schedules: [verify, backup] as any };
  assert.is(formValuesOf(job, PROVIDERS).schedule, 'daily 02:00');
  assert.is(formValuesOf({ ...job, schedules: [verify] as any }, PROVIDERS).schedule, '', 'a job with only a verify schedule shows no backup schedule');
});

test('API errors about history point at the History, Keep or Dry run field', () => {
  assert.is(fieldOfError('BACKUP_MODE_UNSUPPORTED', 'a s3 destination cannot hold them'), 'history');
  assert.is(fieldOfError('FILESYSTEM_NO_HARD_LINKS', '/mnt/usb is on exfat (FUSE)'), 'history');
  assert.is(fieldOfError('SNAPSHOT_DRY_RUN', '"sync_options.dry_run" cannot be used with "backup_mode": "snapshots"'), 'dry_run');
  assert.is(fieldOfError('RETENTION_DURATION_INVALID', '"2w" is not a retention duration'), 'retention');
  assert.is(fieldOfError('VALIDATION_FAILED', '"retention.keep_daily" must be greater than or equal to -1'), 'retention');
});

test('the snapshots screen’s keys: one table, a footer that fits 80 columns, h opens it from the dashboard', () => {
  assert.is(KEYS.find((key) => key.action === 'snapshots')?.keys[0], 'h');
  const footer = footerFor('snapshots');
  assert.ok(footer.length <= 80, footer);
  assert.match(footer, /⏎ open {2}R restore {2}d delete {2}p keep {2}v verify {2}l log/);
  for (const screen of ['dashboard', 'snapshots'] as const) {
    const keys = KEYS.filter((key) => key.screens.includes(screen)).flatMap((key) => key.keys);
    assert.is(new Set(keys).size, keys.length, `no key does two things on the ${screen} screen`);
  }
});

test.run();
