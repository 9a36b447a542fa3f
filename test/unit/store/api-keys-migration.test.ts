/** Schema 5: a store from before API keys opens with none, and its sessions gain a "last seen". */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SCHEMA_VERSION } from '../../../src/store/database.ts';
import { DATABASE_FILE, openStore } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

test('a schema 4 store opens with no API keys and its sessions last seen when they were made', async () => {
  const dir = tempDir();
  const session = { id: 'abc', user_id: 1, created_at: '2026-12-01T10:00:00.000Z', expires_at: '2099-01-01T00:00:00.000Z' };
  const user = { id: 1, username: 'admin', password_hash: 'x', totp_enabled: false, totp_secret: null, totp_last_step: null, recovery_code_hashes: [], created_at: session.created_at, updated_at: session.created_at };
  const v4 = { schema_version: 4, last_ids: { users: 1 }, users: [user], sessions: [session], settings: {}, jobs: [], schedules: [], runs: [], credentials: [] };
  writeFileSync(path.join(dir, DATABASE_FILE), JSON.stringify(v4));
  const store = await openStore(dir);
  assert.equal(store.apiKeys.all(), []);
  assert.equal(store.sessions.activeOf(1), [{ ...session, last_seen_at: session.created_at, last_seen_from: null }]);
  await store.close();
  const saved = JSON.parse(readFileSync(path.join(dir, DATABASE_FILE), 'utf8'));
  assert.is(saved.schema_version, SCHEMA_VERSION);
  assert.equal(saved.api_keys, []);
});

test.run();
