/**
 * A repository job on an SFTP server (OpenSSH), through the daemon as a user runs it, restic
 * judging over SFTP too: retention (keep_last 2) forgets and prunes on the server, the API and
 * `restic snapshots` agree and `restic check --read-data` is clean; a verify run passes, then fails
 * naming a pack whose byte was flipped on the server; and at daemon stop the kept reader logs out
 * of the server rather than hold its connection for another minute.
 */
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir, type ApiClient, type TestDaemon } from '../../helpers.ts';
import { startSftpServer, type SftpServer } from '../../servers.ts';
import { waitFor } from '../../trees.ts';
import { makeSourceTree } from './fixtures.ts';
import { restic } from './restic.ts';

interface Context {
  server: SftpServer;
  daemon: TestDaemon;
  admin: ApiClient;
  source: string;
  job: any;
  password: string;
  /** The repository folder on the server, as this machine sees it. */
  repo: string;
}

const remote = suite<Context>('repository upkeep through SFTP');

/** restic against the job's repository through the test server, with the test's client key. */
function resticSftp({ server }: Context, password: string, args: string[]) {
  const ssh = `ssh -p ${server.port} -i ${path.join(server.dir, 'client_key')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR ${server.username}@127.0.0.1 -s sftp`;
  return restic(`sftp:${server.username}@127.0.0.1:${path.join(server.root, 'repo')}`, password, ['-o', `sftp.command=${ssh}`, ...args]);
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

remote.before(async (context) => {
  context.server = await startSftpServer();
  context.daemon = await startTestDaemon();
  context.admin = context.daemon.client();
  await context.admin.setupAdmin();
  context.source = path.join(tempDir(), 'source');
  await makeSourceTree(context.source, 6 * 1024 * 1024);
  const { server, admin } = context;
  const credential = await admin.post('/api/credentials', { name: 'NAS', provider_type: 'sftp', data: { password: server.password } });
  assert.is(credential.status, 201, JSON.stringify(credential.body));
  context.job = await createJob(admin, {
    name: 'Photos to the NAS, encrypted',
    source_dirs: [context.source],
    destination_type: 'sftp',
    destination_config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'repo'), key_based_auth: false },
    credential_id: credential.body.id,
    backup_mode: 'repository',
    retention: { keep_last: 2 },
  });
  context.password = context.job.repository_password;
  context.repo = path.join(server.root, 'repo');
});

remote.after(async ({ daemon, server }) => {
  await daemon?.stop();
  await server?.stop();
});

remote('three runs with keep_last 2 leave two snapshots on the server; restic agrees and checks it clean', async (context) => {
  const { admin, job, source, password } = context;
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
  const snapshots = await resticSftp(context, password, ['snapshots', '--json']);
  assert.is(snapshots.code, 0, snapshots.stderr);
  assert.equal((JSON.parse(snapshots.stdout) as Array<{ id: string }>).map((s) => s.id).sort(), apiIds);
  assert.equal(await fs.readdir(path.join(context.repo, 'locks')), []);
  const check = await resticSftp(context, password, ['check', '--read-data']);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /no errors were found/);
});

remote('a verify run reads every pack back over SFTP and passes; a byte flipped on the server fails it naming the pack', async (context) => {
  const { admin, job, password } = context;
  const passed = await run(admin, `/api/jobs/${job.id}/verify`, { percent: 100 });
  assert.is(passed.status, 'completed', passed.error_message);
  assert.ok(passed.verify.files_checked >= 1 && passed.verify.mismatched === 0, JSON.stringify(passed.verify));
  const packs: Array<{ file: string; size: number }> = [];
  for (const sub of await fs.readdir(path.join(context.repo, 'data'))) {
    for (const name of await fs.readdir(path.join(context.repo, 'data', sub))) {
      const file = path.join(context.repo, 'data', sub, name);
      packs.push({ file, size: (await fs.stat(file)).size });
    }
  }
  const [pack] = packs.sort((a, b) => b.size - a.size);
  const original = await fs.readFile(pack.file);
  const flipped = Buffer.from(original);
  flipped[Math.floor(flipped.length / 3)] ^= 0x01;
  await fs.writeFile(pack.file, flipped);
  try {
    const failed = await run(admin, `/api/jobs/${job.id}/verify`, { percent: 100 });
    assert.is(failed.status, 'failed');
    assert.ok(failed.error_message.includes(path.basename(pack.file).slice(0, 12)), failed.error_message);
    assert.ok(failed.verify.mismatched >= 1, JSON.stringify(failed.verify));
    // restic agrees that it is damaged: the verify did not invent it.
    assert.is.not((await resticSftp(context, password, ['check', '--read-data'])).code, 0);
  } finally {
    await fs.writeFile(pack.file, original);
  }
});

remote('at daemon stop the kept reader logs out of the server, not a minute later', async (context) => {
  const { admin, job, server } = context;
  const listed = await admin.get(`/api/jobs/${job.id}/snapshots`);
  assert.is(listed.status, 200, JSON.stringify(listed.body));
  // The runs' workers have closed theirs: what is left is the kept reader's.
  assert.ok(connectionsTo(server.port) >= 1, 'the kept reader holds its SFTP connection after the read');
  await context.daemon.stop();
  await waitFor('the kept reader`s connection to close', async () => (connectionsTo(server.port) === 0 ? true : null), 15_000);
});

remote.run();
