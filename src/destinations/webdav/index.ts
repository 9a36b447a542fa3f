/** `webdav`: a folder on a WebDAV server (Nextcloud, ownCloud, generic); user name and password (basic auth). */
import Joi from 'joi';
import { remoteDestination } from '../remote/remote-destination.ts';
import type { Destination } from '../types.ts';
import type { WebdavStore, WebdavTarget } from './webdav-store.ts';

export const configSchema = Joi.object({
  url: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .max(2048)
    .required()
    .custom((value: string, helpers) => {
      const url = new URL(value);
      if (url.username || url.password) return helpers.message({ custom: '"url" must not contain a user name or password: they belong in the credential' });
      if (url.search || url.hash) return helpers.message({ custom: '"url" must not contain a query or a fragment' });
      return value;
    }),
  remote_path: Joi.string()
    .allow('')
    .max(4096)
    .pattern(/^[^\0]*$/)
    .pattern(/(^|\/)\.\.(\/|$)/, { invert: true })
    .default('')
    .messages({ 'string.pattern.invert.base': '"remote_path" must not contain ".." segments' }),
});

const remote = remoteDestination<WebdavTarget, WebdavStore>({
  type: 'webdav',
  name: 'WebDAV',
  description: 'Nextcloud, ownCloud, generic WebDAV',
  configSchema,
  credentialSchema: Joi.object({
    username: Joi.string().min(1).max(256).required().meta({ label: 'Username', secret: false }),
    password: Joi.string().min(1).max(16_384).required().meta({ label: 'Password' }),
  }),
  address: {
    example: 'webdav+https://cloud.example.com/remote.php/dav/files/me?path=backups',
    scheme: 'webdav',
    url: 'url',
    query: [{ name: 'path', field: 'remote_path', type: 'text' }],
    defaults: { remote_path: '' },
    beside: [],
  },
  // The protocol's client library loads on first use: a daemon that never uses it keeps its memory.
  open: async (config, secret) => (await import('./webdav-store.ts')).openWebdavStore(config, secret),
  identity: (config) => `webdav:${config.url}/${config.remote_path}`,
  details: (config) => ({ url: config.url, remote_path: config.remote_path }),
});

export const webdavDestination: Destination<WebdavTarget> = {
  ...remote,
  freeSpace: async (config, secret) => (await (await import('./webdav-store.ts')).openWebdavStore(config, secret)).freeSpace(),
};
