/** The local destination (rsync) through the same contract as the remote ones. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { localDestination, type LocalConfig } from '../../../src/destinations/local/index.ts';
import { tempDir } from '../../helpers.ts';
import { snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

destinationContract<LocalConfig>('local', localDestination, async () => ({
  secret: null,
  wrongSecret: null,
  place() {
    const mount = tempDir('cairn-mount-');
    const root = path.join(mount, 'cairn');
    return {
      config: { mount_point: mount, backup_subdir: 'cairn', usb_uuid: null, auto_mount: false, auto_unmount: false },
      files: async () => (existsSync(root) ? filesOnly(snapshotTree(root)) : {}),
    };
  },
  stop: null,
}));
