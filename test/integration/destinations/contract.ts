/**
 * The one suite every destination must pass (local, sftp, s3, webdav), run against a real server:
 * what lands at the destination byte for byte, what a rerun sends, deletes, excludes, dry runs,
 * cancels, wrong credentials, a server that goes away, and restores.
 */
import { appendFileSync, mkdirSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import type { Destination } from '../../../src/destinations/types.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import type { LogLevel, TransferTotals } from '../../../src/domain/runs.ts';
import { tempDir } from '../../helpers.ts';
import { fileContent, makeSampleTree, snapshotTree } from '../../trees.ts';

export interface ContractPlace<Config> {
  config: Config;
  /** Regular files at the destination below this place: path (starting with the source's name) → SHA-256. */
  files(): Promise<Record<string, string>>;
}

export interface ContractServer<Config> {
  secret: Record<string, string> | null;
  /** A credential of the right shape that the server refuses; null when the destination needs none. */
  wrongSecret: Record<string, string> | null;
  /** A fresh, empty place at the destination for one test. */
  place(): ContractPlace<Config>;
  /** Stops the server for good (the last test), or null when there is no server. */
  stop: (() => Promise<void>) | null;
}

const DEFAULTS: SyncOptions = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };
const LARGE_FILE_BYTES = 50 * 1024 * 1024;

/** Regular files of a snapshot (remote destinations keep no symlinks or empty folders). */
export function filesOnly(snapshot: Record<string, string>, prefix = ''): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot)
      .filter(([, value]) => value !== 'dir' && !value.startsWith('link:'))
      .map(([key, value]) => [prefix + key, value]),
  );
}

/**
 * Runs the suite for one destination. Tests that need a guarantee or capability the destination
 * declares it lacks are skipped, each with the destination's reason printed.
 */
export function destinationContract<Config>(name: string, destination: Destination<Config>, start: () => Promise<ContractServer<Config>>): void {
  const contract = suite<{ server: ContractServer<Config>; hostKeys: FileHostKeyPins }>(`${name} contract`);
  /** Whether the test that needs `guarantee` runs; when not, says why once. */
  const expects = (guarantee: keyof Destination['guarantees'] | 'requires_credentials', test: string): boolean => {
    const held = guarantee === 'requires_credentials' ? destination.capabilities.requires_credentials || 'it takes no credential' : destination.guarantees[guarantee];
    if (held !== true) console.log(`  ${name}: skipped "${test}": ${held}`);
    return held === true;
  };
  let large: string;

  contract.before(async (context) => {
    context.server = await start();
    context.hostKeys = new FileHostKeyPins(path.join(tempDir(), 'host-keys.json'));
    // One sample tree with a 50 MB file, shared by the tests that only read it.
    large = path.join(tempDir(), 'photos');
    mkdirSync(large);
    makeSampleTree(large, { largeFileBytes: LARGE_FILE_BYTES });
  });
  contract.after(async (context) => {
    await context.server?.stop?.();
  });

  const newSource = () => {
    const source = path.join(tempDir(), 'photos');
    mkdirSync(source);
    return source;
  };

  const sync = async (
    context: { server: ContractServer<Config>; hostKeys: FileHostKeyPins },
    place: ContractPlace<Config>,
    sources: string[],
    options: Partial<SyncOptions> = {},
    extra: { secret?: Record<string, string> | null; signal?: AbortSignal; stateFile?: string } = {},
  ) => {
    const logs: Array<[LogLevel, string]> = [];
    const totals: TransferTotals = await destination.sync({
      config: place.config,
      secret: extra.secret === undefined ? context.server.secret : extra.secret,
      sources,
      realSources: sources,
      options: { ...DEFAULTS, ...options },
      signal: extra.signal ?? new AbortController().signal,
      stateFile: extra.stateFile ?? stateFileOf(place),
      hostKeys: context.hostKeys,
      log: (level, message) => logs.push([level, message]),
      progress: () => undefined,
    });
    return { totals, logs };
  };
  const stateFiles = new WeakMap<object, string>();
  const stateFileOf = (place: ContractPlace<Config>) => {
    if (!stateFiles.has(place)) stateFiles.set(place, path.join(tempDir(), 'sent.json'));
    return stateFiles.get(place)!;
  };

  contract('a round trip is byte-identical: empty files, unicode and spaces, nested folders, a 50 MB file', async (context) => {
    const place = context.server.place();
    const { totals } = await sync(context, place, [large]);
    const expected = filesOnly(snapshotTree(large), 'photos/');
    assert.equal(await place.files(), expected);
    assert.is(totals.files_transferred, Object.keys(expected).length);
    assert.ok(totals.bytes_transferred >= LARGE_FILE_BYTES);
  });

  contract('a second run with no change transfers nothing', async (context) => {
    const place = context.server.place();
    const source = newSource();
    makeSampleTree(source, { largeFileBytes: 1024 * 1024 });
    await sync(context, place, [source]);
    const again = await sync(context, place, [source]);
    assert.equal(again.totals, { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  });

  if (expects('sees_same_size_edits', 'one changed file of the same size is sent again')) contract('one changed file is sent again, and only it, even at the same size', async (context) => {
    const place = context.server.place();
    const source = newSource();
    makeSampleTree(source, { largeFileBytes: 1024 * 1024 });
    await sync(context, place, [source]);

    // An edit made later, as edits are (rsync, and so the local destination, cannot see an edit of the
    // same size within the same second as the last run).
    writeFileSync(path.join(source, 'docs/report.pdf'), fileContent('report v2', 10_000));
    utimesSync(path.join(source, 'docs/report.pdf'), new Date(), new Date(Date.now() + 2000));
    const changed = await sync(context, place, [source]);
    assert.equal(changed.totals, { files_transferred: 1, bytes_transferred: 10_000, files_deleted: 0 });
    assert.equal(await place.files(), filesOnly(snapshotTree(source), 'photos/'));

    // Same size, new mtime: still a change.
    writeFileSync(path.join(source, 'résumé.txt'), fileContent('résumé v2', 100));
    utimesSync(path.join(source, 'résumé.txt'), new Date(), new Date(Date.now() + 5000));
    assert.is((await sync(context, place, [source])).totals.files_transferred, 1);
    assert.equal(await place.files(), filesOnly(snapshotTree(source), 'photos/'));
  });

  if (expects('sees_same_second_edits', 'an edit of the same size within the same second')) {
    contract('an edit of the same size within the same second as the last run is still sent', async (context) => {
      const place = context.server.place();
      const source = newSource();
      const file = path.join(source, 'note.txt');
      const second = Math.floor(Date.now() / 1000) * 1000;
      writeFileSync(file, 'draft');
      utimesSync(file, new Date(second + 100), new Date(second + 100));
      await sync(context, place, [source]);
      writeFileSync(file, 'final');
      utimesSync(file, new Date(second + 600), new Date(second + 600));
      assert.is((await sync(context, place, [source])).totals.files_transferred, 1);
      assert.equal(await place.files(), filesOnly(snapshotTree(source), 'photos/'));
    });
  }

  if (expects('keeps_old_copy_when_source_changes', 'a file that grows while it is sent')) {
    contract('a file that grows while it is sent leaves the copy already there alone, and is sent whole next run', async (context) => {
      const place = context.server.place();
      const source = newSource();
      const file = path.join(source, 'growing.log');
      writeFileSync(file, 'first version\n');
      await sync(context, place, [source]);
      const before = await place.files();
      writeFileSync(file, fileContent('second', 2 * 1024 * 1024));
      utimesSync(file, new Date(), new Date(Date.now() + 2000));
      // The limit makes the read take ~2 s; the file grows once it is open for sending, not after a
      // fixed delay that a loaded machine may outrun.
      const grown = whenOpened(file).then(() => appendFileSync(file, 'one more line\n'));
      const during = await sync(context, place, [source], { bandwidth_limit_kbps: 1024 });
      await grown;
      assert.is(during.totals.files_transferred, 0, 'not counted as sent');
      assert.ok(during.logs.some(([level, message]) => level === 'warning' && /changed while it was read/.test(message)));
      assert.equal(await place.files(), before, 'the earlier copy stays, not a cut one');
      const after = await sync(context, place, [source]);
      assert.is(after.totals.files_transferred, 1);
      assert.equal(await place.files(), filesOnly(snapshotTree(source), 'photos/'));
    });
  }

  contract('delete_extraneous removes what left the source, and only with it', async (context) => {
    const place = context.server.place();
    const source = newSource();
    writeFileSync(path.join(source, 'keep.txt'), 'keep');
    mkdirSync(path.join(source, 'old'));
    writeFileSync(path.join(source, 'old/gone.txt'), 'gone');
    await sync(context, place, [source]);
    rmSync(path.join(source, 'old'), { recursive: true });

    const kept = await sync(context, place, [source]);
    assert.is(kept.totals.files_deleted, 0);
    assert.ok('photos/old/gone.txt' in (await place.files()), 'kept without delete_extraneous');

    const pruned = await sync(context, place, [source], { delete_extraneous: true });
    assert.is(pruned.totals.files_deleted, 1);
    assert.equal(Object.keys(await place.files()), ['photos/keep.txt']);
  });

  contract('excludes mean what they mean for rsync, and excluded files are never deleted', async (context) => {
    const place = context.server.place();
    const source = newSource();
    for (const file of ['a.txt', 'a.tmp', 'cache/x.txt', 'sub/cache/y.txt', 'build/z.txt', 'sub/build/w.txt', 'logs/today.log']) {
      mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
      writeFileSync(path.join(source, file), file);
    }
    await sync(context, place, [source], { exclude_patterns: ['*.tmp', 'cache/', '/build', 'logs/*.log'] });
    assert.equal(Object.keys(await place.files()).sort(), ['photos/a.txt', 'photos/sub/build/w.txt']);

    // Sent once, then excluded: a deleting run leaves it alone, as rsync does.
    const second = await sync(context, place, [source], { exclude_patterns: ['*.tmp', 'cache/', '/build', 'logs/*.log', 'a.txt'], delete_extraneous: true });
    assert.is(second.totals.files_deleted, 0);
    assert.ok('photos/a.txt' in (await place.files()));
  });

  contract('a dry run reports what it would send and delete, and changes nothing', async (context) => {
    const place = context.server.place();
    const source = newSource();
    writeFileSync(path.join(source, 'one.txt'), 'one');
    await sync(context, place, [source]);
    const before = await place.files();
    writeFileSync(path.join(source, 'two.txt'), 'two!');
    rmSync(path.join(source, 'one.txt'));
    const dry = await sync(context, place, [source], { dry_run: true, delete_extraneous: true });
    assert.equal(dry.totals, { files_transferred: 1, bytes_transferred: 4, files_deleted: 1 });
    assert.equal(await place.files(), before);
  });

  contract('a cancel mid-upload leaves no partial file under the final name, and no leftovers after the next run', async (context) => {
    const place = context.server.place();
    const source = newSource();
    writeFileSync(path.join(source, 'big.bin'), fileContent('big', 6 * 1024 * 1024));
    const controller = new AbortController();
    setTimeout(() => controller.abort('cancelled'), 1500);
    const outcome = await sync(context, place, [source], { bandwidth_limit_kbps: 1024 }, { signal: controller.signal }).then(
      () => 'completed',
      (error) => error,
    );
    assert.is(outcome, 'cancelled', 'the sync rejects with the abort reason');
    assert.equal(await place.files(), {}, 'nothing under any name');
    await sync(context, place, [source]);
    assert.equal(await place.files(), filesOnly(snapshotTree(source), 'photos/'));
  });

  if (expects('requires_credentials', 'wrong credentials')) {
    contract('wrong credentials fail the run with a clear error and write nothing', async (context) => {
      const place = context.server.place();
      const source = newSource();
      writeFileSync(path.join(source, 'one.txt'), 'one');
      const error = await sync(context, place, [source], {}, { secret: context.server.wrongSecret }).then(
        () => assert.unreachable('it should fail'),
        (failure) => failure,
      );
      assert.match(error.message, /authenticat|access denied|credentials|signature|password/i);
      assert.not.match(error.message, new RegExp(Object.values(context.server.wrongSecret ?? { x: 'never-matches-anything' }).map(escape).join('|')));
      assert.equal(await place.files(), {});
    });
  }

  contract('a restore reproduces the source exactly, whole or in part', async (context) => {
    const place = context.server.place();
    const source = newSource();
    makeSampleTree(source, { largeFileBytes: 2 * 1024 * 1024 });
    await sync(context, place, [source]);
    const restoreInto = async (paths: string[] | null) => {
      const target = tempDir();
      const totals = await destination.restore({
        config: place.config,
        secret: context.server.secret,
        sources: [source],
        target,
        paths,
        verbosity: 'normal',
        hostKeys: context.hostKeys,
        signal: new AbortController().signal,
        log: () => undefined,
        progress: () => undefined,
      });
      return { target, totals };
    };
    const whole = await restoreInto(null);
    assert.equal(filesOnly(snapshotTree(path.join(whole.target, 'photos'))), filesOnly(snapshotTree(source)));
    assert.is(whole.totals.files_deleted, 0);

    const part = await restoreInto(['photos/docs']);
    assert.equal(Object.keys(filesOnly(snapshotTree(part.target))).sort(), ['photos/docs/notes/todo.md', 'photos/docs/report.pdf']);
    const missing = await restoreInto(['photos/no-such-thing']).then(
      () => null,
      (error) => error,
    );
    assert.is(missing?.code, 'NOTHING_TO_RESTORE');
    const target = tempDir();
    const mixed = await destination
      .restore({ config: place.config, secret: context.server.secret, sources: [source], target, paths: ['photos/docs', 'photos/typo'], verbosity: 'normal', hostKeys: context.hostKeys, signal: new AbortController().signal, log: () => undefined, progress: () => undefined })
      .then(
        () => null,
        (error) => error,
      );
    assert.match(mixed?.message ?? '', /not in the backup: photos\/typo/, 'a path that is not there is named');
    assert.equal(readdirSync(target), [], 'and nothing was written');
  });

  if (expects('has_server', 'the server going away mid-run')) {
    contract('the server going away mid-run fails the run with a clear error, without crashing', async (context) => {
      const place = context.server.place();
      const source = newSource();
      writeFileSync(path.join(source, 'big.bin'), fileContent('big', 8 * 1024 * 1024));
      setTimeout(() => void context.server.stop?.(), 1000);
      const error = await sync(context, place, [source], { bandwidth_limit_kbps: 1024 }).then(
        () => assert.unreachable('it should fail'),
        (failure) => failure,
      );
      assert.ok(error.code, `a CairnError, not ${error.stack}`);
      assert.match(error.message, /connection|refused|reset|closed|lost|unreachable|socket|timed out/i);
    });
  }

  contract.run();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Resolves once this process holds `file` open (remote destinations read in-process): it was listed,
 * its size noted, and its bytes are on their way, throttled by the test's bandwidth limit.
 */
async function whenOpened(file: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === file) return;
      } catch {
        // closed meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${file} was never opened`);
}
