/**
 * Power-cut safety of the store: a daemon process is killed with SIGKILL while settings changes
 * stream in; after a restart the store opens and holds an acknowledged state.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, spawnDaemonProcess, tempDir } from '../helpers.ts';

const ROUNDS = 15;

test(`kill -9 during a stream of settings changes, ${ROUNDS} times: every restart opens the store with an acknowledged state`, async () => {
  const dataDir = tempDir();
  let daemon = await spawnDaemonProcess(dataDir);
  const admin = new ApiClient(daemon.url);
  await admin.setupAdmin();
  const token = admin.cookie!;

  let value = 0;
  let lastAcknowledged = 10; // the default
  const nextValue = () => (value % 1000) + 1;

  for (let round = 0; round < ROUNDS; round++) {
    const client = new ApiClient(daemon.url);
    client.bearer = token;
    let inFlight: number | null = null;
    let killed = false;
    const stream = (async () => {
      while (!killed) {
        const candidate = nextValue();
        inFlight = candidate;
        try {
          const response = await client.put('/api/settings', { max_runs_per_job: candidate });
          if (response.status !== 200) throw new Error(`PUT answered ${response.status}`);
          lastAcknowledged = candidate;
          value = candidate;
          inFlight = null;
        } catch (error) {
          if (!killed) throw error;
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 300));
    killed = true;
    await daemon.kill('SIGKILL');
    await stream;
    value = Math.max(value, inFlight ?? 0);

    daemon = await spawnDaemonProcess(dataDir);
    const checker = new ApiClient(daemon.url);
    checker.bearer = token;
    const settings = await checker.get('/api/settings');
    assert.is(settings.status, 200, `round ${round}: ${daemon.output()}`);
    const allowed = [lastAcknowledged, inFlight].filter((v) => v !== null);
    assert.ok(
      allowed.includes(settings.body.max_runs_per_job),
      `round ${round}: store holds ${settings.body.max_runs_per_job}, acknowledged ${lastAcknowledged}, in flight ${inFlight}`,
    );
    lastAcknowledged = settings.body.max_runs_per_job;
  }
  assert.ok(value > ROUNDS, 'changes were really streamed');
  await daemon.kill();
});

test.run();
