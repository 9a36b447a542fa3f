/**
 * `local`: a folder on this machine or on a mounted USB drive, kept in step with rsync.
 * Each source lands in `mount_point/backup_subdir/<source name>/`. With `usb_uuid`, nothing is
 * written unless that filesystem is mounted at `mount_point`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import { CairnError } from '../../domain/errors.ts';
import { DRIVE_REMOVED_MESSAGE, type TransferTotals } from '../../domain/runs.ts';
import type { Destination, SyncContext } from '../types.ts';
import { driveStillThere, filesystemTypeOf, isFatLike, uuidMountedAt } from './mounts.ts';
import { rsyncArguments, runRsync } from './rsync.ts';
import { countItem, describeItem, exitCodeMessage, filesNamedIn, listSome, parseItemLine, vanishedFiles } from './rsync-output.ts';

export interface LocalConfig {
  mount_point: string;
  backup_subdir: string;
  usb_uuid: string | null;
  auto_mount: boolean;
  auto_unmount: boolean;
}

/** rsync's work folder inside the destination root; removed after every run. */
const TEMP_DIR_NAME = '.cairn-partial';

const configSchema = Joi.object({
  mount_point: Joi.string()
    .max(4096)
    .pattern(/^\/[^\0]*$/)
    .required()
    .messages({ 'string.pattern.base': '"mount_point" must be an absolute path such as /mnt/backup' }),
  backup_subdir: Joi.string()
    .allow('')
    .max(1024)
    .pattern(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\0]*$/)
    .default('')
    .messages({ 'string.pattern.base': '"backup_subdir" must be a relative folder inside the mount point (no "..", no leading "/")' }),
  usb_uuid: Joi.string()
    .pattern(/^[A-Za-z0-9-]{4,64}$/)
    .allow(null)
    .default(null)
    .messages({ 'string.pattern.base': '"usb_uuid" must be a filesystem UUID such as 1234-ABCD or 0b6f…-…' }),
  auto_mount: Joi.boolean().default(false),
  auto_unmount: Joi.boolean().default(false),
});

/** The destination root, after the safety checks; throws CairnError when writing there would be wrong. */
async function checkedRoot(config: LocalConfig): Promise<{ mount: string; root: string }> {
  if (config.usb_uuid) {
    const mounted = await uuidMountedAt(config.mount_point);
    if (mounted === null || mounted.toLowerCase() !== config.usb_uuid.toLowerCase()) {
      throw new CairnError(
        'unavailable',
        'DRIVE_NOT_MOUNTED',
        mounted === null
          ? `The drive ${config.usb_uuid} is not mounted at ${config.mount_point}; nothing was written`
          : `${config.mount_point} holds another filesystem (${mounted || 'no UUID'}) instead of drive ${config.usb_uuid}; nothing was written`,
        { retryable: true },
      );
    }
  }
  const mount = await fs.realpath(config.mount_point).catch(() => null);
  const stat = mount ? await fs.stat(mount) : null;
  if (!mount || !stat?.isDirectory()) {
    throw new CairnError('unavailable', 'DESTINATION_MISSING', `The destination folder ${config.mount_point} does not exist`);
  }
  return { mount, root: path.join(mount, config.backup_subdir) };
}

/** Creates `dir` and checks that, symlinks resolved, it still lies inside `mount`. */
async function makeInside(mount: string, dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const real = await fs.realpath(dir);
  const relative = path.relative(mount, real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new CairnError('invalid', 'DESTINATION_ESCAPES', `${dir} leads outside ${mount} (through a symbolic link); refusing to write there`);
  }
  return real;
}

async function sync(context: SyncContext<LocalConfig>): Promise<TransferTotals> {
  const { options, signal } = context;
  signal.throwIfAborted();
  const { mount, root } = await checkedRoot(context.config);
  const writing = !options.dry_run;
  const realRoot = writing ? await makeInside(mount, root) : root;
  const tempDir = writing ? await makeInside(mount, path.join(realRoot, TEMP_DIR_NAME)) : null;
  const fatLike = isFatLike(await filesystemTypeOf(mount));
  if (fatLike) context.log('info', `${mount} is a FAT/exFAT/NTFS filesystem: owners and permissions are not kept`);

  const totals: TransferTotals = { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 };
  try {
    for (const source of context.sources) {
      signal.throwIfAborted();
      const name = path.basename(source);
      const target = writing ? await makeInside(mount, path.join(realRoot, name)) : path.join(realRoot, name);
      await copyOne(context, { source, target, name, tempDir, fatLike }, totals);
    }
  } finally {
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
  }
  return totals;
}

async function copyOne(
  context: SyncContext<LocalConfig>,
  copy: { source: string; target: string; name: string; tempDir: string | null; fatLike: boolean },
  totals: TransferTotals,
): Promise<void> {
  const { options, signal } = context;
  const before = { ...totals };
  const args = rsyncArguments({ source: copy.source, target: copy.target, tempDir: copy.tempDir, options, fatLike: copy.fatLike });
  const result = await runRsync(
    args,
    signal,
    (line) => {
      const item = parseItemLine(line);
      if (!item) {
        if (options.verbosity === 'verbose' && line.trim() !== '') context.log('info', line);
        return;
      }
      if (countItem(totals, item)) context.progress({ ...totals });
      const message = describeItem(item, copy.name, options.verbosity);
      if (message) context.log('info', message);
    },
    (line) => context.log(line.startsWith('file has vanished') ? 'warning' : 'error', line),
  );
  if (signal.aborted) throw signal.reason;
  const { usb_uuid, mount_point } = context.config;
  if (result.code !== 0 && usb_uuid && !(await driveStillThere(usb_uuid, mount_point))) {
    throw new CairnError('unavailable', 'DRIVE_REMOVED', DRIVE_REMOVED_MESSAGE, { retryable: true });
  }

  const vanished = vanishedFiles(result.stderr);
  if (result.code === 24) {
    context.log('warning', `${vanished.length} file(s) vanished while they were being copied and are not in this backup: ${listSome(vanished)}`);
  } else if (result.code === 23) {
    const failed = filesNamedIn(result.stderr).filter((file) => !vanished.includes(file));
    throw new CairnError('internal', 'PARTIAL_TRANSFER', `Partial transfer of ${copy.source}: ${failed.length > 0 ? `could not copy ${listSome(failed)}` : result.stderr.at(-1) ?? 'see the log'}`);
  } else if (result.code !== 0) {
    const last = result.stderr.filter((line) => line.trim() !== '').at(-1);
    throw new CairnError('internal', 'RSYNC_FAILED', `Copying ${copy.source} failed: ${exitCodeMessage(result.code)}${last ? ` (${last})` : ''}`);
  }
  const moved = totals.files_transferred - before.files_transferred;
  context.log(
    'info',
    `${copy.source} → ${copy.target}: ${moved} file(s), ${totals.bytes_transferred - before.bytes_transferred} byte(s) ${options.dry_run ? 'would be ' : ''}copied, ${totals.files_deleted - before.files_deleted} ${options.dry_run ? 'would be ' : ''}deleted`,
  );
}

async function test(config: LocalConfig): Promise<{ message: string; details: Record<string, unknown> }> {
  const { mount, root } = await checkedRoot(config);
  const probeDir = (await fs.stat(root).catch(() => null))?.isDirectory() ? root : mount;
  const probe = path.join(probeDir, `.cairn-write-test-${process.pid}`);
  try {
    await fs.writeFile(probe, 'cairn');
    await fs.rm(probe);
  } catch (error) {
    throw new CairnError('unavailable', 'DESTINATION_NOT_WRITABLE', `Cannot write to ${probeDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const space = await fs.statfs(probeDir);
  return { message: 'Destination is writable', details: { path: root, free_bytes: space.bavail * space.bsize } };
}

export const localDestination: Destination<LocalConfig> = {
  type: 'local',
  describe: () => ({ type: 'local', name: 'Local / USB', description: 'Rsync to local or mounted drives', requires_credentials: false }),
  capabilities: {
    supports_delete: true,
    // rsync's -z only helps across a network; a local copy gains nothing from it.
    supports_compression: false,
    supports_checksum: true,
    supports_bandwidth_limit: true,
    supports_exclude_patterns: true,
    supports_incremental: true,
    supports_dry_run: true,
    requires_credentials: false,
  },
  configSchema,
  secretFields: [],
  test,
  sync,
};
