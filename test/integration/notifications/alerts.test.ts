import { mkdirSync, rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';
import { ntfyService, startHttpReceiver, startSmtpRecorder, type HttpReceiver } from './receivers.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  ntfy: HttpReceiver;
  /** How far the alert clock is ahead of the real one. */
  clock: { ahead: number };
  channelId: number;
}

const alerts = suite<Context>('alert rules');

alerts.before.each(async (context) => {
  context.clock = { ahead: 0 };
  const clock = context.clock;
  context.daemon = await startTestDaemon({}, { alertClock: () => new Date(Date.now() + clock.ahead), overdueCheckMs: 50 });
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.ntfy = await startHttpReceiver(ntfyService(null));
  const channel = await context.client.post('/api/notifications/channels', { name: 'Phone', kind: 'ntfy', config: { base_url: context.ntfy.url, topic: 'backups' } });
  context.channelId = channel.body.id;
  await context.client.put('/api/settings', { timezone: 'Europe/Berlin', notify: { channel_ids: [context.channelId] } });
});
alerts.after.each(async ({ daemon, ntfy }) => {
  await daemon.stop();
  await ntfy.close();
});

async function runJob(client: ApiClient, jobId: number): Promise<any> {
  const started = await client.post(`/api/jobs/${jobId}/run`);
  if (started.status !== 201 && started.status !== 200 && started.status !== 202) throw new Error(`run not started: ${started.status} ${JSON.stringify(started.body)}`);
  return finishedRun(client, started.body.run_id ?? started.body.id);
}

/** Waits until the receiver has `count` messages, and returns the messages. */
function messages(ntfy: HttpReceiver, count: number): Promise<any[]> {
  return waitFor(`${count} alert(s)`, () => (ntfy.requests.length >= count ? ntfy.requests.map((request) => request.json) : null));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

alerts('a job failing 5 times in a row alerts once with its name, error and time, repeats after a day, and recovery alerts once', async ({ client, ntfy, clock }) => {
  const source = tempDir('cairn-source-');
  const job = await createJob(client, { name: 'Photos to NAS', source_dirs: [source] });
  rmSync(source, { recursive: true });

  const first = await runJob(client, job.id);
  assert.is(first.status, 'failed');
  const [failure] = await messages(ntfy, 1);
  assert.is(failure.title, 'Backup "Photos to NAS" failed');
  assert.ok(failure.message.includes(first.error_message), `the error is in the message: ${failure.message}`);
  assert.match(failure.message, /Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST|GMT\+1|GMT\+2)/);
  assert.match(failure.message, /Box: \S+/);

  for (let attempt = 2; attempt <= 5; attempt++) assert.is((await runJob(client, job.id)).status, 'failed');
  // A day later it still fails: one reminder. Alerts are decided one at a time, so once the reminder
  // is here, the four failures before it have been decided too.
  clock.ahead = DAY + HOUR;
  await runJob(client, job.id);
  const afterDay = await messages(ntfy, 2);
  assert.is(ntfy.requests.length, 2, 'five failures in a row and a reminder: two alerts');
  assert.match(afterDay[1].message, /has not been fixed since/);

  mkdirSync(source);
  assert.is((await runJob(client, job.id)).status, 'completed');
  const recovered = await messages(ntfy, 3);
  assert.is(recovered[2].title, 'Backup "Photos to NAS" works again');
  assert.is((await runJob(client, job.id)).status, 'completed');
  rmSync(source, { recursive: true });
  await runJob(client, job.id);
  const all = await messages(ntfy, 4);
  assert.equal(
    all.map((message) => message.tags[0]),
    ['failure', 'failure', 'recovery', 'failure'],
    'the second success in a row said nothing; a new failure alerts at once',
  );

  const history = (await client.get(`/api/notifications/history?job_id=${job.id}&limit=2&offset=1`)).body;
  assert.is(history.total, 4);
  assert.equal({ limit: history.limit, offset: history.offset }, { limit: 2, offset: 1 });
  assert.equal(
    history.items.map((item: any) => [item.event, item.job_name, item.channel_name, item.ok]),
    [
      ['recovery', 'Photos to NAS', 'Phone', true],
      ['failure', 'Photos to NAS', 'Phone', true],
    ],
    'newest first',
  );
});

alerts('a job override picks its own channel and rules; on_success alerts every success', async ({ client, ntfy }) => {
  const other = await startHttpReceiver(ntfyService(null));
  try {
    const channel = await client.post('/api/notifications/channels', { name: 'Team', kind: 'ntfy', config: { base_url: other.url, topic: 'team' } });
    const job = await createJob(client, { name: 'Docs', notify: { channel_ids: [channel.body.id], on_success: true } });
    assert.equal(job.notify, { channel_ids: [channel.body.id], on_success: true });
    await runJob(client, job.id);
    await runJob(client, job.id);
    const sent = await waitFor('two success alerts', () => (other.requests.length >= 2 ? other.requests : null));
    assert.equal(sent.map((request) => request.json.title), ['Backup "Docs" completed', 'Backup "Docs" completed']);
    assert.is(ntfy.requests.length, 0, 'the default channel is not used by a job that overrides it');
    const bad = await client.put(`/api/jobs/${job.id}`, { notify: { channel_ids: [99] } });
    assert.is(bad.status, 400);
    assert.is(bad.body.code, 'CHANNEL_NOT_FOUND');
    const badRule = await client.put(`/api/jobs/${job.id}`, { notify: { overdue_hours: 0 } });
    assert.is(badRule.status, 400);
    assert.equal((await client.get(`/api/jobs/${job.id}`)).body.notify, job.notify, 'refused changes change nothing');
  } finally {
    await other.close();
  }
});

alerts('a USB job whose drive is never plugged in is overdue once, says so, and repeats at most daily', async ({ client, ntfy, clock }) => {
  const job = await createJob(client, {
    name: 'USB photos',
    destination_config: { mount_point: tempDir('cairn-mnt-'), usb_uuid: '1234-ABCD' },
    notify: { overdue_hours: 72 },
  });
  await sleep(300);
  assert.is(ntfy.requests.length, 0, 'not overdue yet');
  clock.ahead = 14 * DAY;
  const [overdue] = await messages(ntfy, 1);
  assert.is(overdue.title, 'Backup drive for "USB photos" not plugged in for 14 days');
  assert.match(overdue.message, /The drive 1234-ABCD .* has not been plugged in for 14 days/);
  // The check keeps running every 50 ms; the problem is not announced again within the day.
  await sleep(500);
  assert.is(ntfy.requests.length, 1, 'overdue fires once, not in a loop');
  clock.ahead = 15 * DAY + HOUR;
  await messages(ntfy, 2);
  await sleep(500);
  assert.is(ntfy.requests.length, 2, 'one reminder a day');
  const history = (await client.get('/api/notifications/history')).body;
  assert.equal(
    history.items.map((item: any) => [item.event, item.job_id]),
    [
      ['overdue', job.id],
      ['overdue', job.id],
    ],
  );
});

alerts('a destination fuller than the threshold alerts once after a run', async ({ client, ntfy }) => {
  // Rules are read when a run's end is decided, so they are set before the runs.
  const job = await createJob(client, { name: 'Full', notify: { space_percent: 1, on_success: true } });
  await runJob(client, job.id);
  await runJob(client, job.id);
  const all = await messages(ntfy, 3);
  assert.match(all[1].title, /^Backup destination of "Full" is \d+% full$/);
  assert.equal(all.map((message) => message.tags[0]), ['success', 'space_low', 'success'], 'the second run did not repeat the space alert');
});

alerts('a failed run is mailed to the owner with the job name, the error and the time', async ({ client }) => {
  const smtp = await startSmtpRecorder();
  try {
    const mail = await client.post('/api/notifications/channels', {
      name: 'Mail',
      kind: 'email',
      config: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'cairn@box.example', to: ['owner@example.com'] },
    });
    const source = tempDir('cairn-source-');
    const job = await createJob(client, { name: 'Mail me', source_dirs: [source], notify: { channel_ids: [mail.body.id] } });
    rmSync(source, { recursive: true });
    const run = await runJob(client, job.id);
    const [message] = await waitFor('the mail', () => (smtp.messages.length > 0 ? smtp.messages : null));
    assert.is(message.subject, 'Backup "Mail me" failed');
    assert.equal(message.to, ['owner@example.com']);
    assert.ok(message.text.includes(run.error_message), message.text);
    assert.match(message.text, /Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  } finally {
    await smtp.close();
  }
});

alerts('a verify run that ends failed alerts "verify found damage" once (the run event as verify runs will send it)', async ({ client, daemon, ntfy }) => {
  const job = await createJob(client, { name: 'Checked' });
  // Verify runs arrive with another branch; this is the event they end with.
  const verifyRun = { id: 999, job_id: job.id, job_name: job.name, status: 'failed', trigger: 'verify', schedule_id: null, created_at: '', started_at: '', completed_at: '', error_message: '2 files differ from the manifest', files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  daemon.events.emit('run:finished', verifyRun as any);
  daemon.events.emit('run:finished', verifyRun as any);
  const [damage] = await messages(ntfy, 1);
  assert.is(damage.title, 'Verify of "Checked" found damage');
  assert.match(damage.message, /2 files differ from the manifest/);
  await sleep(300);
  assert.is(ntfy.requests.length, 1);
});

alerts.run();
