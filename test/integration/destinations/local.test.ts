/** The local destination against the real rsync: what lands on disk for each sync option. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localDestination, type LocalConfig } from '../../../src/destinations/local/index.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import type { LogLevel, TransferTotals } from '../../../src/domain/runs.ts';
import { tempDir } from '../../helpers.ts';
import { countFiles, fileContent, makeSampleTree, snapshotTree } from '../../trees.ts';

const defaults: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

function setup() {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  const mount = tempDir();
  const config: LocalConfig = { mount_point: mount, backup_subdir: 'cairn', usb_uuid: null, auto_mount: false, auto_unmount: false };
  return { source, mount, config, copy: path.join(mount, 'cairn', 'photos') };
}

async function sync(config: LocalConfig, sources: string[], options: Partial<SyncOptions> = {}, controller = new AbortController()) {
  const logs: Array<[LogLevel, string]> = [];
  const progress: TransferTotals[] = [];
  const totals = await localDestination.sync({
    config,
    secret: null,
    sources,
    options: { ...defaults, ...options },
    signal: controller.signal,
    log: (level, message) => logs.push([level, message]),
    progress: (current) => progress.push(current),
  });
  return { totals, logs, progress };
}

test('the copy is byte-identical: empty files, unicode, quotes, a leading dash, symlinks, deep folders', async () => {
  const { source, config, copy } = setup();
  makeSampleTree(source);
  const { totals, progress } = await sync(config, [source]);
  assert.equal(snapshotTree(copy), snapshotTree(source));
  const expected = countFiles(source);
  assert.equal(totals, { files_transferred: expected.files, bytes_transferred: expected.bytes, files_deleted: 0 });
  assert.equal(progress.at(-1), totals);
  assert.not.ok(existsSync(path.join(config.mount_point, 'cairn', '.cairn-partial')), 'no work folder left behind');
});

test('a second run sends nothing; a changed file is sent again, and only it', async () => {
  const { source, config } = setup();
  makeSampleTree(source, { largeFileBytes: 100_000 });
  await sync(config, [source]);
  assert.equal((await sync(config, [source])).totals, { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  writeFileSync(path.join(source, 'docs/report.pdf'), fileContent('changed', 12_345));
  const third = await sync(config, [source]);
  assert.equal(third.totals, { files_transferred: 1, bytes_transferred: 12_345, files_deleted: 0 });
  assert.ok(third.logs.some(([, message]) => message === 'photos/docs/report.pdf'));
});

test('delete_extraneous removes exactly the files gone from the source; without it they stay', async () => {
  const { source, config, copy } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  await sync(config, [source]);
  rmSync(path.join(source, 'résumé.txt'));
  rmSync(path.join(source, 'docs/notes'), { recursive: true });
  const kept = await sync(config, [source]);
  assert.is(kept.totals.files_deleted, 0);
  assert.ok(existsSync(path.join(copy, 'résumé.txt')));
  const deleted = await sync(config, [source], { delete_extraneous: true });
  assert.is(deleted.totals.files_deleted, 2, 'résumé.txt and docs/notes/todo.md');
  assert.equal(snapshotTree(copy), snapshotTree(source));
  assert.ok(deleted.logs.some(([, message]) => message === 'deleted photos/résumé.txt'));
});

test('exclude patterns keep matching files and folders out of the copy', async () => {
  const { source, config, copy } = setup();
  writeFileSync(path.join(source, 'keep.txt'), 'k');
  writeFileSync(path.join(source, 'scratch.tmp'), 't');
  mkdirSync(path.join(source, '.cache/deep'), { recursive: true });
  writeFileSync(path.join(source, '.cache/deep/blob'), 'b');
  mkdirSync(path.join(source, 'sub'));
  writeFileSync(path.join(source, 'sub/also.tmp'), 't');
  const { totals } = await sync(config, [source], { exclude_patterns: ['*.tmp', '.cache'] });
  assert.equal(Object.keys(snapshotTree(copy)).sort(), ['keep.txt', 'sub']);
  assert.is(totals.files_transferred, 1);
});

test('a dry run writes nothing yet reports what it would copy', async () => {
  const { source, config } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  const before = snapshotTree(config.mount_point);
  const { totals, logs } = await sync(config, [source], { dry_run: true });
  assert.equal(snapshotTree(config.mount_point), before);
  assert.is(totals.files_transferred, countFiles(source).files);
  assert.ok(logs.some(([, message]) => /would be copied/.test(message)));
});

test('several sources land side by side under their own names', async () => {
  const { config, mount } = setup();
  const home = tempDir();
  for (const name of ['documents', 'music']) {
    mkdirSync(path.join(home, name));
    writeFileSync(path.join(home, name, `${name}.txt`), name);
  }
  await sync(config, [path.join(home, 'documents'), path.join(home, 'music')]);
  assert.equal(readdirSync(path.join(mount, 'cairn')).sort(), ['documents', 'music']);
});

test('quiet verbosity logs a summary per source but no file names', async () => {
  const { source, config } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  const { logs } = await sync(config, [source], { verbosity: 'quiet' });
  assert.is(logs.length, 1);
  assert.match(logs[0][1], /file\(s\)/);
});

test('a missing mount point fails without creating it', async () => {
  const { source, config } = setup();
  const missing = path.join(config.mount_point, 'not-there');
  const error = await sync({ ...config, mount_point: missing }, [source]).catch((e) => e);
  assert.is(error.code, 'DESTINATION_MISSING');
  assert.not.ok(existsSync(missing));
});

test('with usb_uuid, nothing is written unless that filesystem is mounted at the mount point', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const error = await sync({ ...config, usb_uuid: 'ABCD-1234' }, [source]).catch((e) => e);
  assert.is(error.code, 'DRIVE_NOT_MOUNTED');
  assert.match(error.message, /ABCD-1234/);
  assert.equal(readdirSync(config.mount_point), []);
});

test('a backup_subdir that leads out through a symlink is refused', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const outside = tempDir();
  execFileSync('ln', ['-s', outside, path.join(config.mount_point, 'escape')]);
  const error = await sync({ ...config, backup_subdir: 'escape' }, [source]).catch((e) => e);
  assert.is(error.code, 'DESTINATION_ESCAPES');
  assert.equal(readdirSync(outside), []);
});

test('cancelling stops rsync promptly, leaves no partial file under a final name, and rejects with the reason', async () => {
  const { source, config, copy } = setup();
  for (let i = 0; i < 10; i++) writeFileSync(path.join(source, `chunk-${i}.bin`), fileContent(`c${i}`, 1024 * 1024));
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort('cancelled'), 1500);
  const error = await sync(config, [source], { bandwidth_limit_kbps: 500 }, controller).catch((e) => e);
  assert.is(error, 'cancelled');
  assert.ok(Date.now() - started < 8000, 'stopped within seconds');
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.not.ok(out.split('\n').some((line) => line.includes('rsync') && line.includes(copy)), 'no rsync left running');
  for (const [name, hash] of Object.entries(snapshotTree(copy))) {
    assert.is(hash, snapshotTree(source)[name], `${name} is either complete or absent`);
  }
  assert.not.ok(existsSync(path.join(config.mount_point, 'cairn', '.cairn-partial')), 'the work folder is cleaned up');
});

test('test() reports a writable destination with its free space, and a missing one clearly', async () => {
  const { config } = setup();
  const ok = await localDestination.test(config, null);
  assert.is(ok.message, 'Destination is writable');
  assert.ok(Number(ok.details!.free_bytes) > 0);
  const error = await localDestination.test({ ...config, mount_point: '/nonexistent/x' }, null).catch((e) => e);
  assert.is(error.code, 'DESTINATION_MISSING');
});

test.run();
