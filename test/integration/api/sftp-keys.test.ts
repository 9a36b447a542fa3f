/**
 * SFTP private keys are checked when a credential is saved (issue 11, 4b): keys made here with
 * ssh-keygen and openssl. A key the SSH client cannot read is a 400 saying why and what works; a
 * connection test never answers 500; a run with such a key stored before the check fails with a
 * clear error_message; good OpenSSH keys still save and log in to the real sshd.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openStore } from '../../../src/store/index.ts';
import { openVault } from '../../../src/vault/index.ts';
import { createJob, finishedRun, isErrorShape, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { startSftpServer, type SftpServer } from '../../servers.ts';

interface Context {
  daemon: TestDaemon;
  client: ApiClient;
  server: SftpServer;
  allowed: string;
}

interface Keys {
  encryptedPkcs8: string;
  pkcs8: string;
  publicKey: string;
  pemRsa: string;
  garbage: string;
}

/** Keys of the kinds owners paste, generated fresh. */
function makeKeys(): Keys {
  const dir = tempDir('cairn-keys-');
  const file = (name: string) => path.join(dir, name);
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-aes-256-cbc', '-pass', 'pass:x', '-out', file('enc.pem')], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', file('plain.pem')], { stdio: 'ignore' });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file('ossh')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', file('rsa')]);
  return {
    encryptedPkcs8: readFileSync(file('enc.pem'), 'utf8'),
    pkcs8: readFileSync(file('plain.pem'), 'utf8'),
    publicKey: readFileSync(file('ossh.pub'), 'utf8'),
    pemRsa: readFileSync(file('rsa'), 'utf8'),
    garbage: 'not a key at all\n',
  };
}

const keys = makeKeys();
const sftpKeys = suite<Context>('sftp keys');

sftpKeys.before.each(async (context) => {
  context.server = await startSftpServer();
  context.allowed = tempDir();
  context.daemon = await startTestDaemon({ allowedPaths: [context.allowed] });
  context.client = context.daemon.client();
  await context.client.setupAdmin();
});
sftpKeys.after.each(async ({ daemon, server }) => {
  await daemon.stop();
  await server.stop();
});

const keyConfig = (server: SftpServer) => ({ host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'backups'), key_based_auth: true });

/** A 400 in the contract's shape that names the reason and the formats that work, and quotes no secret. */
function assertRefused(response: { status: number; body: any }, reason: RegExp, secrets: string[]) {
  assert.is(response.status, 400, JSON.stringify(response.body));
  assert.ok(isErrorShape(response.body, 'CREDENTIAL_INVALID'), JSON.stringify(response.body));
  assert.match(response.body.message, reason);
  assert.match(response.body.message, /OpenSSH format .*with or without a passphrase.*PEM RSA or ECDSA/);
  for (const secret of secrets) assert.not.ok(JSON.stringify(response.body).includes(secret.trim().split('\n')[1] ?? secret.trim()), 'no secret in the answer');
}

sftpKeys('a key the SSH client cannot read is refused on save with what is wrong and what works; nothing is stored', async ({ client, server }) => {
  const save = (data: Record<string, string>) => client.post('/api/credentials', { name: 'NAS key', provider_type: 'sftp', data });
  assertRefused(await save({ private_key: keys.encryptedPkcs8, passphrase: 'x' }), /PKCS#8/, [keys.encryptedPkcs8]);
  assertRefused(await save({ private_key: keys.encryptedPkcs8 }), /PKCS#8/, [keys.encryptedPkcs8]);
  assertRefused(await save({ private_key: keys.pkcs8 }), /PKCS#8/, [keys.pkcs8]);
  assertRefused(await save({ private_key: keys.garbage }), /not a private key/, []);
  assertRefused(await save({ private_key: keys.publicKey }), /public key/, []);
  assertRefused(await save({ private_key: server.encryptedPrivateKey }), /encrypted and the credential has no "passphrase"/, [server.encryptedPrivateKey]);
  assertRefused(await save({ private_key: server.encryptedPrivateKey, passphrase: 'not the passphrase' }), /"passphrase" does not open it/, [server.encryptedPrivateKey, 'not the passphrase']);
  assert.equal((await client.get('/api/credentials')).body, [], 'nothing was saved');

  // Replacing a good key by a bad one is refused too, and the good one stays.
  const good = await save({ private_key: server.privateKey });
  assert.is(good.status, 201, JSON.stringify(good.body));
  assertRefused(await client.put(`/api/credentials/${good.body.id}`, { data: { private_key: keys.encryptedPkcs8, passphrase: 'x' } }), /PKCS#8/, [keys.encryptedPkcs8]);
  const stillGood = await client.post('/api/providers/test', { destination_type: 'sftp', destination_config: keyConfig(server), credential_id: good.body.id });
  assert.is(stillGood.body.success, true, stillGood.body.message);
});

sftpKeys('good keys save: OpenSSH with and without a passphrase log in to sshd; a PEM RSA key is accepted', async ({ client, server }) => {
  for (const [name, data] of [
    ['plain', { private_key: server.privateKey }],
    ['with passphrase', { private_key: server.encryptedPrivateKey, passphrase: server.passphrase }],
  ] as const) {
    const saved = await client.post('/api/credentials', { name, provider_type: 'sftp', data });
    assert.is(saved.status, 201, JSON.stringify(saved.body));
    const test = await client.post('/api/providers/test', { destination_type: 'sftp', destination_config: keyConfig(server), credential_id: saved.body.id });
    assert.is(test.status, 200);
    assert.is(test.body.success, true, `${name}: ${test.body.message}`);
  }
  const rsa = await client.post('/api/credentials', { name: 'rsa', provider_type: 'sftp', data: { private_key: keys.pemRsa } });
  assert.is(rsa.status, 201, JSON.stringify(rsa.body));
});

sftpKeys('a connection test with such a key inline is a 400, never a 500', async ({ client, server }) => {
  const test = await client.post('/api/providers/test', { destination_type: 'sftp', destination_config: keyConfig(server), credential_data: { private_key: keys.encryptedPkcs8, passphrase: 'x' } });
  assertRefused(test, /PKCS#8/, [keys.encryptedPkcs8]);
});

sftpKeys('a key stored before the check: the connection test answers success false and a run fails, both saying why', async (context) => {
  const { client, server } = context;
  const credential = await client.post('/api/credentials', { name: 'NAS key', provider_type: 'sftp', data: { private_key: server.privateKey } });
  const source = path.join(context.allowed, 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'cat.jpg'), 'meow');
  const job = await createJob(client, { name: 'Photos', source_dirs: [source], destination_type: 'sftp', destination_config: keyConfig(server), credential_id: credential.body.id });

  // As an older Cairn would have stored it: straight into the database, daemon stopped.
  const dataDir = context.daemon.config.dataDir;
  await context.daemon.stop();
  const store = await openStore(dataDir);
  const vault = await openVault(dataDir);
  await store.credentials.update(store.credentials.byId(credential.body.id)!, { secret: vault.encrypt(JSON.stringify({ private_key: keys.encryptedPkcs8, passphrase: 'x' })) });
  await store.close();
  context.daemon = await startTestDaemon({ dataDir, allowedPaths: [context.allowed] });
  context.client = context.daemon.client();
  assert.is((await context.client.login()).status, 200);

  const test = await context.client.post('/api/providers/test', { destination_type: 'sftp', destination_config: keyConfig(server), credential_id: credential.body.id });
  assert.is(test.status, 200, JSON.stringify(test.body));
  assert.is(test.body.success, false);
  assert.match(test.body.message, /The "private_key" cannot be used: it is a PKCS#8 key/);

  const run = await finishedRun(context.client, (await context.client.post(`/api/jobs/${job.id}/run`)).body.run_id);
  assert.is(run.status, 'failed');
  assert.match(run.error_message, /The "private_key" cannot be used: it is a PKCS#8 key.*OpenSSH format/);
});

sftpKeys.run();
