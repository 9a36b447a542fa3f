/** `cairn export` and `cairn import` as the owner types them on the box, against a running daemon. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { open } from '../../src/box-export/index.ts';
import { createJob, runCli, startTestDaemon, tempDir, type TestDaemon } from '../helpers.ts';

const PASSPHRASE = 'the owner remembers this';
const cli = suite<{ daemon: TestDaemon }>('cairn export / import');

cli.before(async (context) => {
  context.daemon = await startTestDaemon();
  const owner = context.daemon.client();
  await owner.setupAdmin();
  await createJob(owner, { name: 'Documents' });
});
cli.after(async ({ daemon }) => {
  await daemon.stop();
});

cli('export asks the passphrase twice, writes a 0600 file it never overwrites, and refuses two different passphrases', async ({ daemon }) => {
  const env = { CAIRN_DATA_DIR: daemon.config.dataDir };
  const out = path.join(tempDir(), 'box.cairn-box-export');
  const differ = await runCli(['export', '--out', out], { env, input: `${PASSPHRASE}\nsomething else entirely\n` });
  assert.is(differ.code, 1);
  assert.match(differ.stderr, /passphrases differ/);
  assert.not.ok(existsSync(out));

  const exported = await runCli(['export', '--out', out], { env, input: `${PASSPHRASE}\n${PASSPHRASE}\n` });
  assert.is(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, new RegExp(`Box exported to ${out}`));
  assert.is(statSync(out).mode & 0o777, 0o600);
  const state = JSON.parse((await open(readFileSync(out, 'utf8'), PASSPHRASE)).toString());
  assert.equal(state.jobs.map((job: any) => job.name), ['Documents']);

  const again = await runCli(['export', '--out', out], { env, input: `${PASSPHRASE}\n${PASSPHRASE}\n` });
  assert.is(again.code, 1, 'an earlier export is not overwritten');
  assert.match(again.stderr, /EEXIST/);
});

cli('import on a box with jobs is refused with the way out; with --replace it replaces them and says where the old state is', async ({ daemon }) => {
  const env = { CAIRN_DATA_DIR: daemon.config.dataDir };
  const out = path.join(tempDir(), 'box.cairn-box-export');
  assert.is((await runCli(['export', '--out', out], { env, input: `${PASSPHRASE}\n${PASSPHRASE}\n` })).code, 0);

  const refused = await runCli(['import', out], { env, input: `${PASSPHRASE}\n` });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /Not imported: This box already has 1 job\(s\).*Add --replace/);

  const replaced = await runCli(['import', '--replace', out], { env, input: `${PASSPHRASE}\n` });
  assert.is(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /Imported 1 job\(s\)/);
  assert.match(replaced.stdout, new RegExp(`What it replaced is kept in ${daemon.config.dataDir}/replaced-.*\\.cairn-box-export`));

  const neither = await runCli(['import'], { env });
  assert.is(neither.code, 2);
  const missing = await runCli(['import', '--from-drive', path.join(tempDir(), 'not-mounted')], { env });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
  const empty = await runCli(['import', '--from-drive', tempDir()], { env });
  assert.is(empty.code, 1);
  assert.match(empty.stderr, /No Cairn box export \(\.cairn-box-export\) under/);
});

cli('import --from names the place with flags only it takes, and a type the daemon knows; a mistake is a usage error that asks nothing', async ({ daemon }) => {
  const env = { CAIRN_DATA_DIR: daemon.config.dataDir };
  const stray = await runCli(['import', '--host', 'nas', '--path', '/srv/backups'], { env });
  assert.is(stray.code, 2);
  assert.match(stray.stderr, /--host names a place at a remote destination: give its type with --from/);
  const both = await runCli(['import', '--from', 'sftp', '--from-drive', tempDir()], { env });
  assert.is(both.code, 2);
  const unknown = await runCli(['import', '--from', 'ftp', '--host', 'nas'], { env });
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /--from: no destination type "ftp"; one of local, s3, .*sftp/);
  const noKeyFile = await runCli(['import', '--from', 's3', '--bucket', 'b', '--key-file', '/etc/hostname'], { env });
  assert.is(noKeyFile.code, 2);
  assert.match(noKeyFile.stderr, /--key-file: a AWS S3 credential takes no key file/);
  const port = await runCli(['import', '--from', 'sftp', '--host', 'nas', '--port', 'twenty-two'], { env });
  assert.is(port.code, 2);
  assert.match(port.stderr, /--port must be a number/);
});

cli.run();
