/**
 * The TUI's one address interpreter, fed the daemon's real GET /providers answer: every type's own
 * example reads and writes back unchanged, and lines no provider takes are refused saying why.
 * providers.json (used by the other TUI unit tests) is checked here to be that answer.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TuiApi } from '../../../tui/api.ts';
import { AddressError, addressSummary, formatAddress, parseAddress } from '../../../tui/present/address.ts';
import type { Provider } from '../../../tui/wire.ts';
import { ADMIN, spawnDaemonProcess, startTestDaemon, tempDir } from '../../helpers.ts';
import { PROVIDERS } from './providers.ts';

const addresses = suite<{ providers: Provider[] }>('addresses');

/** What the TUI itself gets from a test daemon. */
async function providersOf(url: string): Promise<Provider[]> {
  const api = new TuiApi(url);
  await api.setup(ADMIN.username, ADMIN.password);
  return api.providers();
}

addresses.before(async (context) => {
  const daemon = await startTestDaemon();
  try {
    context.providers = await providersOf(daemon.url);
  } finally {
    await daemon.stop();
  }
});

const noLocal = {};

addresses('the fixture the other TUI tests use is what the daemon answers', ({ providers }) => {
  const fixture = [...PROVIDERS];
  const comparable = (list: Provider[]) => list.map(({ available: _available, reason: _reason, ...rest }) => rest);
  assert.equal(comparable(fixture), comparable(providers), 'recapture test/unit/tui/providers.json from GET /api/providers');
});

addresses('every provider\'s example reads into a config that is written back as an address reading the same', ({ providers }) => {
  assert.ok(providers.length >= 7, `${providers.length} providers`);
  for (const provider of providers.filter((candidate) => candidate.available)) {
    const parsed = parseAddress(providers, provider.address.example, noLocal);
    assert.is(parsed.destination_type, provider.type, provider.address.example);
    const written = formatAddress(provider.address, parsed.destination_config);
    assert.equal(parseAddress(providers, written, noLocal), parsed, `${provider.type}: ${provider.address.example} → ${written}`);
    // The SFTP example spells out the default port, which the written form leaves out.
    assert.is(written, provider.address.example.replace(/:22\//, '/'), `${provider.type} is written as its example`);
  }
});

addresses('addresses fill the config fields their provider names, with its defaults for the rest', ({ providers }) => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['/mnt/usb', 'local', { mount_point: '/mnt/usb', backup_subdir: '', usb_uuid: null }],
    ['sftp://backup@nas.local:2222/srv/my%20backups?key', 'sftp', { host: 'nas.local', port: 2222, username: 'backup', remote_path: '/srv/my backups', key_based_auth: true }],
    ['sftp://me@10.0.0.5', 'sftp', { host: '10.0.0.5', port: 22, username: 'me', remote_path: '/', key_based_auth: false }],
    ['s3://my-bucket/pi/photos/?region=eu-west-1&endpoint=http%3A%2F%2Fminio%3A9000&class=STANDARD_IA', 's3', { bucket: 'my-bucket', prefix: 'pi/photos/', region: 'eu-west-1', endpoint: 'http://minio:9000', storage_class: 'STANDARD_IA' }],
    ['s3://my-bucket', 's3', { bucket: 'my-bucket', prefix: '', region: 'us-east-1', endpoint: null, storage_class: null }],
    ['webdav+https://cloud.example.com/remote.php/dav/files/me?path=backups', 'webdav', { url: 'https://cloud.example.com/remote.php/dav/files/me', remote_path: 'backups' }],
    ['webdav+http://127.0.0.1:8080', 'webdav', { url: 'http://127.0.0.1:8080', remote_path: '' }],
    ['gdrive://backups/pi?folder=1AbC&shared_drive=0XyZ', 'google_drive', { folder_id: '1AbC', shared_drive_id: '0XyZ', path: 'backups/pi' }],
    ['onedrive://Backups/Raspberry%20Pi', 'onedrive', { folder_path: 'Backups/Raspberry Pi', drive_id: null, drive_type: null }],
    ['rclone://b2/my-bucket/backups?account=0012ab34cd&hard_delete=true', 'rclone', { remote_type: 'b2', path: 'my-bucket/backups', options: { account: '0012ab34cd', hard_delete: 'true' } }],
    ['rclone://sftp//srv/backups?host=nas&user=pi', 'rclone', { remote_type: 'sftp', path: '/srv/backups', options: { host: 'nas', user: 'pi' } }],
  ];
  for (const [text, type, config] of cases) {
    const parsed = parseAddress(providers, text, noLocal);
    assert.equal(parsed, { destination_type: type, destination_config: config }, text);
    assert.is(formatAddress(providers.find((provider) => provider.type === type)!.address, config), text, `${text} is shown as typed`);
  }
});

addresses('fields set beside the address go to the providers that take them, and show in the summary', ({ providers }) => {
  const parsed = parseAddress(providers, '/mnt/usb', { backup_subdir: 'cairn', usb_uuid: '1234-ABCD' });
  assert.equal(parsed.destination_config, { mount_point: '/mnt/usb', backup_subdir: 'cairn', usb_uuid: '1234-ABCD' });
  assert.is(addressSummary(providers, 'local', parsed.destination_config), '/mnt/usb in cairn USB 1234-ABCD');
  assert.is(addressSummary(providers, 'local', { mount_point: '/mnt/backup', backup_subdir: '', usb_uuid: null }), '/mnt/backup');
  assert.is(addressSummary(providers, 'ftp', { host: 'x' }), 'ftp:', 'a type the daemon does not list');
  assert.throws(() => parseAddress(providers, 's3://b/p', { backup_subdir: 'x' }), /AWS S3 destinations take no backup_subdir/);
});

addresses('lines no provider takes are refused, saying what a valid one looks like', ({ providers }) => {
  const refusals: Array<[string, RegExp]> = [
    ['', /is not an address: use \/mnt\/backup, s3:\/\/my-bucket/],
    ['backups', /is not an address: use .*sftp:\/\/backup@nas.local/],
    ['ftp://old.example.com/x', /"ftp" is not a destination Cairn knows: use /],
    ['sftp://nas/x', /SFTP address names the user before an @/],
    ['sftp://me@nas:twenty/x', /port "twenty" is not a number/],
    ['sftp://me@/x', /names no host/],
    ['s3://me@bucket/x', /no user name/],
    ['s3://bucket/x?colour=red', /"colour" is not an option of AWS S3 addresses: use region, endpoint, class/],
    ['s3://bucket/x?region=', /\?region= needs a value/],
    ['s3://bucket/%zz', /% that is not followed by two hex digits/],
    ['webdav://cloud.example.com/dav', /WebDAV addresses look like webdav\+https:/],
    ['webdav+ftp://cloud.example.com/dav', /take an http or https URL/],
    ['onedrive+https://x', /OneDrive addresses look like onedrive:\/\//],
  ];
  for (const [text, message] of refusals) {
    assert.throws(() => parseAddress(providers, text, noLocal), (error: unknown) => error instanceof AddressError && message.test(error.message), text);
  }
});

addresses('an address of a type the daemon cannot run here is refused with its reason', async () => {
  // The daemon's own answer without rclone on its PATH (nor openssl, so HTTPS, which needs it for its certificate, is off).
  const daemon = await spawnDaemonProcess(tempDir(), { PATH: '/nonexistent', CAIRN_TLS: 'false' });
  try {
    const providers = await providersOf(daemon.url);
    const drive = providers.find((provider) => provider.type === 'google_drive')!;
    assert.is(drive.available, false);
    assert.throws(() => parseAddress(providers, drive.address.example, noLocal), /Google Drive is not available here: rclone is not installed/);
    assert.is(parseAddress(providers, '/mnt/usb', noLocal).destination_type, 'local', 'the others still read');
  } finally {
    await daemon.kill();
  }
});

addresses.run();
