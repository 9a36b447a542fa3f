/** The formatters of the dashboard's health (badges, gauges), the history screen (charts, run list) and the channels screen. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alertLines, channelConfigOf, channelFieldOfError, channelFormFields, channelLines, testAnswerText } from '../../../tui/present/channels.ts';
import { drivesText } from '../../../tui/present/drives.ts';
import { destinationGauges, driveGauge, spaceGauge, stateBadge, withBadges } from '../../../tui/present/health.ts';
import { columnChart, historyChartText, historyRunLine, nextStatusFilter, runsPageText, seriesCharts, seriesTotals } from '../../../tui/present/history.ts';
import { KEYS, type Screen } from '../../../tui/keys.ts';
import { tagged } from '../../../tui/present/paint.ts';
import type { AlertRecord, Channel, ChannelKind, DashboardDrive, DashboardJob, Run, SeriesDay } from '../../../tui/wire.ts';

const now = Date.parse('2026-12-05T12:00:00Z');
const GB = 2 ** 30;

function dashboardJob(overrides: Partial<DashboardJob> = {}): DashboardJob {
  return {
    job_id: 1,
    name: 'Photos',
    enabled: true,
    state: 'ok',
    overdue: false,
    consecutive_failures: 0,
    last_success: null,
    last_run: null,
    next_run: null,
    destination_space: null,
    ...overrides,
  };
}

// ── badges ────────────────────────────────────────────────────────────────────────────────────

test('a failing job is badged FAILING, with the count from the second failure in a row', () => {
  assert.is(stateBadge(dashboardJob({ state: 'failing', consecutive_failures: 1 })), 'FAILING');
  assert.is(stateBadge(dashboardJob({ state: 'failing', consecutive_failures: 3 })), 'FAILING ×3');
  assert.is(stateBadge(dashboardJob({ state: 'failing', consecutive_failures: 3 }), tagged), '{red-fg}FAILING ×3{/red-fg}');
});

test('an overdue job is badged OVERDUE in yellow, also when it is failing too', () => {
  assert.is(stateBadge(dashboardJob({ state: 'overdue', overdue: true }), tagged), '{yellow-fg}OVERDUE{/yellow-fg}');
  assert.is(stateBadge(dashboardJob({ state: 'failing', overdue: true, consecutive_failures: 2 })), 'FAILING ×2 OVERDUE');
});

test('healthy, running and never-run jobs carry no badge', () => {
  for (const state of ['ok', 'running', 'never_run'] as const) assert.is(stateBadge(dashboardJob({ state })), '');
});

test('badges land in the status cell of the right job row; the header and unknown jobs are untouched', () => {
  const table = [
    ['Name', 'Destination', 'Status', 'Last run', 'Next run'],
    ['Photos', '/mnt/usb', 'failed', '1h ago', '—'],
    ['Music', '/mnt/usb', 'completed', '1h ago', '—'],
    ['New', '/mnt/usb', 'never run', '—', '—'],
  ];
  const jobs = [{ id: 1 }, { id: 2 }, { id: 3 }];
  const badged = withBadges(table, jobs, [dashboardJob({ job_id: 2, state: 'overdue', overdue: true }), dashboardJob({ job_id: 1, state: 'failing', consecutive_failures: 2 })]);
  assert.equal(badged[0], table[0]);
  assert.is(badged[1][2], 'failed FAILING ×2');
  assert.is(badged[2][2], 'completed OVERDUE');
  assert.is(badged[3][2], 'never run');
  assert.is(table[1][2], 'failed', 'the table given is not changed');
});

// ── gauges ────────────────────────────────────────────────────────────────────────────────────

test('a gauge shows how full as a bar and a percentage, then what is free, in 28 columns at most', () => {
  assert.ok(spaceGauge(1023 * GB, 1024 * GB).length <= 26, 'with the indent, it fits the Drives box at 80 columns');
  assert.is(spaceGauge(7 * GB, 10 * GB), '██░░░░ 30% · 7.0 GB free');
  assert.is(spaceGauge(0, 10 * GB), '██████ 100% · 0 B free');
  assert.is(spaceGauge(20 * GB, 10 * GB), '░░░░░░ 0% · 20 GB free', 'a reading that does not add up stays in range');
});

test('a gauge turns yellow from 75 % used and red from 90 %', () => {
  assert.match(spaceGauge(2 * GB, 10 * GB, tagged), /^\{yellow-fg\}.*80% ·/);
  assert.match(spaceGauge(0.5 * GB, 10 * GB, tagged), /^\{red-fg\}.*95% ·/);
  assert.not.match(spaceGauge(5 * GB, 10 * GB, tagged), /-fg\}/);
});

test('unknown space says so; free space without a total shows only what is free', () => {
  assert.is(spaceGauge(null, null), 'space unknown');
  assert.is(spaceGauge(3 * GB, null), '3.0 GB free');
});

test('a drive gets its gauge from the dashboard while mounted, and none otherwise', () => {
  const drives: DashboardDrive[] = [
    { name: 'sdb1', device: '/dev/sdb1', label: 'BACKUP', uuid: 'U1', fstype: 'ext4', size: '10G', size_bytes: 10 * GB, mountpoint: '/mnt/b', free_bytes: 1 * GB, filesystem_bytes: 10 * GB },
    { name: 'sdc1', device: '/dev/sdc1', label: 'AWAY', uuid: 'U2', fstype: 'ext4', size: '10G', size_bytes: 10 * GB, mountpoint: null, free_bytes: null, filesystem_bytes: null },
  ];
  assert.is(driveGauge({ uuid: 'U1' }, drives), '█████░ 90% · 1.0 GB free');
  assert.is(driveGauge({ uuid: 'U2' }, drives), null);
  assert.is(driveGauge({ uuid: 'U3' }, drives), null);
  const text = drivesText(drives, new Map(), undefined, (drive) => driveGauge(drive, drives));
  assert.equal(text.split('\n'), ['BACKUP 10G mounted /mnt/b', '  █████░ 90% · 1.0 GB free', 'AWAY 10G not mounted']);
});

test('destinations whose space is known get their name and a gauge line; unknown ones are left out', () => {
  const jobs = [
    dashboardJob({ name: 'Photos', destination_space: { free_bytes: 5 * GB, total_bytes: 10 * GB, checked_at: null } }),
    dashboardJob({ job_id: 2, name: 'Cloud', destination_space: { free_bytes: null, total_bytes: null, checked_at: null } }),
    dashboardJob({ job_id: 3, name: 'Never' }),
  ];
  assert.equal(destinationGauges(jobs), ['Photos', '  ███░░░ 50% · 5.0 GB free']);
});

// ── history charts ────────────────────────────────────────────────────────────────────────────

test('a column chart fills the largest value, shows any value above 0, and leaves 0 empty', () => {
  // Two rows of eight steps: 1 of 4 is a quarter (4 eighths), 2 of 4 fills the bottom row.
  assert.equal(columnChart([0, 1, 2, 4], 2), ['   █', ' ▄██']);
  assert.equal(columnChart([0, 100, 1], 1), [' █▁'], 'a small day still shows');
  assert.equal(columnChart([0, 0], 2), ['  ', '  ']);
});

const series: SeriesDay[] = Array.from({ length: 30 }, (_, i) => ({
  date: `2026-11-${String(6 + i).padStart(2, '0')}`.replace(/-11-(3[1-9])$/, (_m, d) => `-12-${String(Number(d) - 30).padStart(2, '0')}`),
  runs: i === 29 ? 4 : i % 7 === 0 ? 2 : 0,
  failures: i === 29 ? 1 : 0,
  bytes: i === 29 ? 3 * GB : 0,
}));

test('the series charts are one column per day, titled with their largest day', () => {
  const charts = seriesCharts(series, 3);
  assert.equal(charts.map((chart) => chart.title), ['runs/day (top 4)', 'failures/day (top 1)', 'bytes/day (top 3.0 GB)']);
  for (const chart of charts) {
    assert.is(chart.lines.length, 3);
    for (const line of chart.lines) assert.is([...line].length, 30);
  }
  assert.equal(charts[0].lines.map((line) => line[0]), [' ', '▄', '█'], 'day 1 had 2 of the top 4 runs: half the height');
  assert.is(charts[1].lines[0].at(-1), '█', 'today has the top failure count');
});

test('the charts sit side by side over a date axis, as many as the width takes', () => {
  const wide = historyChartText(series, 120).split('\n');
  assert.is(wide.length, 5);
  assert.match(wide[0], /runs\/day \(top 4\)\s+failures\/day \(top 1\)\s+bytes\/day/);
  assert.match(wide[4], /^11-06\s+12-05\s+11-06/);
  const narrow = historyChartText(series, 76).split('\n');
  assert.is(narrow.length, 5, 'the charts keep their height');
  assert.match(narrow[0], /runs\/day \(top 4\)\s+failures\/day \(top 1\)$/, 'at 80 columns: runs and failures');
  assert.ok(narrow.every((line) => line.length <= 76));
  assert.match(historyChartText(series, 20), /^runs\/day/, 'at least the runs chart');
  assert.is(historyChartText([], 80), 'no history yet');
  assert.match(historyChartText(series, 120, 3, tagged), /\{red-fg\}/, 'failures in red');
});

test('the 30 days add up in one line', () => {
  assert.is(seriesTotals(series), '30 days: 14 runs, 1 failed, 3.0 GB');
});

// ── cross-job runs ────────────────────────────────────────────────────────────────────────────

const run = (overrides: Partial<Run> = {}): Run => ({
  id: 7,
  job_id: 1,
  job_name: 'Photos',
  status: 'failed',
  trigger: 'scheduled',
  schedule_id: 1,
  created_at: '2026-12-05T09:00:00Z',
  started_at: '2026-12-05T09:00:00Z',
  completed_at: '2026-12-05T10:00:00Z',
  files_transferred: 2,
  bytes_transferred: 1024,
  files_deleted: 0,
  error_message: 'Server gone',
  verify: null,
  ...overrides,
});

test('a run of any job shows its job, then its status, trigger, age and error', () => {
  assert.is(historyRunLine(run(), undefined, now, 8), 'Photos   #7 failed    scheduled 2h ago  2 files 1.0 KB  Server gone');
  assert.is(historyRunLine(run({ job_name: 'A very long job name' }), undefined, now, 8).slice(0, 9), 'A very … ');
});

test('the page line says which runs are shown of how many, under which filter', () => {
  assert.is(runsPageText({ offset: 0, shown: 50, total: 230 }, null), 'runs 1–50 of 230 · all');
  assert.is(runsPageText({ offset: 50, shown: 3, total: 53 }, 'failed'), 'runs 51–53 of 53 · failed');
  assert.is(runsPageText({ offset: 0, shown: 0, total: 0 }, 'failed'), 'no failed runs');
  assert.is(runsPageText({ offset: 0, shown: 0, total: 0 }, null), 'no runs');
});

test('the status filter cycles through every status and back to all', () => {
  const seen = [null as string | null];
  let filter = nextStatusFilter(null);
  while (filter !== null) {
    seen.push(filter);
    filter = nextStatusFilter(filter);
  }
  assert.equal(seen, [null, 'failed', 'completed', 'cancelled', 'running']);
});

// ── channels ──────────────────────────────────────────────────────────────────────────────────

const email: ChannelKind = {
  kind: 'email',
  name: 'Email',
  description: 'Mail through an SMTP server',
  fields: [
    { name: 'host', required: true, secret: false, type: 'text' },
    { name: 'port', required: false, secret: false, type: 'number' },
    { name: 'allow_invalid_certificate', required: false, secret: false, type: 'boolean' },
    { name: 'password', required: false, secret: true, type: 'text' },
    { name: 'to', required: true, secret: false, type: 'list' },
  ],
};
const telegram: ChannelKind = {
  kind: 'telegram',
  name: 'Telegram',
  description: 'A Telegram bot',
  fields: [
    { name: 'bot_token', required: true, secret: true, type: 'text' },
    { name: 'chat_id', required: true, secret: false, type: 'number_or_text' },
  ],
};
const stored: Channel = {
  id: 3,
  name: 'Mail',
  kind: 'email',
  enabled: true,
  config: { host: 'mail.lan', port: 587, allow_invalid_certificate: false, to: ['me@x.org', 'you@x.org'] },
  secrets_set: ['password'],
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

test('the channel list shows id, on/off, kind and name', () => {
  assert.equal(channelLines([stored, { ...stored, id: 12, enabled: false, kind: 'ntfy', name: 'Phone' }]), ['  3  on   email     Mail', ' 12  off  ntfy      Phone']);
});

test('the form starts with stored values; a secret starts empty, typed without echo, labelled set or not set', () => {
  const fields = channelFormFields(email, stored);
  assert.equal(fields.map((field) => [field.label, field.value, field.secret === true]), [
    ['name', 'Mail', false],
    ['host', 'mail.lan', false],
    ['port', '587', false],
    ['allow_invalid_certificate', 'no', false],
    ['password [set]', '', true],
    ['to', 'me@x.org, you@x.org', false],
  ]);
  assert.match(fields[4].help!, /leave empty to keep it/);
  const fresh = channelFormFields(telegram, null);
  assert.equal(fresh.map((field) => [field.label, field.value]), [['name', ''], ['bot_token [not set]', ''], ['chat_id', '']]);
  assert.ok(fields.every((field) => !field.value.includes('secret')), 'no secret value anywhere');
});

test('typed text is sent as each field’s JSON type: numbers, yes/no, comma lists; chat ids stay text', () => {
  const values = { name: 'Mail', host: ' smtp.lan ', port: '465', allow_invalid_certificate: 'yes', password: 'hunter2', to: 'a@x.org, b@x.org,' };
  assert.equal(channelConfigOf(email, values, null), { host: 'smtp.lan', port: 465, allow_invalid_certificate: true, password: 'hunter2', to: ['a@x.org', 'b@x.org'] });
  assert.equal(channelConfigOf(telegram, { bot_token: '1:AA', chat_id: '-1001234567890123456' }, null), { bot_token: '1:AA', chat_id: '-1001234567890123456' });
  assert.equal(channelConfigOf(email, { host: 'h', port: 'x25', to: 'a@x.org' }, null).port, 'x25', 'a bad number goes as typed, for the API to name');
});

test('on an edit an empty secret is kept (left out) and an emptied field that had a value is removed (null)', () => {
  const values = { name: 'Mail', host: 'mail.lan', port: '', allow_invalid_certificate: 'no', password: '', to: 'me@x.org' };
  assert.equal(channelConfigOf(email, values, stored), { host: 'mail.lan', port: null, allow_invalid_certificate: false, to: ['me@x.org'] });
  assert.equal(channelConfigOf(email, { host: 'h', to: 'a@x.org' }, null), { host: 'h', to: ['a@x.org'] }, 'on create, empty fields are left out');
});

test('an API error is put next to the field it names', () => {
  assert.is(channelFieldOfError(email, 'config: "port" must be a number'), 'port');
  assert.is(channelFieldOfError(email, 'A channel named "Mail" exists'), 'name');
});

test('the answer to a send test says what the service said, red when it refused', () => {
  assert.is(testAnswerText('Phone', { ok: true, status: 200, detail: '{"id":"abc"}' }), 'Phone: test delivered (200: {"id":"abc"})');
  assert.is(testAnswerText('Phone', { ok: false, status: 401, detail: 'unauthorized' }, tagged), '{red-fg}Phone: test failed (401: unauthorized){/red-fg}');
  assert.is(testAnswerText('Mail', { ok: false, status: null, detail: 'connect ECONNREFUSED 127.0.0.1:1' }), 'Mail: test failed (no answer: connect ECONNREFUSED 127.0.0.1:1)');
});

test('the alert history shows when, what, for which job, to which channel and the answer; refusals in red with why', () => {
  const alert = (overrides: Partial<AlertRecord>): AlertRecord => ({
    id: 1,
    event: 'failure',
    channel_id: 1,
    channel_name: 'Phone',
    channel_kind: 'ntfy',
    job_id: 1,
    job_name: 'Photos',
    ok: true,
    status: 200,
    detail: 'ok',
    title: 'Photos failed',
    sent_at: '2026-12-05T09:00:00Z',
    ...overrides,
  });
  const [sent, refused, test] = alertLines([alert({}), alert({ ok: false, status: 500, detail: 'boom' }), alert({ event: 'test', job_name: null, sent_at: '2026-12-05T11:59:50Z' })], tagged, now);
  assert.is(sent, '3h ago   failure       Photos         → Phone          ok 200');
  assert.is(refused, '{red-fg}3h ago   failure       Photos         → Phone          FAILED 500 boom{/red-fg}');
  assert.match(test, /^just now test {10}— {14}→ Phone/, "a test has no job");
});

// ── keys ──────────────────────────────────────────────────────────────────────────────────────

test('no key does two things on one screen (the history and channels screens’ keys included)', () => {
  const screens = new Set(KEYS.flatMap((key) => key.screens));
  for (const screen of screens as Set<Screen>) {
    const seen = new Map<string, string>();
    for (const entry of KEYS.filter((key) => key.screens.includes(screen))) {
      for (const name of entry.keys) {
        assert.is(seen.get(name), undefined, `on ${screen}, ${name} is both ${seen.get(name)} and ${entry.action}`);
        seen.set(name, entry.action);
      }
    }
  }
  assert.ok(screens.has('history') && screens.has('channels'));
});

test.run();
