/**
 * The destination types that can hold a restic repository, and how a repository task opens one.
 * The engine's process comes in here, not through the registry (index.ts), so that it evaluates
 * the one type's store on first use and none of the other types, their joi schemas or joi itself
 * (0.14 s CPU and ~8 MB at every engine start, measured).
 */
import { invalid } from '../domain/errors.ts';
import type { ClosableRepositoryBackend } from '../repository/backend.ts';
import type { RemoteStore } from './remote/remote-store.ts';
import type { HostKeyPins } from './types.ts';

type Secret = Record<string, string> | null;
type BackendOpener = (config: any, secret: Secret, hostKeys: HostKeyPins) => Promise<ClosableRepositoryBackend>;
type StoreOpener = (config: any, secret: Secret, hostKeys: HostKeyPins) => Promise<RemoteStore>;

/** On a remote store the repository sits directly in the job's folder, so restic pointed at that folder reads it. */
function inRemoteStore(storeOpener: () => Promise<StoreOpener>): BackendOpener {
  return async (config, secret, hostKeys) => {
    const [{ RemoteBackend }, openStore] = await Promise.all([import('../repository/remote-backend.ts'), storeOpener()]);
    return new RemoteBackend(await openStore(config, secret, hostKeys));
  };
}

const openers: ReadonlyMap<string, BackendOpener> = new Map([
  ['local', async (config) => (await import('./local/repository-backend.ts')).openLocalRepository(config)],
  ['s3', inRemoteStore(async () => (await import('./s3/s3-store.ts')).openS3Store)],
  ['sftp', inRemoteStore(async () => (await import('./sftp/sftp-store.ts')).openSftpStore)],
  ['webdav', inRemoteStore(async () => (await import('./webdav/webdav-store.ts')).openWebdavStore)],
]);

/** True when a job of this destination type may use `backup_mode: "repository"`. */
export function canHoldRepository(type: string): boolean {
  return openers.has(type);
}

/** The repository store of a job's destination (config as its schema left it); 400 BACKUP_MODE_UNSUPPORTED for a type that cannot hold one. */
export async function openRepositoryBackend(type: string, config: unknown, secret: Secret, hostKeys: HostKeyPins): Promise<ClosableRepositoryBackend> {
  const open = openers.get(type);
  if (!open) throw invalid('BACKUP_MODE_UNSUPPORTED', `A ${type} destination cannot hold a repository`);
  return open(config, secret, hostKeys);
}
