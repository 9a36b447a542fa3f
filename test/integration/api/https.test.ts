/**
 * HTTPS with a pinned certificate (issue 16 item 3), over real TLS on the daemon's port: a phone app
 * pins the fingerprint the box shows and reaches the API; any other certificate is refused before a
 * byte of the request leaves; plain HTTP stays for this box and is refused to other computers.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Config } from '../../../src/config.ts';
import { ADMIN, createJob, isErrorShape, runCli, startTestDaemon, tempDir } from '../../helpers.ts';
import { otherComputerOnTheLan } from '../../other-computer.ts';
import { PinMismatch, PinnedClient, pinnedConnection } from '../../pinned-client.ts';
import { waitFor } from '../../trees.ts';

const run = promisify(execFile);

/** HTTPS on, plain HTTP for this box only: the defaults of an installed daemon. */
const HTTPS: Partial<Config> = { tls: true, plainHttp: 'loopback' };

/** The fingerprint `cairn fingerprint` prints for a data dir. */
async function cliFingerprint(dataDir: string, env: Record<string, string> = {}): Promise<string> {
  const result = await runCli(['fingerprint'], { env: { CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '8080', ...env } });
  assert.is(result.code, 0, result.stderr);
  const match = result.stdout.match(/^SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/m);
  assert.ok(match, result.stdout);
  return match![1];
}

/** The fingerprint openssl computes for a PEM certificate file: an independent judge of ours. */
async function opensslFingerprint(file: string): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
  return stdout.trim().replace(/^.*Fingerprint=/i, '');
}

test('a client pinning the fingerprint the box shows gets the API over HTTPS; one pinning another is refused before sending anything', async () => {
  const daemon = await startTestDaemon(HTTPS);
  try {
    const shown = await cliFingerprint(daemon.config.dataDir);
    assert.is(shown, await opensslFingerprint(path.join(daemon.config.dataDir, 'tls', 'certificate.pem')));
    assert.ok(daemon.httpsUrl?.startsWith('https://127.0.0.1:'));

    // A wrong pin: the connection is dropped after the handshake, so the setup it carried never arrives.
    const wrongPin = shown.replace(/^../, shown.startsWith('00') ? '11' : '00');
    const impostor = new PinnedClient(daemon.httpsUrl!, wrongPin);
    const refused = await impostor.post('/api/auth/setup', ADMIN).catch((error: unknown) => error);
    assert.instance(refused, PinMismatch);
    assert.is((refused as PinMismatch).served, shown, 'the box served the certificate it shows');
    assert.is(daemon.store.users.count(), 0, 'no owner was made');

    const phone = new PinnedClient(daemon.httpsUrl!, shown);
    assert.is((await phone.post('/api/auth/setup', ADMIN)).status, 201);
    const info = await phone.get('/api/system/info');
    assert.is(info.status, 200);
    assert.is(info.body.fingerprint_sha256, shown);
    assert.equal([info.body.https, info.body.certificate, info.body.plain_http], [true, 'self-signed', 'loopback']);
    assert.equal(info.body.urls, [daemon.httpsUrl]);
    assert.equal(daemon.identity(), { fingerprint_sha256: shown, urls: [daemon.httpsUrl] });
    assert.is((await phone.get('/api/jobs')).status, 200);

    // Without a session the info is not given: a pin learnt from the connection it should check would prove nothing.
    const stranger = await new PinnedClient(daemon.httpsUrl!, shown).get('/api/system/info');
    assert.is(stranger.status, 401);
    assert.ok(isErrorShape(stranger.body, 'UNAUTHENTICATED'));
  } finally {
    await daemon.stop();
  }
});

test('the certificate made at first start is ECDSA P-256 naming the box, its key is 0600, and a second start serves the same one', async () => {
  const dataDir = path.join(tempDir(), 'data');
  const first = await startTestDaemon({ ...HTTPS, dataDir });
  let fingerprint: string;
  try {
    const socket = await pinnedConnection('127.0.0.1', Number(new URL(first.httpsUrl!).port), first.certificate!.fingerprint);
    const served = new X509Certificate(socket.getPeerX509Certificate()!.raw);
    socket.destroy();
    fingerprint = served.fingerprint256;
    assert.is(served.publicKey.asymmetricKeyType, 'ec');
    assert.is(served.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const names = served.subjectAltName!.split(', ');
    const hostname = os.hostname().toLowerCase();
    for (const name of ['DNS:localhost', `DNS:${hostname}`, `DNS:${hostname.split('.')[0]}.local`, 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
      assert.ok(names.includes(name), `${name} in ${served.subjectAltName}`);
    }
    const lan = Object.values(os.networkInterfaces()).flat().filter((entry) => entry && !entry.internal && entry.family === 'IPv4');
    for (const entry of lan) assert.ok(names.includes(`IP Address:${entry!.address}`), `${entry!.address} in ${served.subjectAltName}`);
    const years = (Date.parse(served.validTo) - Date.parse(served.validFrom)) / (365.25 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
    assert.is(statSync(path.join(dataDir, 'tls', 'private-key.pem')).mode & 0o777, 0o600);
    assert.is(statSync(path.join(dataDir, 'tls')).mode & 0o777, 0o700);
  } finally {
    await first.stop();
  }
  const second = await startTestDaemon({ ...HTTPS, dataDir });
  try {
    assert.is(second.certificate!.fingerprint, fingerprint);
    const socket = await pinnedConnection('127.0.0.1', Number(new URL(second.httpsUrl!).port), fingerprint);
    socket.destroy();
  } finally {
    await second.stop();
  }
  // A key others can read is no longer a secret: the daemon refuses it rather than serve it.
  const keyFile = path.join(dataDir, 'tls', 'private-key.pem');
  chmodSync(keyFile, 0o644);
  const refused = await startTestDaemon({ ...HTTPS, dataDir }).catch((error: Error) => error);
  assert.instance(refused, Error);
  assert.match((refused as Error).message, `${keyFile} is readable by other users (mode 644); run: chmod 600 ${keyFile}`);
});

test('cairn fingerprint says why it has nothing to show: no certificate made yet, or HTTPS off', async () => {
  const dataDir = path.join(tempDir(), 'data');
  const none = await runCli(['fingerprint'], { env: { CAIRN_DATA_DIR: dataDir } });
  assert.is(none.code, 1);
  assert.match(none.stderr, `No certificate in ${dataDir} yet: the daemon makes it at its first start`);
  assert.not.ok(existsSync(dataDir), 'it made nothing');
  const off = await runCli(['fingerprint'], { env: { CAIRN_DATA_DIR: dataDir, CAIRN_TLS: 'false' } });
  assert.is(off.code, 1);
  assert.match(off.stderr, /HTTPS is off \(CAIRN_TLS=false\)/);
});

test("the owner's own certificate and key are served when configured; a key of another certificate refuses to start, naming it", async () => {
  const dir = tempDir();
  const [certFile, keyFile, otherCert, otherKey] = ['cert.pem', 'key.pem', 'other-cert.pem', 'other-key.pem'].map((name) => path.join(dir, name));
  const make = (cert: string, key: string) =>
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=backup.example.lan']);
  await make(certFile, keyFile);
  await make(otherCert, otherKey);
  const theirs = await opensslFingerprint(certFile);

  const daemon = await startTestDaemon({ ...HTTPS, tlsCertFile: certFile, tlsKeyFile: keyFile });
  try {
    const phone = new PinnedClient(daemon.httpsUrl!, theirs);
    await phone.post('/api/auth/setup', ADMIN);
    const info = await phone.get('/api/system/info');
    assert.equal([info.body.fingerprint_sha256, info.body.certificate], [theirs, 'owner']);
    assert.not.ok(existsSync(path.join(daemon.config.dataDir, 'tls')), 'no certificate of its own was made');
    assert.is(await cliFingerprint(daemon.config.dataDir, { CAIRN_TLS_CERT: certFile, CAIRN_TLS_KEY: keyFile }), theirs);
  } finally {
    await daemon.stop();
  }

  const mismatch = await startTestDaemon({ ...HTTPS, tlsCertFile: certFile, tlsKeyFile: otherKey }).catch((error: Error) => error);
  assert.instance(mismatch, Error);
  assert.match((mismatch as Error).message, `The key ${otherKey} is not the private key of the certificate ${certFile}`);
  writeFileSync(otherCert, 'not a certificate');
  const garbage = await startTestDaemon({ ...HTTPS, tlsCertFile: otherCert, tlsKeyFile: otherKey }).catch((error: Error) => error);
  assert.match((garbage as Error).message, `${otherCert} does not hold a PEM certificate`);
});

test('the status WebSocket works over TLS (wss): a run started over HTTPS is reported on it', async () => {
  const daemon = await startTestDaemon(HTTPS);
  try {
    const phone = new PinnedClient(daemon.httpsUrl!, daemon.certificate!.fingerprint);
    await phone.post('/api/auth/setup', ADMIN);
    const ws = await phone.webSocket('/api/ws/status');
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    try {
      // createJob speaks ApiClient's interface; the pinned client has the same request(method, path, body).
      const job = await createJob(phone as any);
      const started = await phone.post(`/api/jobs/${job.id}/run`);
      assert.is(started.status, 200, JSON.stringify(started.body));
      const done = await waitFor('job_completed on the wss socket', () => messages.find((message) => message.type === 'job_completed'), 30_000);
      assert.equal([done.job_id, done.status], [job.id, 'completed']);
      assert.ok(messages.some((message) => message.type === 'job_started' && message.job_id === job.id));
    } finally {
      ws.close();
    }
  } finally {
    await daemon.stop();
  }
});

test('the session cookie carries Secure over HTTPS, and not over plain HTTP on the box (where a browser would drop it)', async () => {
  const daemon = await startTestDaemon(HTTPS);
  try {
    const phone = new PinnedClient(daemon.httpsUrl!, daemon.certificate!.fingerprint);
    const setup = await phone.post('/api/auth/setup', ADMIN);
    const overTls = ([] as string[]).concat(setup.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith('token='));
    assert.ok(overTls, 'a session cookie was set');
    assert.match(overTls!, /;\s*Secure(;|$)/);
    assert.match(overTls!, /;\s*HttpOnly/);

    const local = await fetch(`${daemon.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    assert.is(local.status, 200);
    const plain = local.headers.getSetCookie().find((cookie) => cookie.startsWith('token='));
    assert.ok(plain);
    assert.not.match(plain!, /Secure/);
  } finally {
    await daemon.stop();
  }
});

test('another computer: plain HTTP (requests and WebSockets) is refused 403 HTTPS_REQUIRED and changes nothing, HTTPS pinned works; with plain_http any, plain is served', async () => {
  const lan = await otherComputerOnTheLan();
  try {
    const daemon = await startTestDaemon({ ...HTTPS, host: lan.hostAddress });
    try {
      const plain = await lan.request(`${daemon.url}/api/auth/setup`, 'POST', { ...ADMIN, setup_code: 'AAAA-AAAA-AAAA' });
      assert.is(plain.status, 403);
      assert.ok(isErrorShape(plain.body, 'HTTPS_REQUIRED'));
      assert.match(plain.body.message, /https:\/\/.*cairn fingerprint/);
      const upgrade = await lan.node(
        `const http = await import('node:http');
         const request = http.request(process.argv[1], { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
         request.on('response', (response) => { let body = ''; response.on('data', (c) => (body += c)); response.on('end', () => console.log(JSON.stringify({ status: response.statusCode, body: JSON.parse(body) }))); });
         request.on('upgrade', () => console.log(JSON.stringify({ status: 101 })));
         request.end();`,
        [`${daemon.url}/api/ws/status`],
      );
      assert.equal(JSON.parse(upgrade).status, 403);
      assert.ok(isErrorShape(JSON.parse(upgrade).body, 'HTTPS_REQUIRED'));

      // The same box over HTTPS, pinned from the other computer, with tls.connect there.
      const pinned = await lan.node(
        `const tls = await import('node:tls');
         const [host, port, pin] = process.argv.slice(1);
         const socket = tls.connect({ host, port: Number(port), rejectUnauthorized: false });
         socket.once('secureConnect', () => {
           if (socket.getPeerCertificate().fingerprint256 !== pin) { console.log('pin mismatch'); socket.destroy(); return; }
           socket.write('GET /api/auth/setup-required HTTP/1.1\\r\\nHost: ' + host + '\\r\\nConnection: close\\r\\n\\r\\n');
         });
         let reply = '';
         socket.on('data', (chunk) => (reply += chunk));
         socket.on('end', () => console.log(reply.split('\\r\\n\\r\\n')[1]));`,
        [lan.hostAddress, new URL(daemon.url).port, daemon.certificate!.fingerprint],
      );
      assert.equal(JSON.parse(pinned), { setup_required: true, setup_code_required: true });
      assert.is(daemon.store.users.count(), 0, 'nothing was changed');
    } finally {
      await daemon.stop();
    }

    const open = await startTestDaemon({ ...HTTPS, host: lan.hostAddress, plainHttp: 'any' });
    try {
      assert.equal((await lan.request(`${open.url}/api/auth/setup-required`, 'GET')).body, { setup_required: true, setup_code_required: true });
    } finally {
      await open.stop();
    }
  } finally {
    await lan.remove();
  }
});

test('over HTTPS too, a client over its connection cap is answered 429, and a connection that stalls before or inside the handshake is closed', async () => {
  const daemon = await startTestDaemon(HTTPS, { apiLimits: { connectionsPerClient: 2, headersTimeoutMs: 1000, timeoutCheckIntervalMs: 200 } });
  try {
    const port = Number(new URL(daemon.httpsUrl!).port);
    const held = [await pinnedConnection('127.0.0.1', port, daemon.certificate!.fingerprint), await pinnedConnection('127.0.0.1', port, daemon.certificate!.fingerprint)];
    const third = await pinnedConnection('127.0.0.1', port, daemon.certificate!.fingerprint);
    let reply = '';
    third.on('data', (chunk) => (reply += chunk));
    third.write('GET /api/system/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor('the 429', () => reply.includes('}'), 10_000);
    assert.match(reply, /^HTTP\/1\.1 429/);
    assert.ok(isErrorShape(JSON.parse(reply.slice(reply.indexOf('{'))), 'TOO_MANY_CONNECTIONS'));
    [...held, third].forEach((socket) => socket.destroy());

    // Silent, and one byte of a handshake then nothing: both are closed by the daemon, not held.
    for (const bytes of [null, Buffer.from([0x16])]) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      if (bytes) socket.write(bytes);
      const closed = await new Promise<boolean>((resolve) => {
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 15_000).unref();
      });
      assert.ok(closed, `a connection that sent ${bytes ? 'one handshake byte' : 'nothing'} was closed`);
    }
  } finally {
    await daemon.stop();
  }
});

test('a daemon listening on every address lists its .local name and LAN addresses for a phone, and serves plain HTTP on loopback', async () => {
  const daemon = await startTestDaemon({ ...HTTPS, host: '0.0.0.0' });
  try {
    const port = new URL(daemon.httpsUrl!).port;
    const { urls } = daemon.identity();
    assert.is(urls[0], `https://${os.hostname().toLowerCase().split('.')[0]}.local:${port}`);
    const lan = Object.values(os.networkInterfaces()).flat().filter((entry) => entry && !entry.internal && entry.family === 'IPv4');
    assert.equal(urls.slice(1), lan.map((entry) => `https://${entry!.address}:${port}`));
    assert.is((await fetch(`http://127.0.0.1:${port}/api/system/health`)).status, 200);
  } finally {
    await daemon.stop();
  }
});

test.run();
