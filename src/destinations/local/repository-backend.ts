/**
 * A repository in a `local` job's backup folder (a folder here or on a USB drive), after the same
 * checks as its snapshot folder: the drive is mounted, the folder stays inside it. On a USB drive
 * each write first checks the drive is still mounted, so a drive pulled mid-run never makes the
 * repository's folders on the bare mount point.
 */
import { LocalBackend } from '../../repository/local-backend.ts';
import type { ClosableRepositoryBackend } from '../../repository/backend.ts';
import { checkMount, checkStillOnDrive, resolveInside } from './destination-root.ts';
import type { LocalConfig } from './index.ts';

export async function openLocalRepository(config: LocalConfig): Promise<ClosableRepositoryBackend> {
  const mount = await checkMount(config);
  const backend = new LocalBackend((await resolveInside(mount.path, config.backup_subdir, false)).path);
  const write = backend.write.bind(backend);
  const writeFile = backend.writeFile.bind(backend);
  const tempFolder = backend.tempFolder.bind(backend);
  const stillOnDrive = async () => {
    if (config.usb_uuid) await checkStillOnDrive(mount, config);
  };
  return Object.assign(backend, {
    write: async (file: string, data: Buffer) => {
      await stillOnDrive();
      return write(file, data);
    },
    // Packs are filled in a local file and moved into place: both steps check the drive first.
    writeFile: async (file: string, localFile: string) => {
      await stillOnDrive();
      return writeFile(file, localFile);
    },
    tempFolder: async () => {
      await stillOnDrive();
      return tempFolder();
    },
    close: async () => undefined,
  });
}
