/**
 * Builds a Destination run by the rclone program from a small spec: what remote a config means and
 * where in it the backup lives. Google Drive, OneDrive and any other rclone remote differ only in that.
 * Sync, restore, connection test, cancel and totals are the same for all of them.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type Joi from 'joi';
import { CairnError, invalid } from '../../domain/errors.ts';
import type { TransferTotals } from '../../domain/runs.ts';
import { secretFieldsOf } from '../credential-fields.ts';
import { REMOTE_CAPABILITIES } from '../remote/remote-destination.ts';
import { partialNameFor } from '../remote/remote-store.ts';
import { restoreFromStore } from '../remote/sync-engine.ts';
import type { AddressFormat, BesideFile, ConnectionTestResult, Destination, DestinationCapabilities, DestinationGuarantees } from '../types.ts';
import { rcloneMissingReason, requireRclone } from './rclone-binary.ts';
import { withRemote, type RcloneRemote } from './rclone-config.ts';
import { rcloneFailure } from './rclone-errors.ts';
import { runRclone } from './rclone-process.ts';
import { rcloneStore } from './rclone-store.ts';
import { COMMON_FLAGS, remotePath, syncWithRclone } from './rclone-sync.ts';

export interface RcloneDestinationSpec<Config> {
  type: string;
  name: string;
  description: string;
  note: string | null;
  configSchema: Joi.ObjectSchema;
  credentialSchema: Joi.ObjectSchema;
  address: AddressFormat;
  /** Whether a credential is needed (false for remotes that may be public or local). */
  requiresCredentials: boolean;
  /** The rclone remote a config and credential mean (may look things up, e.g. a OneDrive's drive id). */
  remoteOf(config: Config, secret: Record<string, string> | null): Promise<RcloneRemote>;
  /** The folder inside the remote that holds the backup ('' for its root). */
  rootOf(config: Config): string;
  /** The place as a user would name it in a log line (no secrets). */
  whereOf(config: Config): string;
  identity(config: Config): string;
  localFolders?(config: Config): string[];
  checkSecret?(secret: Record<string, string>): Promise<void>;
  /** Guarantees that differ from the rclone defaults below. */
  guarantees?: Partial<DestinationGuarantees>;
}

export const RCLONE_GUARANTEES: DestinationGuarantees = {
  sees_same_size_edits: true,
  sees_same_second_edits: 'rclone compares size and modification time at the remote\'s precision (1 s for SFTP, none for some WebDAV servers)',
  keeps_old_copy_when_source_changes: 'rclone 1.60 rewrites a file in place at many remotes, so a failed resend leaves it cut until the next run',
  has_server: true,
};

export function rcloneDestination<Config>(spec: RcloneDestinationSpec<Config>): Destination<Config> {
  // What the shared remote engine's destinations can do, rclone can do too.
  const capabilities: DestinationCapabilities = { ...REMOTE_CAPABILITIES, requires_credentials: spec.requiresCredentials };

  async function test(config: Config, secret: Record<string, string> | null): Promise<ConnectionTestResult> {
    requireRclone();
    const remote = await spec.remoteOf(config, secret);
    const root = spec.rootOf(config);
    const where = spec.whereOf(config);
    return withRemote(null, remote, async (setup) => {
      const signal = AbortSignal.timeout(60_000);
      // Reachable is not enough: a backup must be able to write and delete there.
      const probe = remotePath(root, `.cairn-write-test-${randomBytes(4).toString('hex')}`);
      const { Readable } = await import('node:stream');
      const wrote = await runRclone(setup, ['rcat', probe, ...COMMON_FLAGS], signal, undefined, Readable.from([Buffer.from('cairn')]));
      if (wrote.code !== 0) throw rcloneFailure(wrote, where);
      const removed = await runRclone(setup, ['deletefile', probe, ...COMMON_FLAGS], signal);
      if (removed.code !== 0) throw rcloneFailure(removed, where);
      return { message: 'Connection successful', details: { remote: remote.type, path: root } };
    });
  }

  /** rclone writes in place at many remotes: the file goes under a partial name, then is moved to its own, so it is whole there or absent. */
  async function putBeside(config: Config, secret: Record<string, string> | null, { name, content, signal }: BesideFile): Promise<string> {
    requireRclone();
    const root = spec.rootOf(config);
    const where = `${spec.whereOf(config)}/${name}`;
    return withRemote(null, await spec.remoteOf(config, secret), async (setup) => {
      const partial = partialNameFor(name);
      const wrote = await runRclone(setup, ['rcat', remotePath(root, partial), ...COMMON_FLAGS], signal, undefined, Readable.from([content]));
      const moved = wrote.code === 0 ? await runRclone(setup, ['moveto', remotePath(root, partial), remotePath(root, name), ...COMMON_FLAGS], signal) : wrote;
      if (moved.code === 0) return where;
      await runRclone(setup, ['deletefile', remotePath(root, partial), ...COMMON_FLAGS], AbortSignal.timeout(30_000)).catch(() => undefined);
      throw rcloneFailure(moved, where);
    });
  }

  /** `rclone cat` of at most maxBytes + 1 bytes: a file that long is refused rather than read whole. */
  async function getBeside(config: Config, secret: Record<string, string> | null, { name, maxBytes, signal }: { name: string; maxBytes: number; signal: AbortSignal }): Promise<Buffer> {
    requireRclone();
    const where = `${spec.whereOf(config)}/${name}`;
    return withRemote(null, await spec.remoteOf(config, secret), async (setup) => {
      const read = await runRclone(setup, ['cat', '--count', String(maxBytes + 1), remotePath(spec.rootOf(config), name), ...COMMON_FLAGS], signal);
      // rclone's exit codes 3 and 4: directory or file not found.
      if (read.code === 3 || read.code === 4) throw new CairnError('not_found', 'REMOTE_PATH_MISSING', `Nothing at ${where}`);
      if (read.code !== 0) throw rcloneFailure(read, where);
      const content = Buffer.from(read.stdout, 'utf8');
      if (content.length > maxBytes) throw invalid('FILE_TOO_LARGE', `${where} is larger than ${maxBytes} bytes, more than the file Cairn expects there`);
      return content;
    });
  }

  return {
    type: spec.type,
    describe: () => ({ type: spec.type, name: spec.name, description: spec.description, requires_credentials: spec.requiresCredentials }),
    capabilities,
    guarantees: { ...RCLONE_GUARANTEES, ...spec.guarantees },
    unavailableReason: rcloneMissingReason,
    note: spec.note,
    configSchema: spec.configSchema,
    credentialSchema: spec.credentialSchema,
    secretFields: secretFieldsOf(spec.credentialSchema),
    address: spec.address,
    ...(spec.localFolders ? { localFolders: spec.localFolders } : {}),
    ...(spec.checkSecret ? { checkSecret: spec.checkSecret } : {}),
    identity: spec.identity,
    test: (config, secret) => test(config, secret),
    async sync(context): Promise<TransferTotals> {
      requireRclone();
      const remote = await spec.remoteOf(context.config, context.secret);
      return withRemote(context.stateFile, remote, (setup) => syncWithRclone(context, setup, spec.rootOf(context.config), spec.whereOf(context.config)));
    },
    async restore(context): Promise<TransferTotals> {
      requireRclone();
      const remote = await spec.remoteOf(context.config, context.secret);
      return withRemote(null, remote, (setup) => restoreFromStore(context, rcloneStore(setup, spec.rootOf(context.config), spec.whereOf(context.config))));
    },
    // Each source syncs `<root>/<source name>` only, so a file at the root is never listed or deleted.
    putBeside: (config, secret, _hostKeys, file) => putBeside(config, secret, file),
    getBeside: (config, secret, _hostKeys, file) => getBeside(config, secret, file),
  };
}
