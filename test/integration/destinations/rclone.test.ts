/**
 * The `rclone` destination (any rclone remote) through the shared contract, end to end through the
 * rclone program and three remotes that run here: rclone's local backend, its sftp backend against
 * OpenSSH's own server, and its webdav backend against the WebDAV test server. Google Drive and
 * OneDrive run through the same code with a different remote; their services cannot be reached here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { rcloneGenericDestination, type RcloneConfig } from '../../../src/destinations/rclone/index.ts';
import type { Destination } from '../../../src/destinations/types.ts';
import { startSftpServer, startWebdavServer } from '../../servers.ts';
import { tempDir } from '../../helpers.ts';
import { snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

/** The rclone destination as one remote makes it: a remote with a login needs a credential, one without has no server to lose. */
function withRemote(over: { requiresCredentials: boolean; hasServer: true | string; sizeOnly?: string }): Destination<RcloneConfig> {
  return {
    ...rcloneGenericDestination,
    capabilities: { ...rcloneGenericDestination.capabilities, requires_credentials: over.requiresCredentials },
    guarantees: { ...rcloneGenericDestination.guarantees, has_server: over.hasServer, ...(over.sizeOnly ? { sees_same_size_edits: over.sizeOnly } : {}) },
  };
}

let places = 0;

destinationContract<RcloneConfig>('rclone local', withRemote({ requiresCredentials: false, hasServer: 'the local backend has no server to lose' }), async () => ({
  secret: null,
  wrongSecret: null,
  place() {
    const folder = path.join(tempDir('cairn-rclone-'), 'backup');
    return {
      config: { remote_type: 'local', options: {}, path: folder },
      files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
    };
  },
  stop: null,
}));

destinationContract<RcloneConfig>('rclone sftp', withRemote({ requiresCredentials: true, hasServer: true }), async () => {
  const server = await startSftpServer();
  return {
    secret: { pass: server.password },
    wrongSecret: { pass: 'not-the-password' },
    place() {
      const folder = path.join(server.root, `place-${++places}`);
      return {
        config: { remote_type: 'sftp', options: { host: server.host, port: String(server.port), user: server.username }, path: folder },
        files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
      };
    },
    stop: () => server.stop(),
  };
});

const sizeOnly = 'a generic WebDAV server keeps no modification times rclone can set, so rclone compares sizes only (the webdav destination remembers what it sent instead)';

destinationContract<RcloneConfig>('rclone webdav', withRemote({ requiresCredentials: true, hasServer: true, sizeOnly }), async () => {
  const server = await startWebdavServer();
  return {
    secret: { pass: server.password },
    wrongSecret: { pass: 'not-the-password' },
    place() {
      const name = `place-${++places}`;
      const folder = path.join(server.root, name);
      return {
        config: { remote_type: 'webdav', options: { url: server.url, vendor: 'other', user: server.username }, path: name },
        files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
      };
    },
    stop: () => server.stop(),
  };
});
