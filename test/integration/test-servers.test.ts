/**
 * The remote servers the destination tests run against are real and answer like the real thing:
 * OpenSSH SFTP with password and key logins, rclone's WebDAV with basic auth, s3rver refusing a
 * wrong secret. Each test file starts its own, so they run side by side.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startS3Server, startSftpServer, startWebdavServer, type S3Server, type SftpServer, type WebdavServer } from '../servers.ts';

/** True while the process runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------- SFTP

const sftp = suite<{ server: SftpServer }>('sftp server');

sftp.before(async (context) => {
  context.server = await startSftpServer();
});
sftp.after(async ({ server }) => server.stop());

/** Logs in with `auth`, checking the host key against the server's fingerprint. */
function connect(server: SftpServer, auth: Partial<ConnectConfig>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: server.host,
      port: server.port,
      username: server.username,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}` === server.hostKeyFingerprint,
      ...auth,
    });
  });
}

async function writeOverSftp(client: Client, remotePath: string, content: string): Promise<void> {
  const session = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))));
  await new Promise<void>((resolve, reject) => session.writeFile(remotePath, content, (error) => (error ? reject(error) : resolve())));
  session.end();
}

for (const [name, auth] of [
  ['password', (server: SftpServer) => ({ password: server.password })],
  ['private key', (server: SftpServer) => ({ privateKey: server.privateKey })],
  ['private key with passphrase', (server: SftpServer) => ({ privateKey: server.encryptedPrivateKey, passphrase: server.passphrase })],
] as const) {
  sftp(`logs in with a ${name} and writes into root`, async ({ server }) => {
    const client = await connect(server, auth(server));
    try {
      const file = `${name.replace(/ /g, '-')}.txt`;
      await writeOverSftp(client, path.posix.join(server.root, file), `written with a ${name}\n`);
      assert.is(readFileSync(path.join(server.root, file), 'utf8'), `written with a ${name}\n`);
    } finally {
      client.end();
    }
  });
}

sftp('refuses a wrong password', async ({ server }) => {
  const error = await connect(server, { password: 'wrong' }).then(
    (client) => {
      client.end();
      return null;
    },
    (error: Error) => error,
  );
  assert.ok(error, 'login with a wrong password succeeded');
  assert.match(error!.message, /authentication methods failed/);
});

// -------------------------------------------------------------------------------------- WebDAV

const webdav = suite<{ server: WebdavServer }>('webdav server');

webdav.before(async (context) => {
  context.server = await startWebdavServer();
});
webdav.after(async ({ server }) => server.stop());

const basicAuth = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

webdav('PUT stores the file under root', async ({ server }) => {
  const response = await fetch(`${server.url}/hello.txt`, {
    method: 'PUT',
    headers: { authorization: basicAuth(server.username, server.password) },
    body: 'hello over WebDAV\n',
  });
  assert.is(response.status, 201);
  assert.is(readFileSync(path.join(server.root, 'hello.txt'), 'utf8'), 'hello over WebDAV\n');
});

webdav('a wrong password gets 401 and writes nothing', async ({ server }) => {
  const response = await fetch(`${server.url}/intruder.txt`, {
    method: 'PUT',
    headers: { authorization: basicAuth(server.username, 'wrong') },
    body: 'nope',
  });
  assert.is(response.status, 401);
  assert.not.ok(existsSync(path.join(server.root, 'intruder.txt')));
});

// ------------------------------------------------------------------------------------------ S3

const s3 = suite<{ server: S3Server }>('s3 server');

s3.before(async (context) => {
  context.server = await startS3Server();
});
s3.after(async ({ server }) => server.stop());

const s3Client = (server: S3Server, secretAccessKey = server.secretAccessKey) =>
  new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });

s3('PutObject stores an object that is then listed', async ({ server }) => {
  const client = s3Client(server);
  await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'photos/hello.txt', Body: 'hello over S3\n' }));
  const listing = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'photos/' }));
  assert.equal(
    listing.Contents?.map(({ Key, Size }) => ({ Key, Size })),
    [{ Key: 'photos/hello.txt', Size: 14 }],
  );
  assert.is(readFileSync(server.objectFile('photos/hello.txt'), 'utf8'), 'hello over S3\n');
});

s3('a wrong secret is refused with SignatureDoesNotMatch', async ({ server }) => {
  const client = s3Client(server, 'not the secret');
  const error = await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'intruder.txt', Body: 'nope' })).then(
    () => null,
    (error: any) => error,
  );
  assert.ok(error, 'a wrong secret was accepted');
  assert.is(error.name, 'SignatureDoesNotMatch');
  assert.is(error.$metadata.httpStatusCode, 403);
  assert.not.ok(existsSync(server.objectFile('intruder.txt')));
});

// ------------------------------------------------------------------------------------ stopping

const stopping = suite('stopping');

stopping('stop() ends each server and frees its port', async () => {
  const servers = await Promise.all([startSftpServer(), startWebdavServer(), startS3Server()]);
  for (const server of servers) assert.ok(alive(server.pid));
  await Promise.all(servers.map((server) => server.stop()));
  for (const server of servers) assert.not.ok(alive(server.pid), `PID ${server.pid} still runs`);
  const [sftpServer, webdavServer, s3Server] = servers as [SftpServer, WebdavServer, S3Server];
  const refused = (url: string) => fetch(url).then(() => false, () => true);
  assert.ok(await refused(webdavServer.url));
  assert.ok(await refused(s3Server.endpoint));
  assert.ok(await refused(`http://127.0.0.1:${sftpServer.port}`));
});

sftp.run();
webdav.run();
s3.run();
stopping.run();
