/**
 * The TUI's health, history and alerts in tmux against a real daemon (issue 15 item 7): a failing
 * job's badge, the history screen with an older run's log, a channel added by its form and its
 * "send test" answered by a real HTTP receiver on 127.0.0.1; and, through a proxy that counts what
 * the UI asks, the new screens at rest ask nothing.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCountingProxy, type CountingProxy } from '../counting-proxy.ts';
import { ApiClient, createJob, finishedRun, spawnDaemonProcess, tempDir, type DaemonProcess } from '../helpers.ts';
import { ntfyService, startHttpReceiver, type HttpReceiver } from '../integration/notifications/receivers.ts';
import { act, fillField, killSession, launchTui, logIn, newSessionName, press, screenOf, shows, type } from '../tmux-tui.ts';

interface Context {
  daemon: DaemonProcess;
  api: ApiClient;
  proxy: CountingProxy;
  receiver: HttpReceiver;
  session: string;
  /** Documents' two runs, oldest first. */
  documentRuns: number[];
}

const NTFY_TOKEN = 'tk_tui-alerts-token-never-shown';
const alerts = suite<Context>('tui alerts and history');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

alerts.before.each(async (context) => {
  context.daemon = await spawnDaemonProcess(tempDir());
  context.api = new ApiClient(context.daemon.url);
  await context.api.setupAdmin();
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'first-letter.txt'), 'hello');
  const documents = await createJob(context.api, { name: 'Documents', source_dirs: [source] });
  context.documentRuns = [];
  for (const file of ['first-letter.txt', 'second-letter.txt']) {
    writeFileSync(path.join(source, file), file);
    const runId = (await context.api.post(`/api/jobs/${documents.id}/run`)).body.run_id;
    await finishedRun(context.api, runId);
    context.documentRuns.push(runId);
  }
  // A job whose source has gone: each run fails naming it.
  const gone = path.join(tempDir(), 'camera');
  mkdirSync(gone);
  const broken = await createJob(context.api, { name: 'Camera', source_dirs: [gone] });
  rmSync(gone, { recursive: true });
  for (let i = 0; i < 2; i++) {
    const run = await finishedRun(context.api, (await context.api.post(`/api/jobs/${broken.id}/run`)).body.run_id);
    assert.is(run.status, 'failed');
  }
  context.receiver = await startHttpReceiver(ntfyService(NTFY_TOKEN));
  context.proxy = await startCountingProxy(context.daemon.url);
  context.session = newSessionName('cairn-tui-alerts');
  launchTui(context.session, context.proxy.url, { width: 120, height: 40 });
  await logIn(context);
  await shows(context, 'Documents');
});

alerts.after.each(async (context) => {
  killSession(context);
  await context.proxy.stop();
  // The daemon first: it may keep a connection to the receiver open, which the receiver's close would wait for.
  await context.daemon.kill();
  await context.receiver.close();
});

alerts('a failing job is badged, the history charts the days and opens an older run’s log, and a channel’s test is answered', async (context) => {
  await shows(context, /Camera .*failed FAILING ×2/);
  assert.not.match(screenOf(context), /Documents .*FAILING/, 'the healthy job has no badge');

  act(context, 'run-history');
  await shows(context, /runs\/day \(top 4\)/);
  assert.match(screenOf(context), /failures\/day \(top 2\)/);
  assert.match(screenOf(context), /30 days: 4 runs, 2 failed/);
  await shows(context, /runs 1–4 of 4 · all/);
  // Newest first: Camera twice, then Documents' newer run, then its older one.
  press(context, 'Down', 'Down', 'Down');
  act(context, 'open-run-log');
  const older = context.documentRuns[0];
  await shows(context, new RegExp(`Documents · run ${older} · completed`));
  await shows(context, 'documents/first-letter.txt');
  act(context, 'back');
  await shows(context, /runs 1–4 of 4 · all/);
  act(context, 'filter-status');
  await shows(context, /runs 1–2 of 2 · failed/);
  assert.match(screenOf(context), /Camera\s+#\d+ failed/);
  act(context, 'close-screen');
  await shows(context, /Camera .*FAILING ×2/);

  // The form sends typed text as the JSON type each field's kind names.
  const email = (await context.api.get('/api/notifications/kinds')).body.find((kind: any) => kind.kind === 'email');
  assert.equal(Object.fromEntries(email.fields.map((field: any) => [field.name, field.type])), {
    host: 'text', port: 'number', security: 'text', allow_invalid_certificate: 'boolean', username: 'text', password: 'text', from: 'text', to: 'list',
  });
  act(context, 'alerts');
  await shows(context, 'no channels yet');
  act(context, 'new-channel');
  await fillField(context, 'Kind', 'ntfy');
  await fillField(context, 'name', 'Phone');
  await fillField(context, 'base_url', context.receiver.url);
  await fillField(context, 'topic', 'cairn-tui');
  await fillField(context, 'priority', '');
  await shows(context, '› token [not set]:');
  type(context, NTFY_TOKEN);
  assert.not.match(screenOf(context), /tui-alerts-token/, 'the secret is not echoed');
  press(context, 'Enter');
  await shows(context, /on\s+ntfy\s+Phone/);
  act(context, 'test-channel');
  await shows(context, /Phone: test delivered \(200: \{"id":"abc123".*"topic":"cairn-tui"/);
  assert.is(context.receiver.requests.length, 1);
  assert.is(context.receiver.requests[0].headers.authorization, `Bearer ${NTFY_TOKEN}`, 'the token typed was saved');
  await shows(context, /test\s+—\s+→ Phone\s+ok 200/);

  act(context, 'edit-channel');
  await fillField(context, 'name', '');
  await fillField(context, 'base_url', '');
  await fillField(context, 'topic', '');
  await fillField(context, 'priority', '');
  await shows(context, '› token [set]:');
  press(context, 'Enter');
  await shows(context, 'saved Phone');
  assert.not.match(screenOf(context), /tui-alerts-token/);
  // The refusal is an answer too: the receiver now wants another token.
  context.receiver.failWith({ status: 401, body: { code: 40101, http: 401, error: 'unauthorized' } });
  act(context, 'test-channel');
  await shows(context, /Phone: test failed \(401: .*unauthorized/);
  assert.is(context.receiver.requests[1].headers.authorization, `Bearer ${NTFY_TOKEN}`, 'an edit that left the secret empty kept it');
  const channels = (await context.api.get('/api/notifications/channels')).body;
  assert.equal(channels.map((channel: any) => [channel.name, channel.kind, channel.config.topic, channel.secrets_set]), [['Phone', 'ntfy', 'cairn-tui', ['token']]]);
  act(context, 'close-screen');
  await shows(context, 'Documents');
});

alerts('at rest, the dashboard with its badges, the history screen and the channels screen ask the daemon for nothing', async (context) => {
  await shows(context, /Camera .*FAILING ×2/);
  const idle = async (where: string) => {
    await sleep(1500);
    context.proxy.reset();
    await sleep(5000);
    assert.ok(context.proxy.requests.length <= 1, `${where}: ${context.proxy.requests.length} requests in 5 s of idling: ${context.proxy.requests.slice(0, 10).join(', ')}`);
  };
  await idle('dashboard');
  act(context, 'run-history');
  await shows(context, /runs 1–4 of 4 · all/);
  await idle('history');
  act(context, 'close-screen');
  await shows(context, 'Documents');
  act(context, 'alerts');
  await shows(context, 'no channels yet');
  await idle('channels');
  // Opening a screen asks what it shows, once: no request storm on arrival either.
  context.proxy.reset();
  act(context, 'close-screen');
  await shows(context, 'Documents');
  act(context, 'run-history');
  await shows(context, /runs 1–4 of 4 · all/);
  await sleep(1000);
  const asked = context.proxy.requests.filter((request) => /^GET \/api\/(runs|dashboard)/.test(request));
  assert.ok(asked.length <= 4, `opening the history asked: ${context.proxy.requests.join(', ')}`);
});

alerts.run();
