import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultNotifyRules } from '../../../src/domain/notifications.ts';
import { openDatabase } from '../../../src/store/database.ts';
import { DATABASE_FILE, openStore } from '../../../src/store/index.ts';
import { AlertHistoryRepository } from '../../../src/store/notifications.ts';
import { tempDir } from '../../helpers.ts';

test('a schema-4 store opens with jobs following the default alert rules, no channels and no history', async () => {
  const dir = tempDir();
  const job = { id: 1, name: 'Photos', source_dirs: ['/home/pi/photos'], destination_type: 'local', destination_config: { mount_point: '/mnt/usb' }, backup_mode: 'mirror' };
  const settings = { timezone: 'Europe/Berlin' };
  writeFileSync(path.join(dir, DATABASE_FILE), JSON.stringify({ schema_version: 4, last_ids: {}, users: [], sessions: [], settings, jobs: [job], schedules: [], runs: [], credentials: [] }));
  const store = await openStore(dir);
  assert.equal(store.jobs.byId(1)!.notify, {});
  assert.equal(store.channels.all(), []);
  assert.equal(store.alertHistory.page({ limit: 10, offset: 0 }), { items: [], total: 0 });
  assert.equal(store.settings.get().notify, defaultNotifyRules());
  assert.is(store.settings.get().timezone, 'Europe/Berlin');
});

test('stored rules missing a key added later get its default; a change merges key by key', async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  await store.settings.update({ notify: { overdue_hours: 48 } });
  await store.settings.update({ notify: { on_success: true } });
  assert.equal(store.settings.get().notify, { ...defaultNotifyRules(), overdue_hours: 48, on_success: true });
});

test('the alert history keeps only the newest entries', async () => {
  const entry = { sent_at: '2026-12-01T00:00:00Z', job_id: 1, job_name: 'J', event: 'failure' as const, channel_id: 1, channel_name: 'c', channel_kind: 'ntfy', ok: true, status: 200, detail: 'ok', title: 't' };
  const small = new AlertHistoryRepository(await openDatabase(tempDir()), 3);
  for (let n = 0; n < 5; n++) await small.add({ ...entry, title: `t${n}` });
  const page = small.page({ limit: 10, offset: 0 });
  assert.is(page.total, 3);
  assert.equal(page.items.map((item) => item.title), ['t4', 't3', 't2']);
});

test.run();
