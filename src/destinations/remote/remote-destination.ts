/**
 * Builds a Destination from a RemoteStore: every remote type gets the same sync, restore and
 * connection test, and differs only in its config, how it connects, and what its test reports.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type Joi from 'joi';
import { invalid } from '../../domain/errors.ts';
import type { TransferTotals } from '../../domain/runs.ts';
import { secretFieldsOf } from '../credential-fields.ts';
import type { AddressFormat, ConnectionTestResult, Destination, DestinationCapabilities, DestinationGuarantees, HostKeyPins } from '../types.ts';
import type { RemoteStore } from './remote-store.ts';
import { restoreFromStore, syncToStore } from './sync-engine.ts';

export interface RemoteDestinationSpec<Config, Store extends RemoteStore> {
  type: string;
  name: string;
  description: string;
  configSchema: Joi.ObjectSchema;
  /** The credential's data; its keys are the secret fields unless marked `secret: false`. */
  credentialSchema: Joi.ObjectSchema;
  address: AddressFormat;
  open(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins): Promise<Store>;
  /** Names the destination for the record of sent files: a different identity starts afresh. */
  identity(config: Config): string;
  /** What a successful connection test reports besides "Connection successful". */
  details(config: Config, store: Store): Record<string, unknown>;
}

/** The engine keeps the same promises for every store (it remembers what it sent, uploads whole-or-nothing). */
export const REMOTE_GUARANTEES: DestinationGuarantees = { sees_same_size_edits: true, sees_same_second_edits: true, keeps_old_copy_when_source_changes: true, has_server: true };

/** Every remote destination can do the same things, through the same engine. */
export const REMOTE_CAPABILITIES: DestinationCapabilities = {
  supports_delete: true,
  supports_compression: false,
  supports_checksum: false,
  supports_bandwidth_limit: true,
  supports_exclude_patterns: true,
  supports_incremental: true,
  supports_dry_run: true,
  requires_credentials: true,
};

export function remoteDestination<Config, Store extends RemoteStore>(spec: RemoteDestinationSpec<Config, Store>): Destination<Config> {
  async function withStore<T>(config: Config, secret: Record<string, string> | null, hostKeys: HostKeyPins, work: (store: Store) => Promise<T>): Promise<T> {
    const store = await spec.open(config, secret, hostKeys);
    try {
      return await work(store);
    } finally {
      await store.close().catch(() => undefined);
    }
  }

  return {
    type: spec.type,
    describe: () => ({ type: spec.type, name: spec.name, description: spec.description, requires_credentials: true }),
    capabilities: REMOTE_CAPABILITIES,
    guarantees: REMOTE_GUARANTEES,
    unavailableReason: () => null,
    note: null,
    configSchema: spec.configSchema,
    credentialSchema: spec.credentialSchema,
    secretFields: secretFieldsOf(spec.credentialSchema),
    address: spec.address,
    identity: spec.identity,
    test: (config, secret, hostKeys): Promise<ConnectionTestResult> =>
      withStore(config, secret, hostKeys, async (store) => {
        // Reachable is not enough: a backup must be able to write and delete there.
        const probe = `.cairn-write-test-${randomBytes(4).toString('hex')}`;
        await store.put({ path: probe, body: Readable.from([Buffer.from('cairn')]), size: 5, mtimeMs: Date.now(), signal: AbortSignal.timeout(30_000) });
        await store.remove(probe);
        return { message: 'Connection successful', details: spec.details(config, store) };
      }),
    sync: (context): Promise<TransferTotals> =>
      withStore(context.config, context.secret, context.hostKeys, (store) => syncToStore(context, { store, identity: spec.identity(context.config) })),
    restore: (context): Promise<TransferTotals> => withStore(context.config, context.secret, context.hostKeys, (store) => restoreFromStore(context, store)),
    // At the root, outside every `<source name>/` folder the engine walks: no sync lists or deletes it.
    putBeside: (config, secret, hostKeys, { name, content, signal }) =>
      withStore(config, secret, hostKeys, async (store) => {
        await store.put({ path: name, body: Readable.from([content]), size: content.length, mtimeMs: Date.now(), signal });
        return store.where(name);
      }),
    getBeside: (config, secret, hostKeys, { name, maxBytes, signal }) =>
      withStore(config, secret, hostKeys, async (store) => readAtMost(await store.get(name, signal), maxBytes, store.where(name))),
  };
}

/** The whole of a small downloaded file; refused (400 FILE_TOO_LARGE) once it passes `maxBytes`, so a crafted file cannot fill memory. */
export async function readAtMost(body: Readable, maxBytes: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw invalid('FILE_TOO_LARGE', `${where} is larger than ${maxBytes} bytes, more than the file Cairn expects there`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
