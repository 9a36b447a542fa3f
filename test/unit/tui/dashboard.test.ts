/** The dashboard's renderers and its key table, without blessed: data in, text out. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DASHBOARD_ACTIONS, dispatch, KEYS, type ActionHandler, type ActionHandlers } from '../../../tui/keys.ts';
import { clockWaitingIn, headerText, jobTable } from '../../../tui/present/dashboard.ts';
import { drivesText } from '../../../tui/present/drives.ts';
import { plain, tagged } from '../../../tui/present/paint.ts';
import { runLine, runSeconds, runsText } from '../../../tui/present/runs.ts';
import { applyStatusMessage, type LiveState } from '../../../tui/present/status-events.ts';
import type { Drive, Job, Run } from '../../../tui/wire.ts';
import { PROVIDERS } from './providers.ts';

const now = Date.parse('2026-01-05T12:00:00Z');

function run(id: number, overrides: Partial<Run> = {}): Run {
  return {
    id,
    job_id: 1,
    job_name: 'Photos',
    status: 'completed',
    trigger: 'manual',
    schedule_id: null,
    created_at: '2026-01-05T10:00:00Z',
    started_at: '2026-01-05T10:00:00Z',
    completed_at: '2026-01-05T10:01:00Z',
    files_transferred: 3,
    bytes_transferred: 2048,
    files_deleted: 0,
    error_message: null,
    verify: null,
    ...overrides,
  };
}

const job: Job = {
  id: 1,
  name: 'Photos',
  description: '',
  enabled: true,
  source_dirs: ['/home/me/photos'],
  destination_type: 'local',
  destination_config: { mount_point: '/mnt/usb', backup_subdir: 'cairn' },
  sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
  credential_id: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  last_run: { id: 4, status: 'failed', started_at: '2026-01-05T10:00:00Z', completed_at: '2026-01-05T11:00:00Z' },
  schedules: [],
  backup_mode: 'mirror',
  retention: { keep_last: 0, keep_hourly: 0, keep_daily: 0, keep_weekly: 0, keep_monthly: 0, keep_yearly: 0, keep_within: null, keep_within_hourly: null, keep_within_daily: null, keep_within_weekly: null, keep_within_monthly: null, keep_within_yearly: null, keep_tags: [] },
  snapshot_count: null,
  latest_snapshot_at: null,
};

const drive = (overrides: Partial<Drive> = {}): Drive => ({
  name: 'sdb1',
  device: '/dev/sdb1',
  label: 'CAMERA',
  uuid: 'AAAA-1111',
  fstype: 'vfat',
  size: '32G',
  size_bytes: 32 * 2 ** 30,
  mountpoint: null,
  ...overrides,
});

test('the header says where it is connected, or that it is reconnecting, and the notice', () => {
  assert.is(headerText('http://127.0.0.1:8080', true, '', plain), ' Cairn · http://127.0.0.1:8080 · live');
  assert.is(headerText('http://box', false, 'started Photos', plain), ' Cairn · http://box · reconnecting… · started Photos');
  assert.is(headerText('http://box', true, '', tagged), ' Cairn · http://box · {green-fg}live{/green-fg}');
  // While schedules wait for network time (the appliance), the header says so before any notice.
  assert.is(headerText('http://box', true, 'started Photos', plain, true), ' Cairn · http://box · live · clock not synchronised: schedules wait · started Photos');
  assert.ok(clockWaitingIn({ reasons: [{ code: 'JOB_FAILING' }, { code: 'CLOCK_NOT_SYNCHRONIZED' }] }));
  assert.not.ok(clockWaitingIn({ reasons: [{ code: 'JOB_FAILING' }] }));
  assert.not.ok(clockWaitingIn(null));
});

test('the jobs table has its header row, a failed status in red, and a placeholder when empty', () => {
  assert.equal(jobTable([], new Map(), PROVIDERS, plain, now), [['Name', 'Destination', 'Status', 'Last run', 'Next run'], ['no jobs yet', '', '', '', '']]);
  const [, row] = jobTable([job], new Map(), PROVIDERS, tagged, now);
  assert.equal(row, ['Photos', '/mnt/usb in cairn', '{red-fg}failed{/red-fg}', '1h ago', '—']);
  assert.is(jobTable([{ ...job, enabled: false }], new Map(), PROVIDERS, tagged, now)[1][2], 'disabled');
});

test('runs read newest first with charts oldest first; a failed one in red with its reason', () => {
  assert.is(runsText([], plain, now), 'no runs yet');
  assert.is(runsText([run(1)], plain, now), '#1 completed manual    2h ago  3 files 2.0 KB', 'one run: no chart to draw');
  const failed = run(2, { status: 'failed', trigger: 'scheduled', bytes_transferred: 0, completed_at: '2026-01-05T10:00:30Z', error_message: 'Drive removed during the run' });
  assert.is(runLine(failed, tagged, now), '{red-fg}#2 failed    scheduled 2h ago  3 files 0 B  Drive removed during the run{/red-fg}');
  const lines = runsText([failed, run(1)], plain, now).split('\n');
  assert.is(lines[0], 'bytes █▁  time █▅', 'oldest first: run 1 sent more and took longer');
  assert.is(lines.length, 3);
  assert.is(runSeconds(run(3, { completed_at: null })), 0, 'a run still going has no duration yet');
});

test('drives show their label, size and what plug-in said, else where they are mounted', () => {
  assert.is(drivesText([], new Map(), plain), 'no drives');
  assert.is(drivesText([drive(), drive({ label: null, uuid: 'B', mountpoint: '/mnt/b' })], new Map(), plain), 'CAMERA 32G not mounted\nsdb1 32G mounted /mnt/b');
  assert.is(drivesText([drive()], new Map([['AAAA-1111', 'safe to remove']]), tagged), '{green-fg}CAMERA 32G safe to remove{/green-fg}');
  assert.is(drivesText([drive()], new Map([['AAAA-1111', 'safe to remove (a job failed)']]), tagged), '{red-fg}CAMERA 32G safe to remove (a job failed){/red-fg}');
});

test('status messages: progress with a rate, a finished job forgotten, drive events as notices', () => {
  const state: LiveState = { live: new Map(), driveStates: new Map() };
  assert.equal(applyStatusMessage(state, { type: 'job_started', job_id: 1, run_id: 9, job_name: 'Photos', trigger: 'manual' }), { notice: null, reloadJobs: true, reloadDrives: false });
  assert.equal(state.live.get(1), { run_id: 9, files_transferred: 0, bytes_transferred: 0, rate: 0 });
  const progress = (bytes: number) => ({ type: 'job_progress' as const, job_id: 1, run_id: 9, files_transferred: 2, bytes_transferred: bytes, files_deleted: 0 });
  assert.equal(applyStatusMessage(state, progress(1000)), { notice: null, reloadJobs: false, reloadDrives: false });
  assert.is(state.live.get(1)?.rate, 4000, 'four messages a second');
  applyStatusMessage(state, progress(500));
  assert.is(state.live.get(1)?.rate, 0, 'never a negative rate');
  const completed = { type: 'job_completed' as const, job_id: 1, run_id: 9, job_name: 'Photos', status: 'completed' as const, files_transferred: 2, bytes_transferred: 500, files_deleted: 0, error_message: null };
  assert.equal(applyStatusMessage(state, completed), { notice: null, reloadJobs: true, reloadDrives: false });
  assert.is(state.live.size, 0);

  const base = { uuid: 'AAAA-1111', device: '/dev/sdb1', label: 'CAMERA', registered: true };
  assert.equal(applyStatusMessage(state, { type: 'drive_connected', ...base }), { notice: 'drive connected: CAMERA', reloadJobs: false, reloadDrives: true });
  assert.is(state.driveStates.get('AAAA-1111'), 'connected: backup starting');
  applyStatusMessage(state, { type: 'drive_mounted', ...base, mount_point: '/mnt/usb' });
  assert.is(state.driveStates.get('AAAA-1111'), 'backing up to /mnt/usb');
  const safe = applyStatusMessage(state, { type: 'drive_safe_to_remove', ...base, label: null, mount_point: '/mnt/usb', outcome: 'failed' });
  assert.is(safe.notice, 'drive safe to remove: AAAA-1111', 'the UUID when the drive has no label');
  assert.is(state.driveStates.get('AAAA-1111'), 'safe to remove (a job failed)');
  applyStatusMessage(state, { type: 'drive_removed', ...base });
  assert.is(state.driveStates.size, 0);
  assert.equal(applyStatusMessage(state, { type: 'something_new' } as never), { notice: null, reloadJobs: false, reloadDrives: false }, 'a newer daemon’s message is ignored');
});

test('every dashboard key in the key table is a dashboard action, and every action has keys', () => {
  const dashboardKeys = KEYS.filter((key) => key.screens.includes('dashboard')).map((key) => key.action);
  assert.equal([...dashboardKeys].sort(), [...DASHBOARD_ACTIONS].sort());
});

test('a disabled action says why and does nothing; an enabled one is done', () => {
  const done: string[] = [];
  let selected: string | null = null;
  const handlers = Object.fromEntries(
    DASHBOARD_ACTIONS.map((action) => [action, { disabledReason: () => (selected ? null : 'no job selected'), handle: () => void done.push(`${action} ${selected}`) }]),
  ) as Record<string, ActionHandler> as ActionHandlers<(typeof DASHBOARD_ACTIONS)[number]>;
  assert.is(dispatch(handlers, 'run'), 'no job selected');
  assert.equal(done, []);
  selected = 'Photos';
  assert.is(dispatch(handlers, 'run'), null);
  assert.equal(done, ['run Photos']);
  assert.is(dispatch({ ...handlers, quit: { handle: () => void done.push('quit') } }, 'quit'), null, 'no disabledReason: always enabled');
  assert.equal(done, ['run Photos', 'quit']);
});

test.run();
