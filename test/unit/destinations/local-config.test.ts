/** The `local` destination's config as a client sends it, and what the destination says about itself. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configSchema, localDestination } from '../../../src/destinations/local/index.ts';

const validate = (config: unknown) => configSchema.validate(config, { convert: false });

test('a minimal config gets safe defaults: no drive UUID, no auto mount or unmount', () => {
  const { error, value } = validate({ mount_point: '/mnt/backup', backup_subdir: '' });
  assert.is(error, undefined);
  assert.equal(value, { mount_point: '/mnt/backup', backup_subdir: '', usb_uuid: null, auto_mount: false, auto_unmount: false });
});

test('a full USB config is accepted as sent', () => {
  const config = { mount_point: '/media/usb', backup_subdir: 'cairn/laptop', usb_uuid: '1234-ABCD', auto_mount: true, auto_unmount: true };
  assert.equal(validate(config).value, config);
});

test('a relative mount point, a backup_subdir that climbs out or starts at /, a bad UUID and unknown keys are refused', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ mount_point: 'mnt/backup', backup_subdir: '' }, /mount_point.*absolute/],
    [{ backup_subdir: '' }, /mount_point.*required/],
    [{ mount_point: '/mnt/b', backup_subdir: '../etc' }, /backup_subdir/],
    [{ mount_point: '/mnt/b', backup_subdir: 'a/../../etc' }, /backup_subdir/],
    [{ mount_point: '/mnt/b', backup_subdir: 'a/..' }, /backup_subdir/],
    [{ mount_point: '/mnt/b', backup_subdir: '/etc' }, /backup_subdir/],
    [{ mount_point: '/mnt/b', backup_subdir: '', usb_uuid: 'not a uuid!' }, /usb_uuid/],
    [{ mount_point: '/mnt/b', backup_subdir: '', auto_mount: 'yes' }, /auto_mount/],
    [{ mount_point: '/mnt/b', backup_subdir: '', password: 'x' }, /password.*not allowed/],
  ];
  for (const [config, message] of bad) {
    const { error } = validate(config);
    assert.ok(error, JSON.stringify(config));
    assert.match(error!.message, message);
  }
  assert.is(validate({ mount_point: '/mnt/b', backup_subdir: 'my..backups/x' }).error, undefined, '".." inside a name is fine');
});

test('it describes itself as Local / USB, needs no credentials and does not claim compression', () => {
  assert.equal(localDestination.describe(), { type: 'local', name: 'Local / USB', description: 'Rsync to local or mounted drives', requires_credentials: false });
  assert.equal(localDestination.secretFields, []);
  const { supports_compression, requires_credentials, ...rest } = localDestination.capabilities;
  assert.is(supports_compression, false);
  assert.is(requires_credentials, false);
  assert.ok(Object.values(rest).every(Boolean), 'everything else is supported');
});

test.run();
