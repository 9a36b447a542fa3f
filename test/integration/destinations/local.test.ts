/** The local destination against the real rsync: what lands on disk for each sync option, and every way it refuses or fails. */
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localDestination, type LocalConfig } from '../../../src/destinations/local/index.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import type { LogLevel, TransferTotals } from '../../../src/domain/runs.ts';
import { plugInDrive } from '../../drives.ts';
import { tempDir } from '../../helpers.ts';
import { countFiles, fileContent, makeSampleTree, snapshotTree, waitFor } from '../../trees.ts';

const defaults: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

const noHostKeys = new FileHostKeyPins(path.join(tempDir(), 'host-keys.json'));

function setup() {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  const mount = tempDir('cairn-mount-');
  const config: LocalConfig = { mount_point: mount, backup_subdir: 'cairn', usb_uuid: null, auto_mount: false, auto_unmount: false };
  return { source, mount, config, copy: path.join(mount, 'cairn', 'photos') };
}

/** Runs sync with a minimal context that records logs and progress. */
async function sync(config: LocalConfig, sources: string[], options: Partial<SyncOptions> = {}, controller = new AbortController(), stateFile = path.join(tempDir(), 'sent.json')) {
  const logs: Array<[LogLevel, string]> = [];
  const progress: TransferTotals[] = [];
  const run = localDestination.sync({
    config,
    secret: null,
    sources,
    realSources: sources,
    options: { ...defaults, ...options },
    signal: controller.signal,
    stateFile,
    hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
    log: (level, message) => logs.push([level, message]),
    progress: (current) => progress.push(current),
  });
  const totals = await run.catch((error) => {
    // Keep the log with the failure, so tests can check what a failed run said.
    if (error instanceof Error) Object.assign(error, { logs });
    throw error;
  });
  return { totals, logs, progress };
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => assert.unreachable('it should have failed'), (error) => error);
const messages = (logs: Array<[LogLevel, string]>) => logs.map(([, message]) => message);

/** rsync's temp files (`.name.XXXXXX`) and Cairn's work folder anywhere below `root`. */
function leftovers(root: string): string[] {
  return Object.keys(snapshotTree(root)).filter((name) => /(^|\/)\.[^/]+\.[A-Za-z0-9]{6}$/.test(name));
}

/** Processes whose command line mentions `needle` (read from /proc, as ps would). */
function processesMentioning(needle: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        return cmdline.includes(needle) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

function mountTmpfs(dir: string, options: string): () => void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  return () => execFileSync('umount', [dir]);
}

test('each source’s entry count is kept in the job’s state file for the next run’s progress; a state file that cannot be written costs a warning, not the backup', async () => {
  const { source, config, copy } = setup();
  mkdirSync(path.join(source, 'sub'));
  for (let i = 0; i < 5; i++) writeFileSync(path.join(source, 'sub', `f${i}`), fileContent(`f${i}`, 100));
  const stateFile = path.join(tempDir(), 'sent-files', 'job-7.json');
  const first = await sync(config, [source], {}, new AbortController(), stateFile);
  assert.ok(first.logs.every(([level]) => level === 'info'), JSON.stringify(first.logs));
  assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')), { cairn_local_entries: 1, sources: { [source]: 7 } }, 'five files, their folder and the top');

  rmSync(copy, { recursive: true });
  const unwritable = await sync(config, [source], {}, new AbortController(), '/dev/null/sent-files/job-7.json');
  assert.is(unwritable.totals.files_transferred, 5);
  assert.equal(snapshotTree(copy), snapshotTree(source), 'the copy is whole');
  assert.ok(unwritable.logs.some(([level, message]) => level === 'warning' && message.includes("file list for the next run's progress")), JSON.stringify(unwritable.logs));
});

test('the copy is byte-identical: empty files, unicode, spaces, quotes, a leading dash, symlinks, 20 levels, 5 MB', async () => {
  const { source, config, copy } = setup();
  makeSampleTree(source);
  const { totals, progress, logs } = await sync(config, [source]);
  assert.equal(snapshotTree(copy), snapshotTree(source), 'every file hashes the same and every link points the same way');
  const expected = countFiles(source);
  assert.is(expected.files, 10);
  assert.equal(totals, { files_transferred: expected.files, bytes_transferred: expected.bytes, files_deleted: 0 });
  assert.equal(progress.at(-1), totals);
  assert.ok(
    progress.every((step, i) => i === 0 || step.files_transferred >= progress[i - 1].files_transferred),
    'progress only goes up',
  );
  for (const name of ['photos/-rf.txt', 'photos/résumé.txt', 'photos/日本語のファイル.txt', `photos/it's "quoted".txt`, 'photos/name with spaces.txt']) {
    assert.ok(messages(logs).includes(name), `${name} is logged by its name`);
  }
  assert.equal(leftovers(config.mount_point), [], 'no temp file or work folder left behind');
  assert.equal(logs.filter(([level]) => level !== 'info'), [], 'no warning: rsync\'s own totals agree with the file lines');
});

test('a second run sends nothing; a changed file is sent again, and only it', async () => {
  const { source, config } = setup();
  makeSampleTree(source, { largeFileBytes: 100_000 });
  await sync(config, [source]);
  const second = await sync(config, [source]);
  assert.equal(second.totals, { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  writeFileSync(path.join(source, 'docs/report.pdf'), fileContent('changed', 12_345));
  const third = await sync(config, [source]);
  assert.equal(third.totals, { files_transferred: 1, bytes_transferred: 12_345, files_deleted: 0 });
  const fileLines = messages(third.logs).filter((message) => message.startsWith('photos/'));
  assert.equal(fileLines, ['photos/docs/report.pdf']);
});

test('delete_extraneous removes exactly the files gone from the source, only inside that source folder; without it they stay', async () => {
  const { source, config, copy, mount } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  await sync(config, [source]);
  writeFileSync(path.join(mount, 'cairn', 'kept-by-the-owner.txt'), 'not a backup');
  mkdirSync(path.join(mount, 'cairn', 'music'));
  writeFileSync(path.join(mount, 'cairn', 'music', 'song.mp3'), 'another folder');
  rmSync(path.join(source, 'résumé.txt'));
  rmSync(path.join(source, 'docs/notes'), { recursive: true });
  rmSync(path.join(source, 'link-to-report'));

  const kept = await sync(config, [source]);
  assert.is(kept.totals.files_deleted, 0);
  assert.ok(existsSync(path.join(copy, 'résumé.txt')));
  assert.ok(existsSync(path.join(copy, 'docs/notes/todo.md')));

  const deleted = await sync(config, [source], { delete_extraneous: true });
  assert.is(deleted.totals.files_deleted, 3, 'résumé.txt, docs/notes/todo.md and the link; the folder is not a file');
  assert.equal(snapshotTree(copy), snapshotTree(source));
  for (const name of ['deleted photos/résumé.txt', 'deleted photos/docs/notes/todo.md', 'deleted photos/link-to-report']) {
    assert.ok(messages(deleted.logs).includes(name), name);
  }
  assert.ok(existsSync(path.join(mount, 'cairn', 'kept-by-the-owner.txt')), 'files beside the source folders are never touched');
  assert.ok(existsSync(path.join(mount, 'cairn', 'music', 'song.mp3')));
});

test('exclude patterns keep matching files and folders out of the copy', async () => {
  const { source, config, copy } = setup();
  writeFileSync(path.join(source, 'keep.txt'), 'k');
  writeFileSync(path.join(source, 'scratch.tmp'), 't');
  mkdirSync(path.join(source, 'node_modules/deep'), { recursive: true });
  writeFileSync(path.join(source, 'node_modules/deep/blob'), 'b');
  mkdirSync(path.join(source, 'sub'));
  writeFileSync(path.join(source, 'sub/also.tmp'), 't');
  writeFileSync(path.join(source, 'sub/kept.txt'), 'k');
  const { totals } = await sync(config, [source], { exclude_patterns: ['*.tmp', 'node_modules'] });
  assert.equal(Object.keys(snapshotTree(copy)), ['keep.txt', 'sub', 'sub/kept.txt']);
  assert.is(totals.files_transferred, 2);
});

test('a dry run writes nothing, not even its folders, yet reports what it would copy and delete', async () => {
  const { source, config, mount, copy } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  const empty = snapshotTree(mount);
  const first = await sync(config, [source], { dry_run: true });
  assert.equal(snapshotTree(mount), empty);
  assert.equal(first.totals, { files_transferred: countFiles(source).files, bytes_transferred: countFiles(source).bytes, files_deleted: 0 });
  assert.ok(messages(first.logs).some((message) => /10 file\(s\) \(\d+ bytes\) would be copied, 0 would be deleted/.test(message)));

  await sync(config, [source]);
  writeFileSync(path.join(source, 'new.txt'), 'new');
  rmSync(path.join(source, 'empty.txt'));
  const before = snapshotTree(mount);
  const second = await sync(config, [source], { dry_run: true, delete_extraneous: true });
  assert.equal(snapshotTree(mount), before, 'the destination tree is identical before and after');
  assert.equal(second.totals, { files_transferred: 1, bytes_transferred: 3, files_deleted: 1 });
  assert.ok(existsSync(path.join(copy, 'empty.txt')));
});

test('several sources land side by side under their own names; two sources with one name are refused before anything is written', async () => {
  const { config, mount } = setup();
  const home = tempDir();
  for (const name of ['documents', 'music']) {
    mkdirSync(path.join(home, name));
    writeFileSync(path.join(home, name, `${name}.txt`), name);
  }
  const { totals } = await sync(config, [path.join(home, 'documents'), path.join(home, 'music')]);
  assert.equal(readdirSync(path.join(mount, 'cairn')).sort(), ['documents', 'music']);
  assert.equal(totals, { files_transferred: 2, bytes_transferred: 'documents'.length + 'music'.length, files_deleted: 0 });

  const other = path.join(tempDir(), 'music');
  mkdirSync(other);
  const fresh = tempDir();
  const error = await failureOf(sync({ ...config, mount_point: fresh }, [path.join(home, 'music'), other]));
  assert.is(error.code, 'SOURCE_NAMES_CLASH');
  assert.equal(readdirSync(fresh), []);
});

test('a source folder named like an option, with spaces and glob characters, is copied as a folder', async () => {
  const { config, mount } = setup();
  const source = path.join(tempDir(), '--dry-run -rf [2024] *');
  mkdirSync(source);
  writeFileSync(path.join(source, '--delete'), 'not an option');
  const { totals } = await sync(config, [source], { exclude_patterns: ['--delete-excluded'] });
  assert.is(totals.files_transferred, 1);
  assert.is(readFileSync(path.join(mount, 'cairn', '--dry-run -rf [2024] *', '--delete'), 'utf8'), 'not an option');
});

test('quiet logs one summary per source and no file names; verbose adds the command and rsync totals', async () => {
  const { source, config } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  const quiet = await sync(config, [source], { verbosity: 'quiet' });
  assert.is(quiet.logs.length, 1);
  assert.match(quiet.logs[0][1], /10 file\(s\) \(\d+ bytes\) copied/);

  writeFileSync(path.join(source, 'new.txt'), 'new');
  const verbose = await sync(config, [source], { verbosity: 'verbose' });
  assert.ok(messages(verbose.logs).some((message) => message.startsWith('Running: rsync -a ')));
  assert.ok(messages(verbose.logs).includes('Number of regular files transferred: 1'));
  assert.ok(messages(verbose.logs).includes('photos/new.txt'));
});

test('on a FAT-like drive rsync is asked for -rltD with a 1 s window instead of -a, and the copy is still whole', async () => {
  const { source, config, copy } = setup();
  makeSampleTree(source, { largeFileBytes: 1000 });
  // This kernel has no vfat; a findmnt that answers "vfat" exercises the detection with the real rsync.
  const bin = tempDir();
  writeFileSync(path.join(bin, 'findmnt'), '#!/bin/sh\necho vfat\n', { mode: 0o755 });
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  try {
    const { logs } = await sync(config, [source], { verbosity: 'verbose' });
    assert.ok(messages(logs).some((message) => /is on a FAT\/exFAT\/NTFS filesystem/.test(message)));
    assert.ok(messages(logs).some((message) => message.startsWith('Running: rsync -rltD --modify-window=1 ')));
    assert.equal(snapshotTree(copy), snapshotTree(source));
  } finally {
    process.env.PATH = savedPath;
  }
});

test('a missing mount point fails without creating it, and so does one that is a file', async () => {
  const { source, config } = setup();
  const missing = path.join(config.mount_point, 'not-there');
  const error = await failureOf(sync({ ...config, mount_point: missing }, [source]));
  assert.is(error.code, 'DESTINATION_MISSING');
  assert.match(error.message, /not-there does not exist/);
  assert.not.ok(existsSync(missing));
  const file = path.join(config.mount_point, 'a-file');
  writeFileSync(file, '');
  assert.is((await failureOf(sync({ ...config, mount_point: file }, [source]))).code, 'DESTINATION_NOT_FOLDER');
});

test('with usb_uuid and nothing mounted at the mount point, the run fails with DRIVE_NOT_MOUNTED and writes nothing', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const usb = { ...config, usb_uuid: 'ABCD-1234' };
  const error = await failureOf(sync(usb, [source]));
  assert.is(error.code, 'DRIVE_NOT_MOUNTED');
  assert.match(error.message, /ABCD-1234 is not mounted at/);
  assert.equal(readdirSync(config.mount_point), [], 'the mount point stays empty');
  assert.is((await failureOf(localDestination.test(usb, null, noHostKeys))).code, 'DRIVE_NOT_MOUNTED');
  assert.is((await failureOf(sync({ ...usb, mount_point: path.join(config.mount_point, 'gone') }, [source]))).code, 'DRIVE_NOT_MOUNTED');
});

test('with usb_uuid, the drive with that UUID is written to (UUID case ignored), another drive at the same place is refused', async () => {
  const { source, config, mount } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'on the drive');
  const uuid = '0b6f1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b';
  const drive = plugInDrive({ uuid });
  try {
    execFileSync('mount', [drive.device, mount]);
    const usb = { ...config, usb_uuid: uuid.toUpperCase() };
    const { totals } = await sync(usb, [source]);
    assert.is(totals.files_transferred, 1);
    assert.is(readFileSync(path.join(mount, 'cairn', 'photos', 'a.txt'), 'utf8'), 'on the drive');
    assert.is((await localDestination.test(usb, null, noHostKeys)).message, 'Destination is writable');

    const error = await failureOf(sync({ ...usb, usb_uuid: '0b6f1a2c-0000-0000-0000-000000000000' }, [source]));
    assert.is(error.code, 'DRIVE_NOT_MOUNTED');
    assert.match(error.message, /holds another filesystem/);
  } finally {
    drive.detach();
  }
  assert.equal(readdirSync(mount), [], 'unmounted, the mount point shows that nothing landed on the root filesystem');
});

test('a backup_subdir that leads out through a symlink is refused, and nothing is created outside', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const outside = tempDir();
  symlinkSync(outside, path.join(config.mount_point, 'escape'));
  for (const backup_subdir of ['escape', 'escape/new/deeper']) {
    const error = await failureOf(sync({ ...config, backup_subdir }, [source]));
    assert.is(error.code, 'DESTINATION_ESCAPES', backup_subdir);
  }
  assert.equal(readdirSync(outside), []);
  mkdirSync(path.join(config.mount_point, 'cairn'));
  symlinkSync(outside, path.join(config.mount_point, 'cairn', 'photos'));
  assert.is((await failureOf(sync(config, [source]))).code, 'DESTINATION_ESCAPES', 'a source folder that is a symlink out is refused too');
  assert.equal(readdirSync(outside), []);
});

test('cancelling stops rsync within seconds, leaves no process and no temp file, keeps only whole files, and rejects with the reason', async () => {
  const { source, config, mount, copy } = setup();
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (let i = 0; i < 200; i++) writeFileSync(path.join(source, `chunk-${String(i).padStart(3, '0')}.bin`), chunk);
  const controller = new AbortController();
  const reason = new Error('cancelled by the test');
  const running = sync(config, [source], { bandwidth_limit_kbps: 2000 }, controller).catch((error) => error);
  await waitFor('rsync to start copying', () => processesMentioning(mount).length > 0 && existsSync(copy) && readdirSync(copy).length > 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cancelledAt = Date.now();
  controller.abort(reason);
  const error = await running;
  assert.is(error, reason, 'rejects with the abort reason');
  assert.ok(Date.now() - cancelledAt < 4000, `stopped within seconds (${Date.now() - cancelledAt} ms)`);
  assert.equal(processesMentioning(mount), [], 'no rsync process is left');
  assert.equal(leftovers(mount), [], 'no temp file and no work folder is left');
  const copied = snapshotTree(copy);
  assert.ok(Object.keys(copied).length < 200, 'it really stopped early');
  const whole = snapshotTree(source)['chunk-000.bin'];
  for (const [name, hash] of Object.entries(copied)) assert.is(hash, whole, `${name} is complete`);
  assert.ok(messages(error.logs).some((message) => /^Cancelled: rsync stopped after \d+ file\(s\)/.test(message)));
});

test('an rsync that ignores SIGTERM is killed a few seconds after the cancel, with everything it started', async () => {
  const { source, config, mount } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const bin = tempDir();
  // Ignored signals stay ignored across exec, so the sleep it starts ignores SIGTERM too. It says
  // when it is ready: a cancel before its trap is set would end it at once, testing nothing.
  const ready = path.join(bin, 'ready');
  writeFileSync(path.join(bin, 'rsync'), `#!/bin/sh\ntrap '' TERM\nsleep 60 &\n: > '${ready}'\nwait\n`, { mode: 0o755 });
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  try {
    const controller = new AbortController();
    const running = failureOf(sync(config, [source], {}, controller));
    await waitFor('the fake rsync to start and ignore SIGTERM', () => existsSync(ready));
    const cancelledAt = Date.now();
    controller.abort('cancelled');
    assert.is(await running, 'cancelled');
    const took = Date.now() - cancelledAt;
    assert.ok(took >= 2500 && took < 6000, `killed after the grace period (${took} ms)`);
    assert.equal(processesMentioning(mount), []);
    assert.equal(processesMentioning(`${bin}/rsync`), [], 'its children went with it');
  } finally {
    process.env.PATH = savedPath;
  }
});

test('an abort before the run starts writes nothing', async () => {
  const { source, config, mount } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const controller = new AbortController();
  controller.abort('cancelled');
  assert.is(await failureOf(sync(config, [source], {}, controller)), 'cancelled');
  assert.equal(readdirSync(mount), []);
});

test('a file that cannot be written fails the run as a partial transfer naming it; the other files are copied', async () => {
  const { source, config, copy } = setup();
  writeFileSync(path.join(source, 'report.txt'), 'the report');
  writeFileSync(path.join(source, 'ok.txt'), 'fine');
  // As root nothing is unreadable, but a non-empty folder in the way of a file stops rsync (code 23) for anyone.
  mkdirSync(path.join(copy, 'report.txt'), { recursive: true });
  writeFileSync(path.join(copy, 'report.txt', 'keep'), 'x');
  const error = await failureOf(sync(config, [source]));
  assert.is(error.code, 'PARTIAL_TRANSFER');
  assert.match(error.message, /Partial transfer of .*photos: 1 file\(s\) could not be copied: photos\/report\.txt$/);
  assert.is(readFileSync(path.join(copy, 'ok.txt'), 'utf8'), 'fine');
  assert.ok(error.logs.some(([level, message]: [LogLevel, string]) => level === 'error' && /could not make way/.test(message)));
});

test('delete_extraneous with a part of the source that cannot be read: nothing in or after it is deleted, folders read whole before it are mirrored, the run fails', async () => {
  const { source, config, copy } = setup();
  for (const folder of ['a', 'm', 'z']) {
    mkdirSync(path.join(source, folder));
    writeFileSync(path.join(source, folder, 'keep.txt'), folder);
  }
  await sync(config, [source]);
  for (const folder of ['a', 'm', 'z']) writeFileSync(path.join(copy, folder, 'gone.txt'), 'deleted from the source since the last run');
  // As root nothing is unreadable, but a path longer than PATH_MAX is: rsync cannot list below it (an I/O error).
  try {
    // bash, not sh: dash's cd gives up on a path that long.
    const deep = execFileSync('bash', ['-c', 'cd "$1" && d=$(printf "d%.0s" $(seq 250)) && for i in $(seq 20); do mkdir "$d" && cd "$d"; done && echo lost > lost.txt && echo ok', 'bash', path.join(source, 'm')], { encoding: 'utf8' });
    assert.is(deep.trim(), 'ok');
    const error = await failureOf(sync(config, [source], { delete_extraneous: true }));
    assert.is(error.code, 'PARTIAL_TRANSFER');
    assert.ok(error.logs.some(([level, message]: [LogLevel, string]) => level === 'error' && /filename overflows max-path len/.test(message)), 'what could not be read is named');
    // rsync keeps its incremental recursion (memory): a folder listed whole before the error is mirrored, as the next clean run would.
    assert.not.ok(existsSync(path.join(copy, 'a', 'gone.txt')));
    assert.ok(existsSync(path.join(copy, 'z', 'gone.txt')), 'nothing is deleted from the error on');
    for (const folder of ['a', 'm', 'z']) assert.is(readFileSync(path.join(copy, folder, 'keep.txt'), 'utf8'), folder);
  } finally {
    // Node cannot remove a path longer than PATH_MAX; rm walks it folder by folder.
    execFileSync('rm', ['-rf', path.join(source, 'm'), path.join(copy, 'm')]);
  }
});

test('a file that vanishes during the run is a warning naming it, and the run succeeds', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a-large.bin'), Buffer.alloc(3 * 1024 * 1024));
  writeFileSync(path.join(source, 'b-gone soon.txt'), 'here now');
  const running = sync(config, [source], { bandwidth_limit_kbps: 3000 });
  await waitFor('rsync to start', () => processesMentioning(config.mount_point).length > 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  rmSync(path.join(source, 'b-gone soon.txt'));
  const { totals, logs } = await running;
  assert.equal(totals, { files_transferred: 1, bytes_transferred: 3 * 1024 * 1024, files_deleted: 0 }, 'the vanished file is not counted');
  assert.ok(logs.some(([level, message]) => level === 'warning' && message === '1 file(s) vanished while the backup ran and are not in it: photos/b-gone soon.txt'));
});

test('a full drive fails the run with a message saying so, and leaves no half-written file under its name', async () => {
  const { source, config, mount, copy } = setup();
  const unmount = mountTmpfs(mount, 'size=1m');
  try {
    writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
    const error = await failureOf(sync(config, [source]));
    assert.is(error.code, 'RSYNC_FAILED');
    assert.match(error.message, /file I\/O error \(is the destination full.*No space left on device/);
    assert.not.ok(existsSync(path.join(copy, 'big.bin')));
    assert.equal(leftovers(mount), []);
  } finally {
    unmount();
  }
});

test('without rsync installed the run fails saying so', async () => {
  const { source, config } = setup();
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const savedPath = process.env.PATH;
  process.env.PATH = tempDir();
  try {
    const error = await failureOf(sync(config, [source]));
    assert.is(error.code, 'RSYNC_MISSING');
    assert.match(error.message, /is rsync installed\?/);
  } finally {
    process.env.PATH = savedPath;
  }
});

test('test() reports a writable destination with its free space, and says clearly what is wrong otherwise', async () => {
  const { config, mount } = setup();
  const ok = await localDestination.test(config, null, noHostKeys);
  assert.is(ok.message, 'Destination is writable');
  assert.is(ok.details!.path, path.join(mount, 'cairn'));
  const { bavail, bsize } = statfsSync(mount);
  assert.ok(Math.abs(Number(ok.details!.free_bytes) - bavail * bsize) < 100 * 1024 * 1024);
  assert.equal(readdirSync(mount), [], 'the probe is removed and the backup folder not created');

  assert.is((await failureOf(localDestination.test({ ...config, mount_point: '/nonexistent/x' }, null, noHostKeys))).code, 'DESTINATION_MISSING');
  const unmount = mountTmpfs(mount, 'ro,size=1m');
  try {
    const error = await failureOf(localDestination.test(config, null, noHostKeys));
    assert.is(error.code, 'DESTINATION_NOT_WRITABLE');
    assert.match(error.message, /read-only/);
    assert.is((await failureOf(sync(config, [tempDir()]))).code, 'DESTINATION_NOT_WRITABLE');
  } finally {
    unmount();
  }
});

test.run();
