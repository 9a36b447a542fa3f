/**
 * An import from a remote destination whose server refuses the credential typed for it: the
 * person's mistake, answered 400 in the error shape with the code other destinations give
 * (AUTHENTICATION_FAILED), never a 503 "try later" and never a 401 that ends a client's session.
 * rclone's remote here is the OpenSSH test server reached through rclone's sftp backend.
 */
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isErrorShape, startTestDaemon } from '../../helpers.ts';
import { startSftpServer } from '../../servers.ts';

test('an rclone remote refusing the credential answers 400 AUTHENTICATION_FAILED and imports nothing', async () => {
  const sftp = await startSftpServer();
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const destination_config = { remote_type: 'sftp', options: { host: sftp.host, port: String(sftp.port), user: sftp.username }, path: path.join(sftp.root, 'nothing-here') };
    const refused = await client.post('/api/system/import/destination', { destination_type: 'rclone', destination_config, credential_data: { pass: 'not the password' }, passphrase: 'a passphrase long enough' });
    assert.is(refused.status, 400, JSON.stringify(refused.body));
    assert.ok(isErrorShape(refused.body, 'AUTHENTICATION_FAILED'), JSON.stringify(refused.body));
    assert.match(refused.body.message, /refused the credential/);
    assert.equal((await client.get('/api/jobs')).body, [], 'nothing was imported');
    assert.is((await client.get('/api/auth/me')).status, 200, 'the session goes on');
  } finally {
    await daemon.stop();
    await sftp.stop();
  }
});

test.run();
