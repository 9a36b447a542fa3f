/**
 * The audit log as the owner reads it: who (username or key name) did what, from which address,
 * when; paged and filtered with a total; bounded by a setting; never a secret.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AUDIT_FILE } from '../../../src/audit/index.ts';
import { ADMIN, allFileText, createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const WRONG_PASSWORD = 'not the password at all';

const audit = suite<{ daemon: TestDaemon; owner: ApiClient }>('audit log');

audit.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.owner = context.daemon.client();
  await context.owner.setupAdmin();
});
audit.after.each(async ({ daemon }) => {
  await daemon.stop();
});

async function entries(owner: ApiClient, query = ''): Promise<any[]> {
  const response = await owner.get(`/api/audit?limit=1000${query}`);
  assert.is(response.status, 200, JSON.stringify(response.body));
  return response.body.entries;
}

/** The newest entry of `action`, which must exist. */
async function latest(owner: ApiClient, action: string): Promise<any> {
  const [entry] = await entries(owner, `&action=${encodeURIComponent(action)}`);
  assert.ok(entry, `no ${action} entry`);
  return entry;
}

audit('logins and failed logins are recorded with the username given and the address', async ({ daemon, owner }) => {
  const stranger = daemon.client();
  assert.is((await stranger.login({ username: 'admin', password: WRONG_PASSWORD })).status, 401);
  assert.is((await stranger.login()).status, 200);
  const [success, failure] = await entries(owner, '&action=auth.login');
  assert.equal(
    { action: failure.action, outcome: failure.outcome, status: failure.status, actor: failure.actor, actor_type: failure.actor_type, address: failure.address },
    { action: 'auth.login', outcome: 'failure', status: 401, actor: 'admin', actor_type: 'anonymous', address: '127.0.0.1' },
  );
  assert.is(success.outcome, 'success');
  assert.is(success.status, 200);
  assert.ok(Date.parse(success.at) >= Date.parse(failure.at));
  assert.is((await latest(owner, 'auth.setup')).actor, ADMIN.username);
});

audit('a login with 2FA is recorded as the password step, then the code step', async ({ daemon, owner }) => {
  const { recoveryCodes } = await owner.enableTotp();
  const phone = daemon.client();
  const step = await phone.login();
  assert.is(step.body.totp_required, true);
  assert.is((await phone.post('/api/auth/totp/recovery', { totp_token: step.body.totp_token, recovery_code: recoveryCodes[0] })).status, 200);
  const [second, first] = await entries(owner, '&actor=admin');
  assert.equal([first.action, first.outcome, first.actor_type], ['auth.login_totp_required', 'success', 'anonymous']);
  assert.equal([second.action, second.outcome, second.actor], ['auth.login_recovery', 'success', 'admin']);
  assert.equal(await entries(owner, '&action=auth.login'), [], 'no completed password-only login');
});

audit('creating, changing and deleting jobs, schedules, credentials, settings and keys are recorded by whom and on what', async ({ owner }) => {
  const job = await createJob(owner, { name: 'Photos' });
  await owner.put(`/api/jobs/${job.id}`, { name: 'Pictures' });
  const schedule = (await owner.post(`/api/jobs/${job.id}/schedules`, { schedule_type: 'daily', hour: 2, minute: 0 })).body;
  await owner.put(`/api/schedules/${schedule.id}`, { schedule_type: 'daily', hour: 3, minute: 0 });
  await owner.delete(`/api/schedules/${schedule.id}`);
  const credential = (await owner.post('/api/credentials', { name: 'AWS', provider_type: 's3', data: { access_key_id: 'AKIA', secret_access_key: SECRET } })).body;
  await owner.put(`/api/credentials/${credential.id}`, { name: 'AWS 2' });
  await owner.delete(`/api/credentials/${credential.id}`);
  await owner.put('/api/settings', { max_runs_per_job: 12 });
  const key = (await owner.post('/api/keys', { name: 'Phone', scope: 'read' })).body;
  await owner.delete(`/api/keys/${key.id}`);
  await owner.delete(`/api/jobs/${job.id}`);

  const expected: Array<[string, number | null]> = [
    ['job.create', job.id],
    ['job.update', job.id],
    ['schedule.create', schedule.id],
    ['schedule.update', schedule.id],
    ['schedule.delete', schedule.id],
    ['credential.create', credential.id],
    ['credential.update', credential.id],
    ['credential.delete', credential.id],
    ['settings.update', null],
    ['key.create', key.id],
    ['key.revoke', key.id],
    ['job.delete', job.id],
  ];
  const recorded = (await entries(owner)).reverse().filter((entry) => !entry.action.startsWith('auth.'));
  assert.equal(recorded.map((entry) => [entry.action, entry.target_id]), expected);
  for (const entry of recorded) {
    assert.is(entry.actor, 'admin');
    assert.is(entry.actor_type, 'session');
    assert.is(entry.address, '127.0.0.1');
    assert.is(entry.outcome, 'success');
  }
});

audit('a run started by hand and a restore are recorded under the key that asked, and a key reaching past its scope too', async ({ daemon, owner }) => {
  const job = await createJob(owner);
  const key = (await owner.post('/api/keys', { name: 'Night script', scope: 'operate' })).body.key;
  const script = daemon.client();
  script.bearer = key;
  const runId = (await script.post(`/api/jobs/${job.id}/run`)).body.run_id;
  await finishedRun(owner, runId);
  const restored = await script.post(`/api/jobs/${job.id}/restore`, { target_dir: tempDir('cairn-restore-') });
  assert.is(restored.status, 202, JSON.stringify(restored.body));
  assert.is((await script.delete(`/api/jobs/${job.id}`)).status, 403);

  const run = await latest(owner, 'run.start');
  assert.equal([run.actor, run.actor_type, run.target_id, run.address], ['Night script', 'key', job.id, '127.0.0.1']);
  const restore = await latest(owner, 'restore.start');
  assert.equal([restore.actor, restore.actor_type, restore.status], ['Night script', 'key', 202]);
  const refused = await latest(owner, 'job.delete');
  assert.equal([refused.actor, refused.outcome, refused.status], ['Night script', 'failure', 403]);
  assert.is((await owner.get(`/api/jobs/${job.id}`)).status, 200);
});

audit('the log is paged with a total and filtered by action, actor and time', async ({ daemon, owner }) => {
  const before = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 5; i++) await owner.put('/api/settings', { max_runs_per_job: 10 + i });
  const stranger = daemon.client();
  await stranger.login({ username: 'mallory', password: WRONG_PASSWORD });

  const page = await owner.get('/api/audit?action=settings.update&limit=2&offset=1');
  assert.is(page.body.total, 5);
  assert.is(page.body.entries.length, 2);
  assert.is(page.body.limit, 2);
  assert.is(page.body.offset, 1);
  const all = await entries(owner, '&action=settings.update');
  assert.equal(page.body.entries, all.slice(1, 3), 'newest first, offset 1');
  assert.equal((await entries(owner, '&actor=mallory')).map((e) => e.action), ['auth.login']);
  assert.is((await owner.get(`/api/audit?since=${encodeURIComponent(before)}`)).body.total, (await owner.get('/api/audit')).body.total);
  assert.is((await owner.get('/api/audit?until=2000-01-01T00:00:00Z')).body.total, 0);
  assert.is((await owner.get(`/api/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.total, 0);

  for (const bad of ['limit=0', 'limit=1001', 'offset=-1', 'since=yesterday', 'until=13', 'colour=blue']) {
    const response = await owner.get(`/api/audit?${bad}`);
    assert.is(response.status, 400, bad);
    assert.ok(isErrorShape(response.body, 'VALIDATION_FAILED'), bad);
  }
});

audit('no password, secret or key ever reaches the audit log', async ({ daemon, owner }) => {
  await daemon.client().login({ username: 'admin', password: WRONG_PASSWORD });
  await owner.post('/api/credentials', { name: 'AWS', provider_type: 's3', data: { access_key_id: 'AKIA', secret_access_key: SECRET } });
  const key = (await owner.post('/api/keys', { name: 'Phone', scope: 'read' })).body.key;
  await owner.post('/api/auth/change-password', { current_password: ADMIN.password, new_password: 'another good password' });
  await daemon.stop();
  const text = readFileSync(path.join(daemon.config.dataDir, AUDIT_FILE), 'utf8');
  assert.ok(text.includes('credential.create') && text.includes('auth.change_password'));
  for (const secret of [WRONG_PASSWORD, SECRET, key, ADMIN.password, 'another good password']) {
    assert.not.ok(text.includes(secret), secret);
  }
  assert.not.ok(allFileText(daemon.config.dataDir).includes(WRONG_PASSWORD));
});

audit('the log keeps the newest audit_max_entries entries, on disk too, across a restart', async ({ daemon, owner }) => {
  assert.is((await owner.put('/api/settings', { audit_max_entries: 100 })).status, 200);
  for (let i = 0; i < 130; i++) await owner.put('/api/settings', { max_runs_per_job: 1 + (i % 50) });
  const page = (await owner.get('/api/audit?limit=1000')).body;
  assert.is(page.total, 100);
  const newest = page.entries[0];
  await daemon.stop();
  const lines = readFileSync(path.join(daemon.config.dataDir, AUDIT_FILE), 'utf8').trim().split('\n');
  assert.ok(lines.length <= 110, `${lines.length} lines on disk`);

  const restarted = await startTestDaemon({ dataDir: daemon.config.dataDir });
  try {
    const client = restarted.client();
    await client.login();
    const after = (await client.get('/api/audit?limit=1000')).body;
    assert.is(after.total, 100);
    assert.equal(after.entries.find((entry: any) => entry.id === newest.id), newest);
    assert.ok(after.entries[0].id > newest.id, 'ids go on after a restart');
  } finally {
    await restarted.stop();
  }
});

audit('a read key cannot read the audit log', async ({ daemon, owner }) => {
  const reader = daemon.client();
  reader.bearer = (await owner.post('/api/keys', { name: 'Dashboard', scope: 'read' })).body.key;
  const response = await reader.get('/api/audit');
  assert.is(response.status, 403);
  assert.is(response.body.required_scope, 'admin');
});

audit.run();
