/** Helpers for the snapshot engine's tests: a real ext4 drive on a loop device, and the engine's context. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import type { SyncContext } from '../../../src/destinations/types.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import type { LogLevel } from '../../../src/domain/runs.ts';
import { plugInDrive } from '../../drives.ts';
import { tempDir } from '../../helpers.ts';

export const OPTIONS: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

/** An ext4 image on a loop device mounted at a temp folder; `root` is the job's backup folder on it. */
export interface Ext4Drive {
  mount: string;
  root: string;
  image: string;
  remove(): void;
}

export function ext4Drive(sizeMb = 128): Ext4Drive {
  const drive = plugInDrive({ uuid: crypto.randomUUID(), sizeMb });
  const mount = tempDir('cairn-snapdrive-');
  try {
    execFileSync('mount', [drive.device, mount]);
  } catch (error) {
    drive.detach();
    throw error;
  }
  const root = path.join(mount, 'cairn');
  mkdirSync(root);
  return { mount, root, image: drive.image, remove: () => drive.detach() };
}

/** The local destination's context for a snapshot of `sources` (plain folders, no drive UUID). */
export function engineContext(sources: string[], signal = new AbortController().signal, options: Partial<SyncOptions> = {}) {
  const logs: Array<[LogLevel, string]> = [];
  const context: SyncContext<{ mount_point: string; usb_uuid: null }> = {
    config: { mount_point: '/', usb_uuid: null },
    secret: null,
    sources,
    realSources: sources,
    options: { ...OPTIONS, ...options },
    signal,
    stateFile: path.join(tempDir(), 'state.json'),
    hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
    log: (level, message) => logs.push([level, message]),
    progress: () => undefined,
  };
  return { context, logs };
}
