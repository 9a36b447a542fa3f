import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BLOCKED_MARKER, SCHEMA_VERSION } from '../../../src/store/database.ts';
import { clearBlockedDatabase, DATABASE_FILE, openStore, StoreUnavailableError } from '../../../src/store/index.ts';
import { tempDir } from '../../helpers.ts';

async function refusal(dataDir: string): Promise<StoreUnavailableError> {
  try {
    await openStore(dataDir);
  } catch (error) {
    assert.instance(error, StoreUnavailableError);
    return error as StoreUnavailableError;
  }
  throw new Error('the store opened but should have refused');
}

test('a new store is created on disk with the current schema, readable only by its owner', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await store.close();
  const file = path.join(dir, DATABASE_FILE);
  assert.is(JSON.parse(readFileSync(file, 'utf8')).schema_version, SCHEMA_VERSION);
  assert.is(statSync(file).mode & 0o777, 0o600);
});

test('what was written is what a new open reads', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await store.users.create('admin', 'hash');
  await store.settings.update({ max_runs_per_job: 33 });
  const reopened = await openStore(dir);
  assert.is(reopened.users.byUsername('admin')?.id, 1);
  assert.is(reopened.settings.get().max_runs_per_job, 33);
});

test('many concurrent writes all land, and no temp files are left', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.settings.update({ max_runs_per_job: i + 1 })));
  const reopened = await openStore(dir);
  assert.is(reopened.settings.get().max_runs_per_job, 50);
  assert.equal(readdirSync(dir).filter((name) => name.includes('.tmp-')), []);
});

test('ids are never reused', async () => {
  const store = await openStore(tempDir());
  const first = await store.users.create('one', 'hash');
  const second = await store.users.create('two', 'hash');
  assert.equal([first.id, second.id], [1, 2]);
});

for (const [what, content] of [
  ['a truncated store', '{"schema_version":1,"users":[{"id":1,"usern'],
  ['an empty store', ''],
  ['a file that is not a Cairn database', '[1,2,3]'],
] as const) {
  test(`${what} is moved aside, never overwritten, and the daemon refuses until the owner decides`, async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, DATABASE_FILE), content);
    const error = await refusal(dir);
    assert.match(error.message, /could not be read/);
    assert.match(error.message, /cairn store reset/);

    const aside = readdirSync(dir).find((name) => name.startsWith(`${DATABASE_FILE}.damaged-`));
    assert.ok(aside, 'the damaged file was moved aside');
    assert.is(readFileSync(path.join(dir, aside), 'utf8'), content, 'byte for byte');
    assert.not.ok(existsSync(path.join(dir, DATABASE_FILE)));

    const again = await refusal(dir);
    assert.match(again.message, /could not be read/, 'a restart still refuses (systemd restarts on failure)');

    assert.ok(await clearBlockedDatabase(dir));
    const fresh = await openStore(dir);
    assert.is(fresh.users.count(), 0);
    assert.ok(existsSync(path.join(dir, aside)), 'the damaged copy is kept');
  });
}

test('putting a good copy back is also a decision: the store opens it', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await store.users.create('admin', 'hash');
  const good = readFileSync(path.join(dir, DATABASE_FILE), 'utf8');
  writeFileSync(path.join(dir, DATABASE_FILE), good.slice(0, 20));
  await refusal(dir);
  writeFileSync(path.join(dir, DATABASE_FILE), good);
  const restored = await openStore(dir);
  assert.is(restored.users.byUsername('admin')?.id, 1);
  assert.not.ok(existsSync(path.join(dir, BLOCKED_MARKER)));
});

test('a store written by a newer Cairn is refused and left alone', async () => {
  const dir = tempDir();
  const newer = JSON.stringify({ schema_version: SCHEMA_VERSION + 1, users: [] });
  writeFileSync(path.join(dir, DATABASE_FILE), newer);
  const error = await refusal(dir);
  assert.match(error.message, /newer Cairn/);
  assert.is(readFileSync(path.join(dir, DATABASE_FILE), 'utf8'), newer);
});

test('an older store is migrated to the current schema on open', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, DATABASE_FILE), JSON.stringify({ schema_version: 0, users: [] }));
  const store = await openStore(dir);
  assert.equal(store.settings.get().max_runs_per_job, 10);
  assert.is(JSON.parse(readFileSync(path.join(dir, DATABASE_FILE), 'utf8')).schema_version, SCHEMA_VERSION);
});

test('jobs saved before history existed open as mirrors that keep everything', async () => {
  const dir = tempDir();
  const job = { id: 1, name: 'Photos', source_dirs: ['/home/pi/photos'], destination_type: 'local', destination_config: { mount_point: '/mnt/usb' } };
  writeFileSync(path.join(dir, DATABASE_FILE), JSON.stringify({ schema_version: 3, users: [], jobs: [job], schedules: [], runs: [], credentials: [] }));
  const store = await openStore(dir);
  const opened = store.jobs.byId(1)!;
  assert.is(opened.backup_mode, 'mirror');
  assert.equal(opened.retention.keep_last, 0);
  assert.equal(opened.retention.keep_tags, []);
  assert.is(opened.name, 'Photos');
});

test('temp files left by a crash are removed on open', async () => {
  const dir = tempDir();
  await (await openStore(dir)).close();
  const leftover = path.join(dir, `${DATABASE_FILE}.tmp-123-abcd`);
  writeFileSync(leftover, '{"half":');
  await openStore(dir);
  assert.not.ok(existsSync(leftover));
});

test.run();
