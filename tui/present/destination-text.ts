/**
 * A job's destination as one line of text, the way people write addresses, and back:
 *   /mnt/backup                                        local folder or USB drive
 *   sftp://backup@nas.local:2222/srv/backups[?key]     SFTP (?key: log in with the credential's private key)
 *   s3://bucket/some/prefix[?region=…&endpoint=…&class=…]
 *   davs://cloud.example.com/remote.php/dav/files/me[?path=backups]   WebDAV over https (dav:// for http)
 */

export interface DestinationChoice {
  destination_type: string;
  destination_config: Record<string, unknown>;
}

export class DestinationTextError extends Error {}

export function destinationText(type: string, config: Record<string, any>): string {
  switch (type) {
    case 'local':
      return String(config.mount_point ?? '');
    case 'sftp': {
      const port = config.port && config.port !== 22 ? `:${config.port}` : '';
      const remote = String(config.remote_path ?? '');
      return `sftp://${encodeURIComponent(config.username ?? '')}@${config.host}${port}${remote.startsWith('/') ? '' : '/'}${encodePath(remote)}${config.key_based_auth ? '?key' : ''}`;
    }
    case 's3': {
      const query = new URLSearchParams();
      if (config.region && config.region !== 'us-east-1') query.set('region', config.region);
      if (config.endpoint) query.set('endpoint', config.endpoint);
      if (config.storage_class) query.set('class', config.storage_class);
      const text = query.toString();
      return `s3://${config.bucket}/${encodePath(String(config.prefix ?? ''))}${text ? `?${text}` : ''}`;
    }
    case 'webdav': {
      const url = new URL(String(config.url));
      const scheme = url.protocol === 'https:' ? 'davs' : 'dav';
      const remote = config.remote_path ? `?path=${encodeURIComponent(config.remote_path)}` : '';
      return `${scheme}://${url.host}${url.pathname === '/' ? '' : url.pathname}${remote}`;
    }
    default:
      return `${type}:`;
  }
}

/** Parses the text back; throws DestinationTextError saying what a valid line looks like. */
export function destinationOfText(text: string, local: { backup_subdir: string; usb_uuid: string | null }): DestinationChoice {
  const value = text.trim();
  if (value.startsWith('/')) {
    const uuid = local.usb_uuid;
    return {
      destination_type: 'local',
      destination_config: { mount_point: value, backup_subdir: local.backup_subdir, usb_uuid: uuid, auto_mount: uuid !== null, auto_unmount: uuid !== null },
    };
  }
  const match = /^([a-z0-9+]+):\/\//i.exec(value);
  if (!match) throw new DestinationTextError('a folder such as /mnt/backup, or sftp://user@host/path, s3://bucket/prefix, davs://host/path');
  if (local.backup_subdir !== '' || local.usb_uuid !== null) throw new DestinationTextError('Subfolder and USB UUID are for local folders; put the folder in the address');
  const scheme = match[1].toLowerCase();
  let url: URL;
  try {
    // URL parses special schemes (http) strictly and others loosely; parse every kind as http.
    url = new URL(`http://${value.slice(match[0].length)}`);
  } catch {
    throw new DestinationTextError(`"${value}" is not a valid address`);
  }
  const path = decodeURIComponent(url.pathname);
  if (scheme === 'sftp') {
    if (!url.username) throw new DestinationTextError('an SFTP address names the user: sftp://user@host/path');
    return {
      destination_type: 'sftp',
      destination_config: {
        host: url.hostname,
        port: url.port ? Number(url.port) : 22,
        username: decodeURIComponent(url.username),
        remote_path: path === '' ? '/' : path,
        key_based_auth: url.searchParams.has('key'),
      },
    };
  }
  if (scheme === 's3') {
    return {
      destination_type: 's3',
      destination_config: {
        bucket: url.hostname,
        prefix: path.replace(/^\/+/, ''),
        region: url.searchParams.get('region') ?? 'us-east-1',
        endpoint: url.searchParams.get('endpoint'),
        storage_class: url.searchParams.get('class'),
      },
    };
  }
  if (scheme === 'dav' || scheme === 'davs' || scheme === 'webdav' || scheme === 'webdavs') {
    const secure = scheme.endsWith('s');
    return {
      destination_type: 'webdav',
      destination_config: { url: `${secure ? 'https' : 'http'}://${url.host}${url.pathname === '/' ? '' : url.pathname}`, remote_path: url.searchParams.get('path') ?? '' },
    };
  }
  throw new DestinationTextError(`"${scheme}://" is not a destination Cairn knows: use a folder, sftp://, s3://, dav:// or davs://`);
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
