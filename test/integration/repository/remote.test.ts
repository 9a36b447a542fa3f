/**
 * Repositories in remote destinations (SFTP on OpenSSH, S3 on s3rver, WebDAV on `rclone serve
 * webdav`), opened through `openRepositoryBackend` as a job's engine does: Cairn backs a tree
 * up and restores it byte for byte; the stock `restic`, pointed at the same folder on the same
 * server, checks the repository clean (reading every pack) and restores it; Cairn restores what
 * `restic backup` wrote there; range reads give exactly the asked bytes and refuse a file that is
 * missing or shorter than asked. WebDAV is judged through restic's rclone backend with rclone's
 * webdav remote (restic 0.14 has no WebDAV backend of its own). restic reaches s3rver through a
 * TLS front: over plain HTTP its S3 library signs uploads as aws-chunked streams, which s3rver
 * stores with the chunk framing in the object (restic could then not read its own key file).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { openRepositoryBackend } from '../../../src/destinations/repository-backends.ts';
import type { RemoteStore } from '../../../src/destinations/remote/remote-store.ts';
import { openS3Store } from '../../../src/destinations/s3/s3-store.ts';
import { openSftpStore } from '../../../src/destinations/sftp/sftp-store.ts';
import { openWebdavStore } from '../../../src/destinations/webdav/webdav-store.ts';
import { backup, initRepository, openRepository, restore, type ClosableRepositoryBackend } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';
import { startS3Server, startSftpServer, startWebdavServer } from '../../servers.ts';
import { tlsFront } from '../../tls-front.ts';
import { makeSourceTree, summarize } from './fixtures.ts';
import { resticOk } from './restic.ts';

const PASSWORD = 'remote repository password';
/** Big enough that its chunks fill more than two 16 MiB packs. */
const BIG_FILE = 40 * 1024 * 1024;

const work = tempDir('cairn-remote-repo-');
const source = path.join(work, 'source');
let sourceSummary: Awaited<ReturnType<typeof summarize>>;
const hostKeys = new FileHostKeyPins(path.join(work, 'host-keys.json'));

/** One server with two repository folders on it: what Cairn opens, and what restic is pointed at. */
interface Place {
  /** Opens the repository folder `folder` on the server through the destination, as a job will. */
  open(folder: string): Promise<ClosableRepositoryBackend>;
  /** The destination's own store at `folder`. */
  store(folder: string): Promise<RemoteStore>;
  /** restic's `-r` for that folder, and the options that make it reach the test server. */
  restic(folder: string): { repo: string; options: string[] };
  stop(): Promise<void>;
}

function repositorySuite(name: string, start: () => Promise<Place>) {
  const it = suite(`repository through ${name}`);
  let place: Place;
  let cairnSnapshot = '';
  const resticRun = (folder: string, args: string[], cwd?: string) => {
    const { repo, options } = place.restic(folder);
    return resticOk(repo, PASSWORD, [...options, ...args], cwd);
  };

  it.before(async () => {
    place = await start();
  });
  it.after(async () => {
    await place?.stop();
  });

  it('Cairn backs a tree up into the remote folder and restores it byte for byte, with modes and times', async () => {
    const backend = await place.open('cairn-repo');
    try {
      const repo = await initRepository(backend, PASSWORD);
      await repo.loadIndex();
      const result = await backup(repo, { paths: [source], hostname: 'cairn-pi', tags: ['remote'] });
      cairnSnapshot = result.snapshotId;
      assert.equal(result.warnings, []);
      let packs = 0;
      for await (const entry of backend.list('data')) packs += entry.size > 0 ? 1 : 0;
      assert.ok(packs >= 3, `the big file spans several packs: ${packs}`);
    } finally {
      await backend.close();
    }
    const reopened = await place.open('cairn-repo');
    try {
      const repo = await openRepository(reopened, PASSWORD);
      await repo.loadIndex();
      const target = path.join(work, `${name}-cairn-restore`);
      const restored = await restore(repo, { snapshot: cairnSnapshot, target });
      assert.equal(await summarize(path.join(target, source)), sourceSummary);
      assert.ok(restored.bytes > BIG_FILE);
    } finally {
      await reopened.close();
    }
  });

  it('restic checks every byte of the repository Cairn wrote there, lists the snapshot, restores it byte for byte and backs up into it', async () => {
    await resticRun('cairn-repo', ['check', '--read-data']);
    const snapshots = JSON.parse(await resticRun('cairn-repo', ['snapshots', '--json']));
    assert.is(snapshots.length, 1);
    assert.is(snapshots[0].id, cairnSnapshot);
    assert.is(snapshots[0].hostname, 'cairn-pi');
    assert.equal(snapshots[0].tags, ['remote']);
    const target = path.join(work, `${name}-restic-restore`);
    await resticRun('cairn-repo', ['restore', 'latest', '--target', target]);
    assert.equal(await summarize(path.join(target, source)), sourceSummary);
    // And restic can add to it there (its folders made as it needs them), leaving it clean.
    await resticRun('cairn-repo', ['backup', '--host', 'laptop', path.join(source, 'docs')]);
    await resticRun('cairn-repo', ['check']);
  });

  it('Cairn restores byte for byte what `restic backup` wrote into a repository on the same server', async () => {
    await resticRun('restic-repo', ['init', '--repository-version', '1']);
    await resticRun('restic-repo', ['backup', '--host', 'laptop', source]);
    const backend = await place.open('restic-repo');
    try {
      const repo = await openRepository(backend, PASSWORD);
      await repo.loadIndex();
      const target = path.join(work, `${name}-from-restic`);
      const restored = await restore(repo, { snapshot: 'latest', target });
      assert.equal(await summarize(path.join(target, source)), sourceSummary);
      assert.ok(restored.files >= 9);
    } finally {
      await backend.close();
    }
  });

  it('the store reads exactly the asked bytes at any offset; a missing file is REMOTE_FILE_MISSING, one shorter than the range REMOTE_FILE_SHORT', async () => {
    const store = await place.store('store-ranges');
    try {
      const bytes = randomBytes(300 * 1024 + 7);
      await store.put({ path: 'blob.bin', body: Readable.from([bytes]), size: bytes.length, mtimeMs: Date.now(), signal: new AbortController().signal });
      assert.equal(await store.stat('blob.bin'), { size: bytes.length });
      assert.is(await store.stat('nothing.bin'), null);
      assert.ok((await store.read('blob.bin')).equals(bytes), 'the whole file');
      for (const [offset, length] of [[0, 1], [0, 100], [12_345, 200_000], [bytes.length - 1, 1], [70_000, bytes.length - 70_000]]) {
        const got = await store.read('blob.bin', { offset, length });
        assert.ok(got.equals(bytes.subarray(offset, offset + length)), `bytes ${offset}+${length}: got ${got.length} bytes`);
      }
      for (const range of [{ offset: bytes.length - 10, length: 11 }, { offset: bytes.length + 5, length: 10 }]) {
        const short = await store.read('blob.bin', range).catch((error) => error);
        assert.is(short.code, 'REMOTE_FILE_SHORT', JSON.stringify(range));
        assert.match(short.message, 'blob.bin');
      }
      for (const range of [undefined, { offset: 0, length: 10 }]) {
        const error = await store.read('nothing.bin', range).catch((e) => e);
        assert.is(error.code, 'REMOTE_FILE_MISSING');
        assert.match(error.message, 'nothing.bin');
      }
    } finally {
      await store.close();
    }
  });

  it('the repository reads exact ranges of a pack (read ahead in windows); a missing pack or one shorter than the range is REPOSITORY_FILE_MISSING', async () => {
    const backend = await place.open('ranges');
    try {
      const id = randomBytes(32).toString('hex');
      const file = `data/${id.slice(0, 2)}/${id}`;
      const bytes = randomBytes(5 * 1024 * 1024 + 3);
      await backend.write(file, bytes);
      assert.equal(await backend.stat(file), { size: bytes.length });
      const window = 4 * 1024 * 1024;
      for (const [offset, length] of [[0, 100], [100, 5_000], [window - 10, 20], [window + 5, 1_000], [bytes.length - 1, 1], [3, 0], [0, bytes.length]]) {
        const got = await backend.read(file, { offset, length });
        assert.ok(got.equals(bytes.subarray(offset, offset + length)), `bytes ${offset}+${length}: got ${got.length} bytes`);
      }
      const listed = [];
      for await (const entry of backend.list('data')) listed.push(entry);
      assert.equal(listed, [{ name: id, size: bytes.length }]);

      for (const range of [{ offset: bytes.length - 10, length: 11 }, { offset: bytes.length + 5, length: 10 }]) {
        const short = await backend.read(file, range).catch((error) => error);
        assert.is(short.code, 'REPOSITORY_FILE_MISSING', JSON.stringify(range));
        assert.match(short.message, id);
      }
      const gone = `data/ab/${'ab'.repeat(32)}`;
      for (const range of [undefined, { offset: 0, length: 10 }, { offset: 0, length: 0 }]) {
        const error = await backend.read(gone, range).catch((e) => e);
        assert.is(error.code, 'REPOSITORY_FILE_MISSING', JSON.stringify(range));
        assert.match(error.message, gone);
      }
      await backend.remove(file);
      const removed = await backend.read(file, { offset: 0, length: 100 }).catch((e) => e);
      assert.is(removed.code, 'REPOSITORY_FILE_MISSING', 'a removed pack is not read from what was kept of it');
    } finally {
      await backend.close();
    }
  });

  return it;
}

/** Opens `folder` through the job's way into a `type` destination's repository and through `openStore` (its store) with `config(folder)` and `secret`. */
function openers<C>(type: string, openStore: (config: C, secret: Record<string, string>, hostKeys: FileHostKeyPins) => Promise<RemoteStore>, config: (folder: string) => C, secret: Record<string, string>) {
  return {
    open: (folder: string) => openRepositoryBackend(type, config(folder), secret, hostKeys),
    store: (folder: string) => openStore(config(folder), secret, hostKeys),
  };
}

const sftp = repositorySuite('SFTP', async () => {
  const server = await startSftpServer();
  const key = path.join(server.dir, 'client_key');
  // restic starts ssh itself: the test server's port and key, and no known_hosts to consult.
  const ssh = `ssh -p ${server.port} -i ${key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR ${server.username}@127.0.0.1 -s sftp`;
  return {
    ...openers('sftp', openSftpStore, (folder) => ({ host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, folder), key_based_auth: false }), {
      password: server.password,
    }),
    restic: (folder) => ({ repo: `sftp:${server.username}@127.0.0.1:${path.join(server.root, folder)}`, options: ['-o', `sftp.command=${ssh}`] }),
    stop: () => server.stop(),
  };
});

const s3 = repositorySuite('S3', async () => {
  const server = await startS3Server();
  const front = await tlsFront(server.endpoint);
  // restic reads S3 credentials from the environment only; this test process is its own.
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  return {
    ...openers('s3', openS3Store, (folder) => ({ bucket: server.bucket, prefix: `backups/${folder}`, region: server.region, endpoint: server.endpoint, storage_class: null }), {
      access_key_id: server.accessKeyId,
      secret_access_key: server.secretAccessKey,
    }),
    restic: (folder) => ({ repo: `s3:${front.url}/${server.bucket}/backups/${folder}`, options: ['--cacert', front.caFile] }),
    stop: async () => {
      await front.stop();
      await server.stop();
    },
  };
});

const webdav = repositorySuite('WebDAV', async () => {
  const server = await startWebdavServer();
  const obscured = execFileSync('rclone', ['obscure', server.password], { encoding: 'utf8' }).trim();
  return {
    ...openers('webdav', openWebdavStore, (folder) => ({ url: server.url, remote_path: `backups/${folder}` }), { username: server.username, password: server.password }),
    // restic's rclone backend runs `rclone serve restic --stdio` on an on-the-fly webdav remote.
    restic: (folder) => ({ repo: `rclone::webdav,url='${server.url}',user=${server.username},pass=${obscured}:backups/${folder}`, options: [] }),
    stop: () => server.stop(),
  };
});

const setup = suite('the source tree');
setup('is made once for every store', async () => {
  await makeSourceTree(source, BIG_FILE);
  sourceSummary = await summarize(source);
});

setup.run();
sftp.run();
s3.run();
webdav.run();
