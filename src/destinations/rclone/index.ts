/**
 * `rclone`: any remote rclone has a backend for (Dropbox, Backblaze B2, pCloud, SMB, SFTP, WebDAV …),
 * run by the rclone program. The config names the backend, its plain options and the folder; the
 * credential holds its secret options (passwords, tokens, keys), which are all treated as secret.
 * Backends that wrap other remotes, and options that name a file or a command on this machine, are
 * refused: the daemon runs as root, and they would let a client read its files or run programs.
 * The `local` backend is allowed, its folder held to the allowed paths like the local destination's.
 */
import Joi from 'joi';
import { rcloneDestination } from './rclone-destination.ts';

export interface RcloneConfig {
  remote_type: string;
  options: Record<string, string>;
  path: string;
}

/** Backends that only wrap other remotes (which could then be anything on this machine). */
const WRAPPERS = ['alias', 'union', 'combine', 'crypt', 'chunker', 'hasher', 'compress', 'cache', 'memory'];

/**
 * Option names that point rclone (running as root) at a file, socket or program of this machine, or
 * at root's own credentials (`env_auth` reads ~/.aws and the environment), or that make the local
 * backend follow or create symbolic links (out of the allowed paths).
 */
const LOCAL_REFERENCE = /(^|_)(file|files|command|ssh|path_override|dir|path|socket|ccache)$|^(env_auth|copy_links|links)$/;

const optionName = Joi.string().pattern(/^[a-z][a-z0-9_]{0,63}$/).custom((name: string, helpers) =>
  LOCAL_REFERENCE.test(name) ? helpers.message({ custom: `the rclone option "${name}" names a file or program on this machine and is not accepted` }) : name,
);
const optionValue = Joi.string().max(16_384).pattern(/^[^\r\n\0]*$/).messages({ 'string.pattern.base': 'rclone option values must be one line' });

export const configSchema = Joi.object({
  remote_type: Joi.string()
    .pattern(/^[a-z][a-z0-9]{0,31}$/)
    .invalid(...WRAPPERS)
    .required()
    .messages({ 'any.invalid': '"remote_type" must be a storage backend, not one that wraps other remotes', 'string.pattern.base': '"remote_type" must be an rclone backend name such as b2, dropbox or sftp' }),
  options: Joi.object().pattern(optionName, optionValue).max(64).default({}),
  path: Joi.string().allow('').max(4096).pattern(/^[^\0\r\n]*$/).default(''),
});

export const credentialSchema = Joi.object()
  .pattern(optionName, optionValue.min(1))
  .max(64)
  .messages({ 'object.unknown': 'credential fields must be rclone option names such as pass or token' });

export const rcloneGenericDestination = rcloneDestination<RcloneConfig>({
  type: 'rclone',
  name: 'rclone remote',
  description: 'Any other storage rclone supports: Dropbox, Backblaze B2, pCloud, SMB, …',
  note: 'Tested here against rclone\'s local, sftp and webdav backends; other backends are rclone\'s own work',
  configSchema,
  credentialSchema,
  requiresCredentials: false,
  address: {
    example: 'rclone://b2/my-bucket/backups?account=0012ab34cd',
    scheme: 'rclone',
    host: 'remote_type',
    path: 'path',
    other_query: 'options',
    defaults: { options: {}, path: '' },
    beside: [],
  },
  remoteOf: async (config, secret) => ({ type: config.remote_type, options: config.options, secretOptions: secret ?? {} }),
  rootOf: (config) => config.path,
  whereOf: (config) => `rclone ${config.remote_type}:${config.path}`,
  identity: (config) => `rclone:${config.remote_type}:${JSON.stringify(Object.entries(config.options).sort())}:${config.path}`,
  // A local-backend folder is on this machine: the allowed-paths rule decides, as for the local destination.
  localFolders: (config) => (config.remote_type === 'local' ? [config.path] : []),
});
