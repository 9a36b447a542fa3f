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

const remote = remoteDestination<SftpTarget, SftpStore>({
  type: 'sftp',
  name: 'SFTP',
  description: 'SSH/SFTP servers',
  configSchema,
  secretFields: ['password', 'private_key', 'passphrase'],
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
};
