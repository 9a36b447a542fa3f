/**
 * A repository job on a remote server (SFTP on OpenSSH, S3 on s3rver), through the daemon as a user
 * runs it, restic judging through the same server: retention (keep_last 2) forgets and prunes there,
 * the API and `restic snapshots` agree and `restic check --read-data` is clean; a verify run passes,
 * then fails naming a pack whose byte was flipped on the server; and at daemon stop the kept reader
 * lets go of the server rather than hold its connection for another minute.
 */
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { startS3Server, startSftpServer } from '../../servers.ts';
import { tlsFront } from '../../tls-front.ts';
import { waitFor } from '../../trees.ts';
import { makeSourceTree } from './fixtures.ts';
import { restic, type ResticResult } from './restic.ts';

/** A server holding the job's repository, as the job and restic reach it. */
interface Server {
  job: { destination_type: string; destination_config: Record<string, unknown>; provider_type: string; data: Record<string, string> };
  /** restic against the repository, through the server. */
  restic(password: string, args: string[]): Promise<ResticResult>;
  /** The repository's pack files as this machine stores them, with their ids. */
  packs(): Promise<Array<{ id: string; file: string; size: number }>>;
  /** The TCP port Cairn connects to. */
  port: number;
  stop(): Promise<void>;
}

interface Context {
  server: Server;
  daemon: TestDaemon;
  admin: ApiClient;
  source: string;
  job: any;
  password: string;
}

async function run(admin: ApiClient, url: string, body?: unknown): Promise<any> {
  const answer = await admin.post(url, body);
  assert.ok(answer.status === 200 || answer.status === 202, `${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return finishedRun(admin, answer.body.run_id, 240_000);
}

async function logOf(admin: ApiClient, runId: number): Promise<string> {
  return ((await admin.get(`/api/runs/${runId}/logs?limit=1000`)).body as Array<{ message: string }>).map((line) => line.message).join('\n');
}

/** Established TCP connections to `port` on this machine, counted from the kernel's table. */
function connectionsTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // rem_address ends in the remote port; state 01 is ESTABLISHED.
      if (fields.length > 3 && fields[2].endsWith(`:${hex}`) && fields[3] === '01') count++;
    }
  }
  return count;
}

/** Files under `folder` (recursively) with their sizes. */
async function filesUnder(folder: string): Promise<Array<{ file: string; size: number }>> {
  const names = (await fs.readdir(folder, { recursive: true })) as string[];
  const files: Array<{ file: string; size: number }> = [];
  for (const name of names) {
    const file = path.join(folder, name);
    const stat = await fs.stat(file);
    if (stat.isFile()) files.push({ file, size: stat.size });
  }
  return files;
}

function remoteSuite(name: string, start: () => Promise<Server>) {
  const remote = suite<Context>(`repository upkeep through ${name}`);

  remote.before(async (context) => {
    context.server = await start();
    context.daemon = await startTestDaemon();
    context.admin = context.daemon.client();
    await context.admin.setupAdmin();
    context.source = path.join(tempDir(), 'source');
    await makeSourceTree(context.source, 6 * 1024 * 1024);
    const { job } = context.server;
    const credential = await context.admin.post('/api/credentials', { name: `${name} credential`, provider_type: job.provider_type, data: job.data });
    assert.is(credential.status, 201, JSON.stringify(credential.body));
    context.job = await createJob(context.admin, {
      name: `Photos to ${name}, encrypted`,
      source_dirs: [context.source],
      destination_type: job.destination_type,
      destination_config: job.destination_config,
      credential_id: credential.body.id,
      backup_mode: 'repository',
      retention: { keep_last: 2 },
    });
    context.password = context.job.repository_password;
  });

  remote.after(async ({ daemon, server }) => {
    await daemon?.stop();
    await server?.stop();
  });

  remote('three runs with keep_last 2 leave two snapshots on the server; restic agrees and checks it clean', async ({ admin, job, source, password, server }) => {
    const first = await run(admin, `/api/jobs/${job.id}/run`);
    assert.is(first.status, 'completed', first.error_message);
    await fs.rm(path.join(source, 'big.bin'));
    const second = await run(admin, `/api/jobs/${job.id}/run`);
    assert.is(second.status, 'completed', second.error_message);
    await fs.writeFile(path.join(source, 'third.txt'), 'the third run\n');
    const third = await run(admin, `/api/jobs/${job.id}/run`);
    assert.is(third.status, 'completed', third.error_message);
    const log = await logOf(admin, third.id);
    assert.match(log, /Removed snapshot [0-9a-f]{8}: no retention rule keeps it/);
    assert.match(log, /Pruned: 1 snapshot\(s\) removed, \d+ pack\(s\) deleted/);
    const listed = await admin.get(`/api/jobs/${job.id}/snapshots`);
    assert.is(listed.status, 200, JSON.stringify(listed.body));
    const apiIds = (listed.body.snapshots as Array<{ id: string }>).map((s) => s.id).sort();
    assert.is(apiIds.length, 2);
    const snapshots = await server.restic(password, ['snapshots', '--json']);
    assert.is(snapshots.code, 0, snapshots.stderr);
    assert.equal((JSON.parse(snapshots.stdout) as Array<{ id: string }>).map((s) => s.id).sort(), apiIds);
    const check = await server.restic(password, ['check', '--read-data']);
    assert.is(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no errors were found/);
  });

  remote('a verify run reads every pack back from the server and passes; a byte flipped there fails it naming the pack', async ({ admin, job, password, server }) => {
    const passed = await run(admin, `/api/jobs/${job.id}/verify`, { percent: 100 });
    assert.is(passed.status, 'completed', passed.error_message);
    assert.ok(passed.verify.files_checked >= 1 && passed.verify.mismatched === 0, JSON.stringify(passed.verify));
    const [pack] = (await server.packs()).sort((a, b) => b.size - a.size);
    const original = await fs.readFile(pack.file);
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 3)] ^= 0x01;
    await fs.writeFile(pack.file, flipped);
    try {
      const failed = await run(admin, `/api/jobs/${job.id}/verify`, { percent: 100 });
      assert.is(failed.status, 'failed');
      assert.ok(failed.error_message.includes(pack.id.slice(0, 12)), failed.error_message);
      assert.ok(failed.verify.mismatched >= 1, JSON.stringify(failed.verify));
      // restic agrees that it is damaged: the verify did not invent it.
      assert.is.not((await server.restic(password, ['check', '--read-data'])).code, 0);
    } finally {
      await fs.writeFile(pack.file, original);
    }
  });

  remote('at daemon stop the kept reader lets go of the server, not a minute later', async (context) => {
    const { admin, job, server } = context;
    const listed = await admin.get(`/api/jobs/${job.id}/snapshots`);
    assert.is(listed.status, 200, JSON.stringify(listed.body));
    if (name === 'SFTP') {
      // The runs' workers have closed theirs: what is left is the kept reader's session.
      assert.ok(connectionsTo(server.port) >= 1, 'the kept reader holds its SFTP connection after the read');
    }
    await context.daemon.stop();
    await waitFor('the kept reader`s connections to close', async () => (connectionsTo(server.port) === 0 ? true : null), 15_000);
  });

  return remote;
}

const sftp = remoteSuite('SFTP', async () => {
  const server = await startSftpServer();
  const repo = path.join(server.root, 'repo');
  const ssh = `ssh -p ${server.port} -i ${path.join(server.dir, 'client_key')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR ${server.username}@127.0.0.1 -s sftp`;
  return {
    job: {
      destination_type: 'sftp',
      destination_config: { host: server.host, port: server.port, username: server.username, remote_path: repo, key_based_auth: false },
      provider_type: 'sftp',
      data: { password: server.password },
    },
    restic: (password, args) => restic(`sftp:${server.username}@127.0.0.1:${repo}`, password, ['-o', `sftp.command=${ssh}`, ...args]),
    packs: async () => (await filesUnder(path.join(repo, 'data'))).map((pack) => ({ ...pack, id: path.basename(pack.file) })),
    port: server.port,
    stop: () => server.stop(),
  };
});

const s3 = remoteSuite('S3', async () => {
  const server = await startS3Server();
  const front = await tlsFront(server.endpoint);
  // restic reads S3 credentials from the environment only; this test process is its own.
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  const suffix = '._S3rver_object';
  return {
    job: {
      destination_type: 's3',
      destination_config: { bucket: server.bucket, prefix: 'backups/repo', region: server.region, endpoint: server.endpoint, storage_class: null },
      provider_type: 's3',
      data: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
    },
    restic: (password, args) => restic(`s3:${front.url}/${server.bucket}/backups/repo`, password, ['--cacert', front.caFile, ...args]),
    packs: async () =>
      (await filesUnder(path.join(server.root, server.bucket, 'backups/repo/data')))
        .filter((object) => object.file.endsWith(suffix))
        .map((object) => ({ ...object, id: path.basename(object.file).slice(0, -suffix.length) })),
    port: Number(new URL(server.endpoint).port),
    stop: async () => {
      await front.stop();
      await server.stop();
    },
  };
});

sftp.run();
s3.run();
