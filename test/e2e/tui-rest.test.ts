/**
 * The terminal UI at rest: in tmux against a real daemon, through a proxy that counts what the UI
 * asks. Idle, it asks nothing; moving the selection costs at most one request per key; with the
 * daemon gone it tries again at a growing interval instead of in a loop (issue 11).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCountingProxy, type CountingProxy } from '../counting-proxy.ts';
import { ApiClient, createJob, spawnDaemonProcess, tempDir, type DaemonProcess } from '../helpers.ts';
import { killSession, launchTui, logIn, newSessionName, press, shows } from '../tmux-tui.ts';
import { waitFor } from '../trees.ts';

interface Context {
  daemon: DaemonProcess;
  api: ApiClient;
  proxy: CountingProxy;
  session: string;
}

const JOBS = 6;
const rest = suite<Context>('tui at rest');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runsRequests = (proxy: CountingProxy) => proxy.requests.filter((request) => /^GET \/api\/jobs\/\d+\/runs/.test(request));

rest.before.each(async (context) => {
  context.daemon = await spawnDaemonProcess(tempDir());
  context.api = new ApiClient(context.daemon.url);
  await context.api.setupAdmin();
  const source = path.join(tempDir(), 'documents');
  mkdirSync(source);
  writeFileSync(path.join(source, 'notes.txt'), 'hello');
  let last = 0;
  for (let i = 1; i <= JOBS; i++) {
    last = (await createJob(context.api, { name: `Job ${i}`, source_dirs: [source] })).id;
  }
  // The last job has a run, so the Runs box shows when its runs have arrived.
  const runId = (await context.api.post(`/api/jobs/${last}/run`)).body.run_id;
  await waitFor('the run to end', async () => (await context.api.get(`/api/runs/${runId}`)).body.status === 'completed');
  context.proxy = await startCountingProxy(context.daemon.url);
  context.session = newSessionName();
  launchTui(context.session, context.proxy.url);
  await logIn(context);
  await shows(context, `Job ${JOBS}`);
  await shows(context, / live/);
  // What the dashboard asks for on arrival is not the point here.
  await sleep(1500);
  context.proxy.reset();
});

rest.after.each(async (context) => {
  killSession(context);
  await context.proxy.stop();
  await context.daemon.kill();
});

rest('idle on the dashboard, the TUI asks the daemon for nothing', async ({ proxy }) => {
  await sleep(5000);
  assert.ok(proxy.requests.length <= 1, `${proxy.requests.length} requests in 5 s of idling: ${proxy.requests.slice(0, 10).join(', ')}`);
});

rest('idle with the second job selected, it still asks for nothing', async (context) => {
  press(context, 'Down');
  await sleep(1000);
  context.proxy.reset();
  await sleep(5000);
  assert.ok(context.proxy.requests.length <= 1, `${context.proxy.requests.length} requests in 5 s of idling: ${context.proxy.requests.slice(0, 10).join(', ')}`);
});

rest('moving the selection asks for at most one job’s runs per key', async (context) => {
  const presses = JOBS - 1;
  // Faster than the debounce (one send-keys, so a loaded machine cannot space them out): the runs of
  // the job it stops on, not of each one passed.
  press(context, ...Array<string>(presses).fill('Down'));
  await shows(context, /#\d+ completed manual/);
  await sleep(1000);
  const quick = runsRequests(context.proxy).length;
  assert.ok(quick >= 1 && quick <= 2, `${quick} runs requests for ${presses} quick presses`);
  assert.is(context.proxy.requests.length, quick, `only runs were asked for: ${context.proxy.requests.join(', ')}`);

  // Slower than the debounce: one each.
  context.proxy.reset();
  for (let i = 0; i < presses; i++) {
    press(context, 'Up');
    await sleep(400);
  }
  await shows(context, 'no runs yet');
  await sleep(1000);
  const slow = runsRequests(context.proxy).length;
  assert.ok(slow >= 1 && slow <= presses, `${slow} runs requests for ${presses} slow presses`);
  assert.is(context.proxy.requests.length, slow, `only runs were asked for: ${context.proxy.requests.join(', ')}`);
});

rest('with the daemon stopped, the TUI tries again at a growing interval, then comes back', async (context) => {
  const port = new URL(context.daemon.url).port;
  const dataDir = context.daemon.dataDir;
  await context.daemon.kill();
  await shows(context, 'reconnecting');
  context.proxy.reset();
  await sleep(10_000);
  // At 1, 3 and 7 s after the loss (the next at 15 s); a loop would make hundreds.
  assert.ok(context.proxy.connections() <= 5, `${context.proxy.connections()} connection attempts in 10 s: ${context.proxy.requests.slice(0, 10).join(', ')}`);
  context.daemon = await spawnDaemonProcess(dataDir, { CAIRN_PORT: port });
  await shows(context, / live/, 40_000);
  await shows(context, `Job ${JOBS}`);
});

rest.run();
