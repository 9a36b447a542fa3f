/**
 * The disaster of issue 16 item 7 when the backup is in the cloud: box A backs up to an SFTP server
 * (or S3) with an export passphrase set and leaves its sealed export beside the backup there; A's
 * data dir dies with the source; a fresh box B given the server's address, its credential and the
 * passphrase gets the job back (disabled), its credential working, and restores the files byte for
 * byte. Also: the file holds no secret in the clear, the next mirror run neither deletes nor sends
 * it, and a run whose export cannot be written still completes, with a warning.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, isErrorShape, runCli, startTestDaemon, tempDir, type ApiClient } from '../helpers.ts';
import { startS3Server, startSftpServer, startWebdavServer, type S3Server, type SftpServer } from '../servers.ts';
import { makeSampleTree } from '../trees.ts';
import { filesOf, logOf, runJob } from './disaster.ts';

const PASSPHRASE = 'the shed, behind the paint tins';
const disaster = suite<{ sftp: SftpServer; s3: S3Server }>('the box backs itself up to a remote destination');

disaster.before(async (context) => {
  context.sftp = await startSftpServer();
  context.s3 = await startS3Server();
});
disaster.after(async ({ sftp, s3 }) => {
  await sftp.stop();
  await s3.stop();
});


/** A source folder named `name` holding the sample tree, and the files a restore must give back. */
function sampleSource(name: string): { source: string; original: Record<string, string> } {
  const source = path.join(tempDir('cairn-home-'), name);
  mkdirSync(source);
  makeSampleTree(source);
  return { source, original: filesOf(source) };
}

disaster('box A dies; box B imports from the SFTP server with the passphrase, and the files come back byte for byte', async ({ sftp }) => {
  const { source, original } = sampleSource('Photos');
  const remotePath = path.join(sftp.root, 'pi-backups');
  const exportFile = path.join(remotePath, '.cairn-box-export');

  const boxA = await startTestDaemon();
  try {
    const a = boxA.client();
    await a.setupAdmin();
    const credential = await a.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: sftp.password } });
    const job = await createJob(a, {
      name: 'Photos to the NAS',
      source_dirs: [source],
      destination_type: 'sftp',
      destination_config: { host: sftp.host, port: sftp.port, username: sftp.username, remote_path: remotePath, key_based_auth: false },
      credential_id: credential.body.id,
      sync_options: { delete_extraneous: true },
    });
    assert.is((await a.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);

    const first = await runJob(a, job.id);
    assert.is(first.status, 'completed', first.error_message);
    assert.is(first.files_transferred, Object.keys(original).length, 'the export is not counted as a backed-up file');
    assert.ok(existsSync(exportFile), 'the export lands at the root of the backup on the server');
    const where = `sftp://${sftp.username}@${sftp.host}:${sftp.port}${remotePath}/.cairn-box-export`;
    assert.ok((await logOf(a, first.id)).includes(`info Box export written to ${where} (cairn import opens it with the export passphrase)`));
    const sealed = readFileSync(exportFile, 'latin1');
    assert.match(sealed, /^\{"format":"cairn-box-export"/);
    assert.not.ok(sealed.includes(sftp.password), 'the SFTP password is not in the file in the clear');

    // A mirror run with deletes on neither deletes the export nor sends it as a file of the backup.
    const second = await runJob(a, job.id);
    assert.is(second.status, 'completed', second.error_message);
    assert.equal([second.files_transferred, second.files_deleted], [0, 0]);
    assert.not.ok((await logOf(a, second.id)).some((line) => /deleted .*cairn-box-export/.test(line)));
    assert.ok(existsSync(exportFile));
  } finally {
    await boxA.stop();
  }

  // The SD card dies with the photos on it.
  rmSync(boxA.config.dataDir, { recursive: true, force: true });
  rmSync(source, { recursive: true, force: true });

  const boxB = await startTestDaemon();
  try {
    const b = boxB.client();
    await b.setupAdmin();
    const env = { CAIRN_DATA_DIR: boxB.config.dataDir };
    const place = ['import', '--from', 'sftp', '--host', sftp.host, '--port', String(sftp.port), '--user', sftp.username, '--path', remotePath];
    // Answers in the order asked: the SFTP password, its key passphrase (none), the export passphrase.
    const wrong = await runCli(place, { env, input: `${sftp.password}\n\nnot the passphrase at all\n` });
    assert.is(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /Not imported: The passphrase does not open this box export/);
    assert.equal((await b.get('/api/jobs')).body, [], 'a wrong passphrase imports nothing');
    assert.equal((await b.get('/api/credentials')).body, [], 'nor the credential typed for the import');

    const imported = await runCli(place, { env, input: `${sftp.password}\n\n${PASSPHRASE}\n` });
    assert.is(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, new RegExp(`Found the export of .* made .* at sftp://${sftp.username}@${sftp.host}:${sftp.port}/${remotePath}`));
    assert.match(imported.stdout, /Imported 1 job\(s\), 0 schedule\(s\), 1 credential\(s\) and 0 channel\(s\); the jobs are disabled until you enable them/);
    assert.not.ok(imported.stdout.includes(sftp.password) || imported.stderr.includes(sftp.password));

    const [job] = (await b.get('/api/jobs')).body;
    assert.equal([job.name, job.enabled], ['Photos to the NAS', false]);
    const [credential] = (await b.get('/api/credentials')).body;
    assert.is(job.credential_id, credential.id);
    const test = await b.post('/api/providers/test', { destination_type: 'sftp', destination_config: job.destination_config, credential_id: credential.id });
    assert.is(test.body.success, true, JSON.stringify(test.body));

    const target = tempDir('cairn-restored-');
    const restore = await b.post(`/api/jobs/${job.id}/restore`, { target_dir: target });
    assert.is(restore.status, 202, JSON.stringify(restore.body));
    assert.is((await finishedRun(b, restore.body.run_id)).status, 'completed');
    assert.equal(filesOf(path.join(target, 'Photos')), original);
    assert.not.ok(existsSync(path.join(target, '.cairn-box-export')), 'the export is not restored as a file of the backup');
  } finally {
    await boxB.stop();
  }
});

disaster('through S3: the route refuses a wrong passphrase, wrong keys and a place without an export, changing nothing; then imports and the files come back', async ({ s3 }) => {
  const { source, original } = sampleSource('Documents');
  const destination_config = { bucket: s3.bucket, prefix: 'kitchen-pi', region: s3.region, endpoint: s3.endpoint };
  const keys = { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey };

  const boxA = await startTestDaemon();
  try {
    const a = boxA.client();
    await a.setupAdmin();
    const credential = await a.post('/api/credentials', { name: 'Bucket', provider_type: 's3', data: keys });
    const job = await createJob(a, { name: 'Documents to S3', source_dirs: [source], destination_type: 's3', destination_config, credential_id: credential.body.id });
    assert.is((await a.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);
    const run = await runJob(a, job.id);
    assert.is(run.status, 'completed', run.error_message);
    assert.ok(existsSync(s3.objectFile('kitchen-pi/.cairn-box-export')), 'the export is an object beside the backup');
  } finally {
    await boxA.stop();
  }
  rmSync(boxA.config.dataDir, { recursive: true, force: true });
  rmSync(source, { recursive: true, force: true });

  const boxB = await startTestDaemon();
  try {
    const b = boxB.client();
    await b.setupAdmin();
    const from = { destination_type: 's3', destination_config, credential_data: keys };
    const nothingChanged = async () => assert.equal([(await b.get('/api/jobs')).body, (await b.get('/api/credentials')).body], [[], []]);

    const wrong = await b.post('/api/system/import/destination', { ...from, passphrase: 'not the passphrase at all' });
    assert.is(wrong.status, 400);
    assert.ok(isErrorShape(wrong.body, 'EXPORT_PASSPHRASE_WRONG'), JSON.stringify(wrong.body));
    await nothingChanged();

    const badKeys = await b.post('/api/system/import/destination', { ...from, credential_data: { access_key_id: s3.accessKeyId, secret_access_key: 'wrong' }, passphrase: PASSPHRASE });
    assert.is(badKeys.status, 400, JSON.stringify(badKeys.body));
    assert.ok(isErrorShape(badKeys.body));
    const elsewhere = await b.post('/api/system/import/destination', { ...from, destination_config: { ...destination_config, prefix: 'another-box' }, passphrase: PASSPHRASE });
    assert.is(elsewhere.status, 404, JSON.stringify(elsewhere.body));
    assert.ok(isErrorShape(elsewhere.body, 'EXPORT_NOT_FOUND'));
    const local = await b.post('/api/system/import/destination', { destination_type: 'local', destination_config: { mount_point: tempDir() }, credential_data: null, passphrase: PASSPHRASE });
    assert.is(local.status, 400);
    assert.ok(isErrorShape(local.body, 'IMPORT_SOURCE_UNSUPPORTED'));
    await nothingChanged();

    const imported = await b.post('/api/system/import/destination', { ...from, passphrase: PASSPHRASE });
    assert.is(imported.status, 200, JSON.stringify(imported.body));
    assert.equal(imported.body.imported, { jobs: 1, schedules: 0, credentials: 1, channels: 0 });
    assert.equal(imported.body.disabled_jobs, ['Documents to S3']);
    assert.is(imported.body.automatic_export, true);
    assert.match(imported.body.source.created_at, /^\d{4}-\d\d-\d\dT/);

    const [job] = (await b.get('/api/jobs')).body;
    const target = tempDir('cairn-restored-');
    const restore = await b.post(`/api/jobs/${job.id}/restore`, { target_dir: target });
    assert.is(restore.status, 202, JSON.stringify(restore.body));
    assert.is((await finishedRun(b, restore.body.run_id)).status, 'completed');
    assert.equal(filesOf(path.join(target, 'Documents')), original);
  } finally {
    await boxB.stop();
  }
});

disaster('a backup whose export cannot be written beside it still completes, with a warning saying so', async ({ sftp }) => {
  const { source } = sampleSource('Music');
  const remotePath = path.join(sftp.root, 'blocked');
  // A folder where the export would go: the server cannot rename a file over it.
  mkdirSync(path.join(remotePath, '.cairn-box-export'), { recursive: true });
  for (const folder of [remotePath, path.join(remotePath, '.cairn-box-export')]) chownSync(folder, sftp.uid, sftp.gid);

  const box = await startTestDaemon();
  try {
    const client = box.client();
    await client.setupAdmin();
    const credential = await client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: sftp.password } });
    const job = await createJob(client, {
      source_dirs: [source],
      destination_type: 'sftp',
      destination_config: { host: sftp.host, port: sftp.port, username: sftp.username, remote_path: remotePath, key_based_auth: false },
      credential_id: credential.body.id,
    });
    assert.is((await client.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);
    const run = await runJob(client, job.id);
    assert.is(run.status, 'completed', 'the backup worked: the export is not part of it');
    assert.ok(existsSync(path.join(remotePath, 'Music')));
    const warnings = (await logOf(client, run.id)).filter((line) => line.startsWith('warning '));
    assert.ok(
      warnings.some((line) => /After the backup: the box export could not be written beside the backup \(.*\); the backup itself is complete/.test(line)),
      JSON.stringify(warnings),
    );
    assert.not.ok(warnings.some((line) => line.includes(sftp.password)));
  } finally {
    await box.stop();
  }
});

disaster('a WebDAV folder gets the export beside its backup, and a new box imports from it', async () => {
  const webdav = await startWebdavServer();
  const { source } = sampleSource('Recipes');
  const destination_config = { url: webdav.url, remote_path: 'pi' };
  const credential_data = { username: webdav.username, password: webdav.password };
  try {
    const boxA = await startTestDaemon();
    try {
      const a = boxA.client();
      await a.setupAdmin();
      const credential = await a.post('/api/credentials', { name: 'DAV', provider_type: 'webdav', data: credential_data });
      const job = await createJob(a, { name: 'Recipes to WebDAV', source_dirs: [source], destination_type: 'webdav', destination_config, credential_id: credential.body.id });
      assert.is((await a.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);
      const run = await runJob(a, job.id);
      assert.is(run.status, 'completed', run.error_message);
      const sealed = readFileSync(path.join(webdav.root, 'pi', '.cairn-box-export'), 'latin1');
      assert.not.ok(sealed.includes(webdav.password), 'the WebDAV password is not in the file in the clear');
    } finally {
      await boxA.stop();
    }
    rmSync(boxA.config.dataDir, { recursive: true, force: true });

    const boxB = await startTestDaemon();
    try {
      const b = boxB.client();
      await b.setupAdmin();
      const imported = await b.post('/api/system/import/destination', { destination_type: 'webdav', destination_config, credential_data, passphrase: PASSPHRASE });
      assert.is(imported.status, 200, JSON.stringify(imported.body));
      assert.equal(imported.body.disabled_jobs, ['Recipes to WebDAV']);
    } finally {
      await boxB.stop();
    }
  } finally {
    await webdav.stop();
  }
});

disaster('an rclone remote gets the export beside its backup too, and a new box imports from it', async ({ sftp }) => {
  const { source } = sampleSource('Letters');
  const folder = path.join(sftp.root, 'via-rclone');
  const destination_config = { remote_type: 'sftp', options: { host: sftp.host, port: String(sftp.port), user: sftp.username }, path: folder };
  const boxA = await startTestDaemon();
  try {
    const a = boxA.client();
    await a.setupAdmin();
    const credential = await a.post('/api/credentials', { name: 'rclone NAS', provider_type: 'rclone', data: { pass: sftp.password } });
    const job = await createJob(a, { name: 'Letters via rclone', source_dirs: [source], destination_type: 'rclone', destination_config, credential_id: credential.body.id, sync_options: { delete_extraneous: true } });
    assert.is((await a.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);
    for (const attempt of [1, 2]) {
      const run = await runJob(a, job.id);
      assert.is(run.status, 'completed', run.error_message);
      assert.ok((await logOf(a, run.id)).includes(`info Box export written to rclone sftp:${folder}/.cairn-box-export (cairn import opens it with the export passphrase)`), `run ${attempt}`);
    }
    assert.match(readFileSync(path.join(folder, '.cairn-box-export'), 'utf8'), /^\{"format":"cairn-box-export"/);
    assert.equal(readdirSync(folder).sort(), ['.cairn-box-export', 'Letters'], 'no partial file is left beside it');
  } finally {
    await boxA.stop();
  }
  rmSync(boxA.config.dataDir, { recursive: true, force: true });

  const boxB = await startTestDaemon();
  try {
    const b = boxB.client();
    await b.setupAdmin();
    // rclone's local backend is a folder on this box: read as a file, where the allowed paths apply.
    const onThisBox = await b.post('/api/system/import/destination', { destination_type: 'rclone', destination_config: { remote_type: 'local', options: {}, path: tempDir() }, credential_data: null, passphrase: PASSPHRASE });
    assert.is(onThisBox.status, 400);
    assert.ok(isErrorShape(onThisBox.body, 'IMPORT_SOURCE_UNSUPPORTED'), JSON.stringify(onThisBox.body));
    const imported = await b.post('/api/system/import/destination', { destination_type: 'rclone', destination_config, credential_data: { pass: sftp.password }, passphrase: PASSPHRASE });
    assert.is(imported.status, 200, JSON.stringify(imported.body));
    assert.equal(imported.body.disabled_jobs, ['Letters via rclone']);
  } finally {
    await boxB.stop();
  }
});

disaster.run();
