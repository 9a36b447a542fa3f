import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultNotifyRules } from '../../../src/domain/notifications.ts';
import { systemTimezone } from '../../../src/domain/settings.ts';
import { isErrorShape, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';

const settings = suite<{ daemon: TestDaemon; client: ApiClient }>('settings');

settings.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
settings.after.each(async ({ daemon }) => {
  await daemon.stop();
});

settings('a fresh box has the documented defaults, in the system time zone', async ({ client }) => {
  const response = await client.get('/api/settings');
  assert.is(response.status, 200);
  assert.equal(response.body, { max_runs_per_job: 10, theme: 'dark', timezone: systemTimezone(), max_concurrent_runs: 2, notify: defaultNotifyRules(), cors_origins: [], audit_max_entries: 10_000, export_passphrase_set: false });
});

settings('a PUT changes what it names and leaves the rest unchanged', async ({ client }) => {
  const first = await client.put('/api/settings', { max_runs_per_job: 20 });
  assert.is(first.status, 200);
  assert.equal(first.body, { max_runs_per_job: 20, theme: 'dark', timezone: systemTimezone(), max_concurrent_runs: 2, notify: defaultNotifyRules(), cors_origins: [], audit_max_entries: 10_000, export_passphrase_set: false });
  const second = await client.put('/api/settings', { timezone: 'Europe/Berlin', theme: 'light', max_concurrent_runs: 16, notify: defaultNotifyRules() });
  assert.equal(second.body, { max_runs_per_job: 20, theme: 'light', timezone: 'Europe/Berlin', max_concurrent_runs: 16, notify: defaultNotifyRules(), cors_origins: [], audit_max_entries: 10_000, export_passphrase_set: false });
  assert.equal((await client.get('/api/settings')).body, second.body);
});

settings('out-of-range values, unknown time zones and unknown keys are 400s that change nothing', async ({ client }) => {
  await client.put('/api/settings', { max_runs_per_job: 7 });
  const before = (await client.get('/api/settings')).body;
  const bad: Array<Record<string, unknown>> = [
    { max_runs_per_job: 0 },
    { max_runs_per_job: 1001 },
    { max_runs_per_job: 2.5 },
    { max_runs_per_job: '20' },
    { max_concurrent_runs: 0 },
    { max_concurrent_runs: 17 },
    { timezone: 'Mars/Olympus_Mons' },
    { timezone: '' },
    { theme: 'neon' },
    { max_runs_per_job: 20, colour: 'blue' },
  ];
  for (const body of bad) {
    const response = await client.put('/api/settings', body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), JSON.stringify(response.body));
  }
  assert.equal((await client.get('/api/settings')).body, before);
});

settings('the time zone error says what is expected', async ({ client }) => {
  const response = await client.put('/api/settings', { timezone: 'Nowhere/Special' });
  assert.match(response.body.message, /IANA time zone/);
});

settings('settings survive a restart', async ({ daemon, client }) => {
  await client.put('/api/settings', { max_runs_per_job: 42, timezone: 'America/New_York' });
  await daemon.stop();
  const restarted = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    const again = restarted.client();
    again.cookie = client.cookie;
    const response = await again.get('/api/settings');
    assert.is(response.body.max_runs_per_job, 42);
    assert.is(response.body.timezone, 'America/New_York');
  } finally {
    await restarted.stop();
  }
});

settings.run();
