/**
 * Destination free space where the protocol says: statfs for a local folder (what `df` shows), the
 * SFTP statvfs extension on a real OpenSSH server, RFC 4331 quota properties over WebDAV; unknown
 * where it cannot say. And the dashboard asks an SFTP server once, not on every call.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { destinationOf } from '../../../src/destinations/index.ts';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { createJob, startTestDaemon, tempDir } from '../../helpers.ts';
import { startSftpServer, startWebdavServer } from '../../servers.ts';

const execFileAsync = promisify(execFile);
const space = suite('destination free space');

/** `df`'s available and total bytes for the filesystem holding `folder`. */
async function df(folder: string): Promise<{ avail: number; size: number }> {
  const { stdout } = await execFileAsync('df', ['-B1', '--output=avail,size', folder]);
  const [avail, size] = stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
  return { avail, size };
}

/** Other tests write to the same disk meanwhile: free space may move a little between two looks. */
const FREE_SPACE_SLACK = 256 * 1024 * 1024;

function assertLikeDf(reading: { free_bytes: number; total_bytes: number | null } | null, expected: { avail: number; size: number }, what: string) {
  assert.ok(reading, `${what}: a reading`);
  assert.is(reading!.total_bytes, expected.size, `${what}: the size df shows`);
  assert.ok(Math.abs(reading!.free_bytes - expected.avail) < FREE_SPACE_SLACK, `${what}: ${reading!.free_bytes} free, df says ${expected.avail}`);
}

const hostKeys = () => new FileHostKeyPins(path.join(tempDir(), 'host-keys.json'));

space('local: statfs of the backup folder matches df, even before the folder exists', async () => {
  const local = destinationOf('local');
  const mount = tempDir('cairn-target-');
  const reading = await local.freeSpace!({ mount_point: mount, backup_subdir: 'not/yet/made', usb_uuid: null, auto_mount: false, auto_unmount: false }, null, hostKeys());
  assertLikeDf(reading, await df(mount), 'local');
});

space('local: a drive that is not mounted, or a missing folder, has unknown space', async () => {
  const local = destinationOf('local');
  const mount = tempDir('cairn-target-');
  const unplugged = await local.freeSpace!({ mount_point: mount, backup_subdir: '', usb_uuid: '1234-ABCD', auto_mount: true, auto_unmount: true }, null, hostKeys());
  assert.is(unplugged, null, 'the empty mount point on the root filesystem is not the drive');
  const missing = await local.freeSpace!({ mount_point: path.join(mount, 'gone'), backup_subdir: '', usb_uuid: null, auto_mount: false, auto_unmount: false }, null, hostKeys());
  assert.is(missing, null);
});

space('SFTP: the statvfs extension of a real OpenSSH server, for a folder not made yet', async () => {
  const server = await startSftpServer();
  try {
    const config = { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'backups/photos'), key_based_auth: false };
    const reading = await destinationOf('sftp').freeSpace!(config, { password: server.password }, hostKeys());
    assertLikeDf(reading, await df(server.root), 'sftp');
  } finally {
    await server.stop();
  }
});

space('SFTP: the dashboard opens one session for its space, not one per call', async () => {
  const server = await startSftpServer();
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const credential = await client.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: server.password } });
    assert.is(credential.status, 201);
    const job = await createJob(client, {
      destination_type: 'sftp',
      destination_config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'backups'), key_based_auth: false },
      credential_id: credential.body.id,
    });
    const logins = () => readFileSync(path.join(server.dir, 'sshd.log'), 'utf8').split('\n').filter((line) => line.includes('Accepted password')).length;
    const before = logins();
    const answers: any[] = [];
    for (let call = 0; call < 4; call++) answers.push((await client.get('/api/dashboard')).body.jobs.find((entry: any) => entry.job_id === job.id).destination_space);
    assert.is(logins() - before, 1, 'one SSH login for four dashboard calls');
    const expected = await df(server.root);
    assert.ok(Math.abs(answers[3].free_bytes - expected.avail) < FREE_SPACE_SLACK);
    assert.is(answers[3].total_bytes, expected.size);
    assert.ok(answers.every((answer) => answer.checked_at === answers[0].checked_at), 'the same cached reading');
    const everything = [JSON.stringify((await client.get('/api/dashboard')).body), (await client.get('/metrics')).body, JSON.stringify((await client.get('/api/system/health')).body)];
    assert.ok(everything.every((text) => !text.includes(server.password)), 'the credential appears in no answer');
    assert.ok(!daemon.logLines.join('').includes(server.password), 'nor in the daemon log');
  } finally {
    await daemon.stop();
    await server.stop();
  }
});

space('WebDAV: rclone serve webdav (1.60) reports no RFC 4331 quota, so the space is unknown', async () => {
  const server = await startWebdavServer();
  try {
    mkdirSync(path.join(server.root, 'backups'));
    const reading = await destinationOf('webdav').freeSpace!({ url: server.url, remote_path: 'backups' }, { username: server.username, password: server.password }, hostKeys());
    assert.is(reading, null);
  } finally {
    await server.stop();
  }
});

/**
 * A WebDAV server answering PROPFIND with the RFC 4331 properties as Nextcloud writes them (no
 * server installed here reports quota): checks the request is a Depth 0 PROPFIND naming both
 * properties with the credential, and answers `available`/`used`.
 */
async function quotaServer(available: string, used: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push(`${request.method} ${request.url} depth=${request.headers.depth}`);
      if (request.headers.authorization !== `Basic ${Buffer.from('me:secret').toString('base64')}`) {
        response.writeHead(401).end();
        return;
      }
      if (request.method !== 'PROPFIND' || request.headers.depth !== '0') {
        response.writeHead(400).end();
        return;
      }
      const asksQuota = body.includes('quota-available-bytes') && body.includes('quota-used-bytes');
      // Every folder exists; asked for the quota, it answers with it.
      const prop = asksQuota
        ? `<d:quota-available-bytes>${available}</d:quota-available-bytes><d:quota-used-bytes>${used}</d:quota-used-bytes>`
        : '<d:resourcetype><d:collection/></d:resourcetype>';
      response.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(
        `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:response><d:href>${request.url}</d:href>` +
          `<d:propstat><d:prop>${prop}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/remote.php/dav/files/me`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

space('WebDAV: a server that reports RFC 4331 quota gives free and total bytes', async () => {
  const server = await quotaServer('7000000000', '3000000000');
  try {
    const reading = await destinationOf('webdav').freeSpace!({ url: server.url, remote_path: 'backups' }, { username: 'me', password: 'secret' }, hostKeys());
    assert.equal(reading, { free_bytes: 7_000_000_000, total_bytes: 10_000_000_000 });
    assert.ok(server.requests.some((line) => line.startsWith('PROPFIND /remote.php/dav/files/me/backups/ depth=0')), server.requests.join('\n'));
  } finally {
    await server.close();
  }
});

space('WebDAV: Nextcloud without a quota (-3) is unknown, not a negative number', async () => {
  const server = await quotaServer('-3', '12345');
  try {
    const reading = await destinationOf('webdav').freeSpace!({ url: server.url, remote_path: '' }, { username: 'me', password: 'secret' }, hostKeys());
    assert.is(reading, null);
  } finally {
    await server.close();
  }
});

space('S3 cannot say: the destination offers no free-space reading', () => {
  assert.is(destinationOf('s3').freeSpace, undefined);
});

space.run();
