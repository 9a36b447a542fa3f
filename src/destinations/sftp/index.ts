/** `sftp`: a folder on an SSH server; password or private key (+ passphrase); the host key is pinned on first contact. */
import Joi from 'joi';
import { remoteDestination } from '../remote/remote-destination.ts';
import { openSftpStore, type SftpTarget } from './sftp-store.ts';

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

export const sftpDestination = remoteDestination<SftpTarget, Awaited<ReturnType<typeof openSftpStore>>>({
  type: 'sftp',
  name: 'SFTP',
  description: 'SSH/SFTP servers',
  configSchema,
  secretFields: ['password', 'private_key', 'passphrase'],
  open: openSftpStore,
  identity: (config) => `sftp://${config.username}@${config.host}:${config.port}/${config.remote_path}`,
  details: (config, store) => ({ host: config.host, port: config.port, remote_path: config.remote_path, host_key: store.hostKey, host_key_pinned_now: store.hostKeyPinnedNow }),
});
