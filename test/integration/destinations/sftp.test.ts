/** The sftp destination against OpenSSH's own server, started for this file on 127.0.0.1. */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eachEntry } from '../../../src/destinations/remote/sorted-paths.ts';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { sftpDestination } from '../../../src/destinations/sftp/index.ts';
import { openSftpStore, type SftpStore, type SftpTarget } from '../../../src/destinations/sftp/sftp-store.ts';
import { startSftpServer, type SftpServer } from '../../servers.ts';
import { tempDir } from '../../helpers.ts';
import { fileContent, snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

let places = 0;

destinationContract<SftpTarget>('sftp', sftpDestination, async () => {
  const server = await startSftpServer();
  return {
    secret: { password: server.password },
    wrongSecret: { password: 'not-the-password' },
    place() {
      const folder = path.join(server.root, `place-${++places}`);
      return {
        config: { host: server.host, port: server.port, username: server.username, remote_path: folder, key_based_auth: false },
        files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
      };
    },
    stop: () => server.stop(),
  };
});

const stalled = suite('sftp: a server that stops answering');

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const children = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [pid, ...children.flatMap(processTree)];
}

stalled('a cancel ends the run within seconds even when sshd hangs with the connection up', async () => {
  const server = await startSftpServer();
  const frozen: number[] = [];
  try {
    const source = path.join(tempDir(), 'photos');
    mkdirSync(source);
    writeFileSync(path.join(source, 'big.bin'), fileContent('big', 8 * 1024 * 1024));
    const controller = new AbortController();
    const run = sftpDestination.sync({
      config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'stalled'), key_based_auth: false },
      secret: { password: server.password },
      sources: [source],
      realSources: [source],
      options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: 1024, dry_run: false, verbosity: 'normal' },
      signal: controller.signal,
      stateFile: path.join(tempDir(), 'sent.json'),
      hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
      log: () => undefined,
      progress: () => undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // SIGSTOP: the server and its session freeze, the TCP connection stays up.
    for (const pid of processTree(server.pid)) {
      process.kill(pid, 'SIGSTOP');
      frozen.push(pid);
    }
    const cancelled = Date.now();
    controller.abort('cancelled');
    const outcome = await Promise.race([run.then(() => 'completed', (error) => error), new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    assert.is(outcome, 'cancelled');
    assert.ok(Date.now() - cancelled < 10_000, `ended ${Date.now() - cancelled} ms after the cancel`);
  } finally {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await server.stop();
  }
});

stalled.run();

const listing = suite('sftp: listing a large tree');

/** Counts what sockets hand the kernel (one write or writev each) until `stop`. */
function countSocketWrites(): { stop(): number } {
  const prototype = Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = prototype._writeGeneric;
  let writes = 0;
  prototype._writeGeneric = function (this: Socket, ...args: unknown[]) {
    writes++;
    return original.apply(this, args);
  };
  return {
    stop() {
      prototype._writeGeneric = original;
      return writes;
    },
  };
}

/** A tree of `folders` folders of `filesEach` empty files under `tree/` on the server. */
function makeServerTree(root: string, folders: number, filesEach: number): void {
  for (let folder = 0; folder < folders; folder++) {
    const where = path.join(root, 'tree', `folder-${folder}`);
    mkdirSync(where, { recursive: true });
    for (let file = 0; file < filesEach; file++) writeFileSync(path.join(where, `file-${file}`), '');
  }
}

/** ssh2's SFTP client class, whose methods every channel calls (the package declares no types for it). */
const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: Record<string, (...args: unknown[]) => unknown> } };

/** Counts the calls of one method of ssh2's SFTP client until `stop`. */
function countSftpCalls(method: 'readdir' | 'opendir'): { stop(): number } {
  const prototype = SFTP.prototype;
  const original = prototype[method];
  let calls = 0;
  prototype[method] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  return {
    stop() {
      prototype[method] = original;
      return calls;
    },
  };
}

/** Every file of `tree/` as the store lists it, while `counting` runs. */
async function listTree(server: SftpServer, counting: () => void): Promise<number> {
  const store = await openSftpStore({ host: server.host, port: server.port, username: server.username, remote_path: server.root, key_based_auth: false }, { password: server.password }, { check: async () => 'pinned' });
  try {
    counting();
    let files = 0;
    for await (const _ of eachEntry(store.walk('tree', new AbortController().signal))) files++;
    return files;
  } finally {
    await store.close();
  }
}

listing('the requests of a folder listing leave in a few socket writes, not one per request', async () => {
  const server = await startSftpServer();
  const folders = 30;
  try {
    makeServerTree(server.root, folders, 150);
    let writes: { stop(): number } | undefined;
    try {
      assert.is(await listTree(server, () => (writes = countSocketWrites())), folders * 150);
    } finally {
      const count = writes?.stop() ?? 0;
      // Each folder takes an open, a few page requests and a close, and without ssh2's native
      // crypto (the binary) each packet is three writes. Gathered, a few writes per folder at most.
      assert.ok(count <= (folders + 1) * 4, `${count} socket writes to list ${folders + 1} folders`);
    }
  } finally {
    await server.stop();
  }
});

listing('a folder of 150 files is read with three page requests, none asked past its end', async () => {
  const server = await startSftpServer();
  const folders = 30;
  try {
    makeServerTree(server.root, folders, 150);
    let readdirs: { stop(): number } | undefined;
    let opendirs: { stop(): number } | undefined;
    try {
      const files = await listTree(server, () => {
        readdirs = countSftpCalls('readdir');
        opendirs = countSftpCalls('opendir');
      });
      assert.is(files, folders * 150);
    } finally {
      // OpenSSH sends 100 names a page: 100, 50, then the end. The root (30 names): one page, then the end.
      const pages = readdirs?.stop() ?? 0;
      assert.is(opendirs?.stop(), folders + 1);
      assert.ok(pages <= (folders + 1) * 3, `${pages} page requests for ${folders + 1} folders`);
    }
  } finally {
    await server.stop();
  }
});

/** Open folder and file handles of the server's processes (each SFTP handle is an open descriptor of one of them). */
function openHandles(server: SftpServer): number {
  let handles = 0;
  for (const pid of processTree(server.pid)) {
    try {
      handles += readdirSync(`/proc/${pid}/fd`)
        .map((fd) => readlinkSafe(`/proc/${pid}/fd/${fd}`))
        .filter((target) => target.startsWith(server.root)).length;
    } catch {
      // A process that ended meanwhile holds nothing.
    }
  }
  return handles;
}

function readlinkSafe(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}

/** Page requests per folder (by the path opened) until `stop`: a handle belongs to its channel and is reused once closed. */
function countPagesPerFolder(): { stop(): Map<string, number> } {
  const prototype = SFTP.prototype;
  const { opendir, readdir } = prototype;
  const channels = new WeakMap<object, Map<string, string>>();
  const pages = new Map<string, number>();
  const folderOf = (channel: object) => channels.get(channel) ?? channels.set(channel, new Map()).get(channel)!;
  prototype.opendir = function (this: object, folder: unknown, done: unknown) {
    return opendir.call(this, folder, (error: Error | undefined, handle: Buffer) => {
      if (!error) folderOf(this).set(handle.toString('hex'), String(folder));
      (done as (...args: unknown[]) => void)(error, handle);
    });
  };
  prototype.readdir = function (this: object, handle: unknown, ...rest: unknown[]) {
    const folder = folderOf(this).get((handle as Buffer).toString('hex')) ?? '?';
    pages.set(folder, (pages.get(folder) ?? 0) + 1);
    return readdir.call(this, handle, ...rest);
  };
  return {
    stop() {
      Object.assign(prototype, { opendir, readdir });
      return pages;
    },
  };
}

listing('folders listed ahead read only their first pages until the walk reaches them, and close when it stops', async () => {
  const server = await startSftpServer();
  const folders = 40;
  try {
    makeServerTree(server.root, folders, 700);
    const store = await openSftpStore({ host: server.host, port: server.port, username: server.username, remote_path: server.root, key_based_auth: false }, { password: server.password }, { check: async () => 'pinned' });
    const counting = countPagesPerFolder();
    let pages = new Map<string, number>();
    try {
      const walk = store.walk('tree', new AbortController().signal);
      assert.is((await walk.next()).value?.[0]?.[0], 'folder-0/file-0');
      // Time for every folder asked ahead to read as far as it may.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      pages = counting.stop();
      await walk.return(undefined);
      // The closes are sent, not waited for: give the server a moment to act on them.
      for (let wait = 0; wait < 50 && openHandles(server) > 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.is(openHandles(server), 0, 'every folder handle is closed once the walk stopped');
    } finally {
      counting.stop();
      await store.close();
    }
    // OpenSSH sends 100 names a page: a folder of 700 is 7 pages and the end. folder-0, reached, is
    // read whole; the others, asked ahead, no further than their first 3 pages.
    const ahead = [...pages].filter(([folder]) => /folder-\d+$/.test(folder) && !folder.endsWith('/folder-0'));
    assert.is(pages.get(path.join(server.root, 'tree', 'folder-0')), 9);
    assert.ok(ahead.length > 8, `${ahead.length} folders listed ahead`);
    for (const [folder, count] of ahead) assert.ok(count <= 3, `${folder}: ${count} page requests before the walk reached it`);
  } finally {
    await server.stop();
  }
});

listing('a server that lets a session hold few open files still lists every folder: folders listed ahead let go of their handles', async () => {
  // 40 open files a process: about 30 folder handles a session, fewer than the ~43 of the 128
  // folders listed ahead that each of the three listing channels would hold.
  const server = await startSftpServer({ openFiles: 40 });
  try {
    makeServerTree(server.root, 140, 301);
    let files = 0;
    try {
      files = await listTree(server, () => undefined);
    } catch (error) {
      assert.unreachable(`the listing failed: ${(error as Error).message}`);
    }
    assert.is(files, 140 * 301);
  } finally {
    await server.stop();
  }
});

listing.run();

const ended = suite('sftp: the server ending the session');

ended('requests pending when the SFTP session ends read as the connection lost, not as an SFTP error', async () => {
  const server = await startSftpServer();
  const store = await openSftpStore({ host: server.host, port: server.port, username: server.username, remote_path: server.root, key_based_auth: false }, { password: server.password }, { check: async () => 'pinned' });
  try {
    const pending = store.stat('anything').catch((error) => error);
    // What ssh2 does when the server's side of the SFTP channel ends (a server shutting down ends the
    // session before the connection): the channel's end, with the stat still unanswered.
    (store as unknown as { sftp: { push(data: null): void } }).sftp.push(null);
    const error = await pending;
    assert.is(error.code, 'DESTINATION_UNREACHABLE');
    assert.match(error.message, /connection to 127\.0\.0\.1:\d+ was lost while reading the size of/);
  } finally {
    await store.close();
    await server.stop();
  }
});

type Walk = ReturnType<SftpStore['walk']>;

/** A walk of `tree/` begun: its first batch read (folder-0), then a second for the folders asked ahead to read their first pages and wait. */
async function walkBegun(store: SftpStore): Promise<{ walk: Walk; files: number }> {
  const walk = store.walk('tree', new AbortController().signal);
  const first = await walk.next();
  assert.is(first.value?.[0]?.[0], 'folder-0/file-0');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { walk, files: first.value?.length ?? 0 };
}

/** The rest of a walk begun: 'listed', what `failed` makes of its error, or that it still waits after 10 s; and the files it gave in all. */
async function walkRest(begun: { walk: Walk; files: number }, failed: (error: unknown) => unknown): Promise<{ outcome: unknown; files: number }> {
  let { files } = begun;
  const walked = (async () => {
    for (let next = await begun.walk.next(); !next.done; next = await begun.walk.next()) files += next.value.length;
    return 'listed';
  })().catch(failed);
  const outcome = await Promise.race([walked, new Promise((resolve) => setTimeout(() => resolve(`still waiting after 10 s, ${files} files listed`), 10_000).unref())]);
  return { outcome, files };
}

/** `check` against a store on a fresh server holding `folders` folders of `filesEach` empty files under `tree/`. */
async function withTree(folders: number, filesEach: number, check: (server: SftpServer, store: SftpStore) => Promise<void>): Promise<void> {
  const server = await startSftpServer();
  try {
    makeServerTree(server.root, folders, filesEach);
    const store = await openSftpStore({ host: server.host, port: server.port, username: server.username, remote_path: server.root, key_based_auth: false }, { password: server.password }, { check: async () => 'pinned' });
    try {
      await check(server, store);
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
}

ended('a listing channel the server ends while folders wait to be reached: the walk lists them again through another, and never hangs', async () => {
  // Folders of 400 names: more than a folder listed ahead reads before the walk reaches it.
  await withTree(12, 400, async (server, store) => {
    const begun = await walkBegun(store);
    // The server ends the SFTP session holding folder-1, the next one reached (its process goes;
    // the connection and the other sessions stay).
    const serving = processTree(server.pid).find((pid) => holds(pid, path.join(server.root, 'tree', 'folder-1')));
    assert.ok(serving, 'a server process holds folder-1, listed ahead');
    process.kill(serving!, 'SIGKILL');
    // Time for the session's end to reach the client: folder-1 is read further only after it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { outcome, files } = await walkRest(begun, (error) => `failed: ${(error as Error).message}`);
    assert.is(outcome, 'listed');
    assert.is(files, 12 * 400, 'every file of every folder');
  });
});

ended('the connection lost while folders wait to be reached fails the walk at once as a lost connection', async () => {
  await withTree(12, 400, async (server, store) => {
    const begun = await walkBegun(store);
    // Every process of this connection goes; the server itself (the first) stays.
    for (const pid of processTree(server.pid).slice(1).reverse()) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { outcome, files } = await walkRest(begun, (error) => (error as { code?: string }).code);
    assert.is(outcome, 'DESTINATION_UNREACHABLE');
    assert.is(files, 400, 'nothing of the folders waiting to be reached is passed on as if whole');
  });
});

/** Whether process `pid` has `file` open. */
function holds(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSafe(`/proc/${pid}/fd/${fd}`) === file);
  } catch {
    return false;
  }
}

ended.run();
