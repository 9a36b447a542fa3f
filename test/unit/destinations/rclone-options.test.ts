/** rclone runs as root: options that reach files, sockets, programs or root's own credentials are refused. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateDestinationConfig } from '../../../src/destinations/index.ts';
import { CairnError } from '../../../src/domain/errors.ts';

const refusedOption = (remote_type: string, name: string) => {
  try {
    validateDestinationConfig('rclone', { remote_type, options: { [name]: 'true' }, path: 'backups' });
  } catch (error) {
    assert.instance(error, CairnError);
    assert.is((error as CairnError).code, 'VALIDATION_FAILED');
    return (error as CairnError).message;
  }
  throw new Error(`${remote_type} option ${name} was accepted`);
};

test('options naming files, sockets, programs or root\'s credentials are refused, naming the option', () => {
  for (const [type, name] of [['sftp', 'key_file'], ['sftp', 'ssh'], ['drive', 'service_account_file'], ['s3', 'env_auth'], ['local', 'copy_links'], ['local', 'links'], ['webdav', 'unix_socket'], ['azureblob', 'client_certificate_path'], ['smb', 'kerberos_ccache'], ['webdav', 'bearer_token_command']]) {
    assert.match(refusedOption(type, name), new RegExp(name), `${type} ${name}`);
  }
});

test('ordinary options are accepted', () => {
  const config = validateDestinationConfig('rclone', { remote_type: 'b2', options: { account: '0012ab', hard_delete: 'true' }, path: 'bucket/pi' });
  assert.equal(config.options, { account: '0012ab', hard_delete: 'true' });
});

test.run();
