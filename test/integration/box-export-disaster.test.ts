/**
 * The disaster issue 16 item 7 exists for: box A backs up to a folder (a USB drive's, say) and
 * leaves its sealed export beside the backup; A's data dir dies with its source folder; a fresh
 * box B given the drive and the passphrase gets every job back, its credential working, and
 * restores the lost files byte for byte.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, runCli, startTestDaemon, tempDir, type ApiClient } from '../helpers.ts';
import { startSftpServer, type SftpServer } from '../servers.ts';
import { makeSampleTree } from '../trees.ts';
import { filesOf, logOf, runJob } from './disaster.ts';

const PASSPHRASE = 'kitchen pi, spring 2026';
const disaster = suite<{ server: SftpServer }>('the box backs itself up');

disaster.before(async (context) => {
  context.server = await startSftpServer();
});
disaster.after(async ({ server }) => {
  await server.stop();
});


disaster('box A dies; box B imports from the drive with the passphrase, its SFTP credential works and the files come back byte for byte', async ({ server }) => {
  const drive = tempDir('cairn-drive-');
  const documents = path.join(tempDir('cairn-home-'), 'Documents');
  mkdirSync(documents);
  makeSampleTree(documents);
  const photos = tempDir('cairn-photos-');
  makeSampleTree(photos);
  const original = filesOf(documents);
  const exportFile = path.join(drive, 'cairn', '.cairn-box-export');

  // Box A: a local job to the drive, an SFTP job with a saved password.
  const boxA = await startTestDaemon();
  let localJobId: number;
  try {
    const a = boxA.client();
    await a.setupAdmin();
    const local = await createJob(a, { name: 'Documents to USB', source_dirs: [documents], destination_config: { mount_point: drive, backup_subdir: 'cairn' } });
    localJobId = local.id;
    const credential = await a.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: server.password } });
    await createJob(a, {
      name: 'Photos to the NAS',
      source_dirs: [photos],
      destination_type: 'sftp',
      destination_config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'photos'), key_based_auth: false },
      credential_id: credential.body.id,
    });

    // Without an export passphrase, a backup writes no export.
    assert.is((await runJob(a, localJobId)).status, 'completed');
    assert.not.ok(existsSync(exportFile), 'no export before the owner set a passphrase');

    assert.is((await a.put('/api/settings', { export_passphrase: PASSPHRASE })).status, 200);
    const run = await runJob(a, localJobId);
    assert.is(run.status, 'completed');
    assert.ok(existsSync(exportFile), 'the export lands beside the backup');
    assert.ok((await logOf(a, run.id)).includes(`info Box export written to ${exportFile} (cairn import opens it with the export passphrase)`));
    assert.not.ok(readFileSync(exportFile, 'latin1').includes(server.password), 'the SFTP password is not in the file in the clear');
  } finally {
    await boxA.stop();
  }

  // The SD card dies: A's data dir (vault key included) and the documents are gone.
  rmSync(boxA.config.dataDir, { recursive: true, force: true });
  rmSync(documents, { recursive: true, force: true });

  // Box B: a fresh install, its owner set up, the drive plugged in.
  const boxB = await startTestDaemon();
  try {
    const b = boxB.client();
    await b.setupAdmin();
    const env = { CAIRN_DATA_DIR: boxB.config.dataDir };
    const wrong = await runCli(['import', '--from-drive', drive], { env, input: 'not the passphrase\n' });
    assert.is(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /Not imported: The passphrase does not open this box export/);
    assert.equal((await b.get('/api/jobs')).body, [], 'a wrong passphrase imports nothing');

    const imported = await runCli(['import', '--from-drive', drive], { env, input: `${PASSPHRASE}\n` });
    assert.is(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, new RegExp(`Found the export of .* in ${exportFile}`));
    assert.match(imported.stdout, /Imported 2 job\(s\), 0 schedule\(s\), 1 credential\(s\) and 0 channel\(s\); the jobs are disabled until you enable them: restore/);

    const jobs = (await b.get('/api/jobs')).body;
    assert.equal(jobs.map((job: any) => job.name).sort(), ['Documents to USB', 'Photos to the NAS']);
    // Nothing backs up the now empty places on its own before the owner has restored.
    assert.equal(jobs.map((job: any) => job.enabled), [false, false]);
    const nas = jobs.find((job: any) => job.name === 'Photos to the NAS');
    const [credential] = (await b.get('/api/credentials')).body;
    assert.equal([credential.name, nas.credential_id], ['NAS', credential.id]);
    // The credential works on B: its password was carried over and opens the SFTP server.
    const test = await b.post('/api/providers/test', { destination_type: 'sftp', destination_config: nas.destination_config, credential_id: credential.id });
    assert.is(test.body.success, true, JSON.stringify(test.body));
    assert.is((await runJob(b, nas.id)).status, 'completed', 'the SFTP job runs on B');
    assert.is((await b.get('/api/settings')).body.export_passphrase_set, true, 'B goes on writing exports with the same passphrase');

    // The restore brings the lost documents back, byte for byte.
    const usb = jobs.find((job: any) => job.name === 'Documents to USB');
    const target = tempDir('cairn-restored-');
    const restore = await b.post(`/api/jobs/${usb.id}/restore`, { target_dir: target });
    assert.is(restore.status, 202, JSON.stringify(restore.body));
    assert.is((await finishedRun(b, restore.body.run_id)).status, 'completed');
    assert.equal(filesOf(path.join(target, 'Documents')), original);
    assert.not.ok(existsSync(path.join(target, '.cairn-box-export')), 'the export is not restored as a file of the backup');
  } finally {
    await boxB.stop();
  }
});

disaster.run();
