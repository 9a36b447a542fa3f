/** The webdav destination against `rclone serve webdav`, started for this file on 127.0.0.1. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { webdavDestination } from '../../../src/destinations/webdav/index.ts';
import type { WebdavTarget } from '../../../src/destinations/webdav/webdav-store.ts';
import { startWebdavServer } from '../../servers.ts';
import { snapshotTree } from '../../trees.ts';
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
