/**
 * Snapshot files (`snapshots/<id>`): when, what (the root tree), from where, and the parent.
 */
import { notFound } from '../domain/errors.ts';
import type { Repository } from './repository.ts';

/** A snapshot as restic stores it, plus its id. */
export interface Snapshot {
  id: string;
  time: string;
  parent?: string;
  tree: string;
  paths: string[];
  hostname?: string;
  username?: string;
  uid?: number;
  gid?: number;
  tags?: string[];
}

/** Every snapshot in the repository, oldest first. */
export async function listSnapshots(repo: Repository): Promise<Snapshot[]> {
  const snapshots: Snapshot[] = [];
  for (const id of await repo.list('snapshots')) {
    const json = (await repo.readUnpacked('snapshots', id)) as Omit<Snapshot, 'id'>;
    snapshots.push({ ...json, id });
  }
  return snapshots.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** The snapshot named by its id, a unique id prefix, or `latest`; REPOSITORY_SNAPSHOT_NOT_FOUND otherwise. */
export async function findSnapshot(repo: Repository, name: string): Promise<Snapshot> {
  const snapshots = await listSnapshots(repo);
  const found = name === 'latest' ? snapshots.slice(-1) : snapshots.filter((s) => s.id.startsWith(name));
  if (found.length !== 1 || name.length < (name === 'latest' ? 0 : 4)) throw notFound('REPOSITORY_SNAPSHOT_NOT_FOUND', `No snapshot ${name} in ${repo.backend.where()}.`);
  return found[0];
}

/** Writes a snapshot with restic's field order (empty ones left out); returns its id. */
export async function saveSnapshot(repo: Repository, snapshot: Omit<Snapshot, 'id'>): Promise<string> {
  const ordered: Record<string, unknown> = {};
  for (const key of ['time', 'parent', 'tree', 'paths', 'hostname', 'username', 'uid', 'gid', 'tags'] as const) {
    const value = snapshot[key];
    if (value === undefined || value === 0 || value === '' || (Array.isArray(value) && value.length === 0 && key === 'tags')) continue;
    ordered[key] = value;
  }
  return repo.writeUnpacked('snapshots', ordered);
}
