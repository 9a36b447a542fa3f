/**
 * Bad input to the routes added with repository jobs and remote self-export — the recovery kit and
 * `POST /api/system/import/destination` — gets a 4xx in the error shape and changes nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';

const bad = suite<{ daemon: TestDaemon; admin: ApiClient }>('new routes and bad input');

bad.before(async (context) => {
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
});
bad.after(async ({ daemon }) => daemon.stop());

function refused(answer: { status: number; body: any }, what: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.ok(isErrorShape(answer.body), `${what}: ${JSON.stringify(answer.body)}`);
}

bad('the recovery kit: an unknown job, a bad id, a mirror job, a bad format', async ({ admin }) => {
  refused(await admin.get('/api/jobs/99999/recovery-kit'), 'unknown job');
  refused(await admin.get('/api/jobs/abc/recovery-kit'), 'id not a number');
  const mirror = await admin.post('/api/jobs', {
    name: 'Mirror only',
    source_dirs: [tempDir()],
    destination_type: 'local',
    destination_config: { mount_point: tempDir(), backup_subdir: '' },
  });
  assert.is(mirror.status, 201, JSON.stringify(mirror.body));
  refused(await admin.get(`/api/jobs/${mirror.body.id}/recovery-kit`), 'a mirror job has no repository');
  const repository = await admin.post('/api/jobs', {
    name: 'Repository',
    source_dirs: [tempDir()],
    destination_type: 'local',
    destination_config: { mount_point: tempDir(), backup_subdir: 'repo' },
    backup_mode: 'repository',
  });
  assert.is(repository.status, 201, JSON.stringify(repository.body));
  refused(await admin.get(`/api/jobs/${repository.body.id}/recovery-kit?format=pdf`), 'unknown format');
  refused(await admin.get(`/api/jobs/${repository.body.id}/recovery-kit?format=${'x'.repeat(10_000)}`), 'a huge format');
});

bad('import from a destination: wrong types, missing fields, an unknown type, a path the filesystem refuses', async ({ admin }) => {
  const good = { destination_type: 'sftp', destination_config: { host: '127.0.0.1', port: 1, username: 'u', remote_path: '/x' }, credential_data: { password: 'p' }, passphrase: 'a passphrase long enough' };
  const bodies: Array<[string, unknown]> = [
    ['no body', undefined],
    ['an array', [good]],
    ['passphrase missing', { ...good, passphrase: undefined }],
    ['passphrase a number', { ...good, passphrase: 12345678901234 }],
    ['destination_type missing', { ...good, destination_type: undefined }],
    ['an unknown type', { ...good, destination_type: 'floppy' }],
    ['config a string', { ...good, destination_config: 'sftp://x' }],
    ['config with an unknown key', { ...good, destination_config: { ...good.destination_config, shell: 'rm -rf /' } }],
    ['credential a list', { ...good, credential_data: ['p'] }],
    ['replace not a boolean', { ...good, replace: 'yes' }],
    ['a local folder through a symlink loop', { ...good, destination_type: 'local', destination_config: { mount_point: '/tmp/loop/loop' }, credential_data: null }],
    ['a name too long', { ...good, destination_type: 'local', destination_config: { mount_point: `/tmp/${'n'.repeat(300)}` }, credential_data: null }],
  ];
  const jobsBefore = (await admin.get('/api/jobs')).body.length;
  for (const [what, body] of bodies) refused(await admin.post('/api/system/import/destination', body), what);
  assert.is((await admin.get('/api/jobs')).body.length, jobsBefore, 'no job was imported');
  assert.equal((await admin.get('/api/credentials')).body, [], 'nothing was saved');
});

bad.run();
