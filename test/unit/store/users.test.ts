import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

test('a user change that leaves a field undefined keeps it, on disk too (a partial change never clears the password)', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  const user = await store.users.create('admin', 'the-hash');
  const change: { password_hash?: string; totp_enabled?: boolean } = { password_hash: undefined, totp_enabled: true };
  const updated = await store.users.update(user.id, change);
  assert.is(updated.password_hash, 'the-hash');
  assert.is(updated.totp_enabled, true);
  await store.close();
  const reopened = await openStore(dir);
  assert.is(reopened.users.byUsername('admin')?.password_hash, 'the-hash');
  assert.is(reopened.users.byUsername('admin')?.totp_enabled, true);
  await reopened.close();
});

test.run();
