/** `sftp`: a folder on an SSH server; password or private key (+ passphrase); the host key is pinned on first contact. */
import Joi from 'joi';
import { remoteDestination } from '../remote/remote-destination.ts';
import type { Destination } from '../types.ts';
import type { SftpStore, SftpTarget } from './sftp-store.ts';

export const configSchema = Joi.object({
  host: Joi.string()
    .max(253)
    .pattern(/^[A-Za-z0-9.:_-]+$/)
    .required()
    .messages({ 'string.pattern.base': '"host" must be a host name or an IP address' }),
  port: Joi.number().integer().min(1).max(65535).default(22),
  username: Joi.string().max(256).pattern(/^[^\0\s]+$/).required(),
  remote_path: Joi.string().max(4096).pattern(/^[^\0]+$/).required(),
  key_based_auth: Joi.boolean().default(false),
});

const secret = Joi.string().min(1).max(16_384);

const remote = remoteDestination<SftpTarget, SftpStore>({
  type: 'sftp',
  name: 'SFTP',
  description: 'SSH/SFTP servers',
  configSchema,
  credentialSchema: Joi.object({
    password: secret.meta({ label: 'Password' }),
    private_key: secret.meta({ label: 'Key file', from_file: true, help: 'a private key file on this computer (OpenSSH, PEM or PuTTY format)' }),
    passphrase: secret.meta({ label: 'Passphrase' }),
  })
    .or('password', 'private_key')
    .with('passphrase', 'private_key')
    .messages({ 'object.missing': '"data" needs a "password" or a "private_key"' }),
  address: {
    example: 'sftp://backup@nas.local:22/srv/backups',
    scheme: 'sftp',
    user: 'username',
    host: 'host',
    port: 'port',
    path: 'remote_path',
    absolute_path: true,
    query: [{ name: 'key', field: 'key_based_auth', type: 'flag' }],
    defaults: { port: 22, key_based_auth: false },
    beside: [],
  },
  // The protocol's client library loads on first use: a daemon that never uses it keeps its memory.
  open: async (config, secret, hostKeys) => (await import('./sftp-store.ts')).openSftpStore(config, secret, hostKeys),
  identity: (config) => `sftp://${config.username}@${config.host}:${config.port}/${config.remote_path}`,
  details: (config, store) => ({ host: config.host, port: config.port, remote_path: config.remote_path, host_key: store.hostKey, host_key_pinned_now: store.hostKeyPinnedNow }),
});

export const sftpDestination: Destination<SftpTarget> = {
  ...remote,
  // A key ssh2 cannot read is refused when it is saved, not at 3 a.m. when the backup runs.
  checkSecret: async (secret) => {
    if (secret.private_key) (await import('./private-key.ts')).checkPrivateKey(secret.private_key, secret.passphrase);
  },
  freeSpace: async (config, secret, hostKeys) => {
    const store = await (await import('./sftp-store.ts')).openSftpStore(config, secret, hostKeys);
    try {
      return await store.freeSpace();
    } finally {
      await store.close();
    }
  },
};
