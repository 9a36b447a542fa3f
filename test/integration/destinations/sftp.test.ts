/** The sftp destination against OpenSSH's own server, started for this file on 127.0.0.1. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sftpDestination } from '../../../src/destinations/sftp/index.ts';
import type { SftpTarget } from '../../../src/destinations/sftp/sftp-store.ts';
import { startSftpServer } from '../../servers.ts';
import { snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

let places = 0;

destinationContract<SftpTarget>('sftp', async () => {
  const server = await startSftpServer();
  return {
    destination: sftpDestination,
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
