/** The webdav destination against `rclone serve webdav`, started for this file on 127.0.0.1. */
import { appendFileSync, cpSync, existsSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { webdavDestination } from '../../../src/destinations/webdav/index.ts';
import type { WebdavTarget } from '../../../src/destinations/webdav/webdav-store.ts';
import { startWebdavServer, type WebdavServer } from '../../servers.ts';
import { tempDir } from '../../helpers.ts';
import { fileContent, makeSampleTree, snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

let places = 0;

destinationContract<WebdavTarget>('webdav', webdavDestination, async () => {
  const server = await startWebdavServer();
  return {
    secret: { username: server.username, password: server.password },
    wrongSecret: { username: server.username, password: 'not-the-password' },
    place() {
      const name = `place-${++places}`;
      const folder = path.join(server.root, name);
      return {
        config: { url: server.url, remote_path: name },
        files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
      };
    },
    stop: () => server.stop(),
  };
});

const copy = suite<{ server: WebdavServer }>('webdav: a first run over a copy already on the server');
copy.before(async (context) => {
  context.server = await startWebdavServer();
});
copy.after(async (context) => {
  await context.server?.stop();
});

const options = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' as const };

copy('files the server lists with the same size and second are kept; another time or size is sent', async ({ server }) => {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  makeSampleTree(source, { largeFileBytes: 1024 * 1024 });
  // A copy made with its mtimes (cp -a, rsync -a), as an owner moving to Cairn has, and no record of sent files yet.
  const folder = path.join(server.root, 'copied');
  cpSync(source, path.join(folder, 'photos'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const sent = filesOnly(snapshotTree(source), 'photos/');
  // One copy is older, same size (an edit the copy missed); one differs in size.
  const older = path.join(folder, 'photos', 'docs', 'report.pdf');
  writeFileSync(older, fileContent('report v0', 10_000));
  utimesSync(older, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
  appendFileSync(path.join(folder, 'photos', 'résumé.txt'), 'x');
  const config = { url: server.url, remote_path: 'copied' };
  const sync = () =>
    webdavDestination.sync({
      config,
      secret: { username: server.username, password: server.password },
      sources: [source],
      realSources: [source],
      options,
      signal: new AbortController().signal,
      stateFile: path.join(tempDir(), 'sent.json'),
      hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
      log: () => undefined,
      progress: () => undefined,
    });
  const first = await sync();
  assert.equal(first, { files_transferred: 2, bytes_transferred: 10_000 + 100, files_deleted: 0 }, 'only the two that differ are sent');
  assert.equal(filesOnly(snapshotTree(folder)), sent);

  // A restore takes the listed time too (here the source's, kept by the copy).
  const target = tempDir();
  await webdavDestination.restore({
    config,
    secret: { username: server.username, password: server.password },
    sources: [source],
    target,
    paths: ['photos/docs/notes'],
    verbosity: 'normal',
    hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
  });
  const restored = statSync(path.join(target, 'photos', 'docs', 'notes', 'todo.md')).mtimeMs;
  assert.is(Math.floor(restored / 1000), Math.floor(statSync(path.join(source, 'docs', 'notes', 'todo.md')).mtimeMs / 1000));
});

copy.run();
