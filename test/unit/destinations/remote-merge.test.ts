/**
 * The streaming comparison (a merge join of the source walk, the destination listing and the record
 * of sent files) decides exactly what a simple whole-tree model decides: the same uploads and the same
 * deletes, run after run, on a few hundred randomized trees with awkward names (case, Unicode forms,
 * characters beyond U+FFFF), excludes, leftover partial uploads, unreadable names, and destinations
 * that keep mtimes (SFTP) or not (S3), listed folder by folder or as one flat sorted listing.
 */
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Excludes } from '../../../src/destinations/remote/excludes.ts';
import { isPartialName, type RemoteEntry, type RemoteStore, type RemoteUpload } from '../../../src/destinations/remote/remote-store.ts';
import { syncToStore } from '../../../src/destinations/remote/sync-engine.ts';
import { walkSorted, type ListedChild } from '../../../src/destinations/remote/walk-sorted.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import { tempDir } from '../../helpers.ts';

/** A small deterministic generator, so a failing tree can be made again from its seed. */
function randomFrom(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return { next, int: (below: number) => Math.floor(next() * below), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] };
}

const PAGE_SIZES = [1, 3, 2, 5];
const NAMES = ['a', 'b', 'A', 'a.txt', 'a-b', 'a0', 'B.TXT', 'b.txt', 'caf\u00e9', 'cafe\u0301', '\u{1F600}', '\uE000', 'z z', '-x', 'cache', 'x.tmp'];
const EXCLUDES = [[], ['*.tmp'], ['cache/'], ['/a'], ['b/**']];

interface StoredFile {
  size: number;
  mtimeMs?: number;
}

/** A destination in memory, recording what was sent and deleted. */
class MemoryStore implements RemoteStore {
  readonly files = new Map<string, StoredFile>();
  puts: string[] = [];
  removes: string[] = [];
  /** Listings asked for (one per source per pass). */
  walks = 0;

  constructor(
    readonly keepsMtime: boolean,
    readonly folderByFolder: boolean,
  ) {}

  walk(folder: string, signal: AbortSignal): AsyncIterable<Array<[string, RemoteEntry]>> {
    this.walks++;
    const prefix = `${folder}/`;
    const below = [...this.files].filter(([key]) => key.startsWith(prefix)).map(([key, file]) => [key.slice(prefix.length), file] as [string, StoredFile]);
    if (!this.folderByFolder) {
      // S3's order: bytes of the UTF-8 key.
      below.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      // In pages of 1, 3, 2, 5, … entries, so the join meets batch ends at every kind of place.
      return (async function* () {
        for (let start = 0, page = 0; start < below.length; page++) {
          const size = PAGE_SIZES[page % PAGE_SIZES.length];
          yield below.slice(start, start + size).map(([key, file]) => [key, { ...file }] as [string, RemoteEntry]);
          start += size;
        }
      })();
    }
    return walkSorted<RemoteEntry>(async (relative) => {
      const inside = relative ? `${relative}/` : '';
      const children = new Map<string, ListedChild<RemoteEntry>>();
      for (const [key, file] of below) {
        if (!key.startsWith(inside)) continue;
        const rest = key.slice(inside.length).split('/');
        children.set(rest[0] + (rest.length > 1 ? '/' : ''), rest.length > 1 ? { name: rest[0] } : { name: rest[0], file: { ...file } });
      }
      // Unsorted on purpose, as readdir answers.
      return [...children.values()].reverse();
    }, signal);
  }

  async put(upload: RemoteUpload): Promise<void> {
    let size = 0;
    for await (const chunk of upload.body) size += (chunk as Buffer).length;
    this.files.set(upload.path, { size, ...(this.keepsMtime ? { mtimeMs: Math.floor(upload.mtimeMs / 1000) * 1000 } : {}) });
    this.puts.push(upload.path);
  }

  async remove(file: string): Promise<void> {
    this.files.delete(file);
    this.removes.push(file);
  }

  async get(): Promise<Readable> {
    throw new Error('not used');
  }

  async read(): Promise<never> {
    throw new Error('not used');
  }

  async stat(): Promise<never> {
    throw new Error('not used');
  }

  where = (file: string) => `memory:${file}`;
  async close() {}
}

type Record_ = Map<string, [number, number]>;

/** The whole-tree model: every local file, every remote file and the whole record in maps, decided as the engine always has. */
function modelRun(localFiles: Map<string, { size: number; mtimeMs: number }>, unreadable: boolean, store: MemoryStore, record: Record_, name: string, options: SyncOptions) {
  const excludes = new Excludes(options.exclude_patterns);
  const remote = new Map([...store.files].filter(([key]) => key.startsWith(`${name}/`)).map(([key, file]) => [key.slice(name.length + 1), file]));
  const spelling = (text: string) => text.normalize('NFC').toLowerCase();
  const uploads: string[] = [];
  for (const [relative, file] of localFiles) {
    const there = isPartialName(relative) ? undefined : remote.get(relative);
    const sent = record.get(`${name}/${relative}`);
    const unchanged = !!there && there.size === file.size && (sent ? sent[0] === file.size && sent[1] === file.mtimeMs : there.mtimeMs !== undefined && Math.floor(there.mtimeMs / 1000) === Math.floor(file.mtimeMs / 1000));
    if (!unchanged) uploads.push(`${name}/${relative}`);
  }
  const localSpellings = new Set([...localFiles.keys()].map(spelling));
  const candidates = options.delete_extraneous
    ? [...remote.keys()].filter((relative) => !isPartialName(relative) && !localFiles.has(relative) && !localSpellings.has(spelling(relative)) && !excludes.covers(relative))
    : [];
  const deletes = unreadable ? [] : candidates.map((relative) => `${name}/${relative}`);
  const partials = options.dry_run ? [] : [...remote.keys()].filter(isPartialName).map((relative) => `${name}/${relative}`);
  if (!options.dry_run) {
    for (const file of uploads) {
      const local = localFiles.get(file.slice(name.length + 1))!;
      record.set(file, [local.size, local.mtimeMs]);
    }
    for (const file of deletes) record.delete(file);
  }
  return { uploads: uploads.sort(), deletes: deletes.sort(), partials: partials.sort() };
}

/** The source's regular files that the excludes leave in, read whole (the model's view). */
function readTree(root: string, excludes: Excludes): Map<string, { size: number; mtimeMs: number }> {
  const files = new Map<string, { size: number; mtimeMs: number }>();
  const visit = (folder: string) => {
    for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true })) {
      const relative = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.name.includes('\uFFFD')) continue;
      if (entry.isDirectory()) {
        if (!excludes.matches(relative, true)) visit(relative);
      } else if (entry.isFile() && !excludes.matches(relative, false)) {
        const stat = statSync(path.join(root, relative));
        files.set(relative, { size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) });
      }
    }
  };
  visit('');
  return files;
}

function randomPath(random: ReturnType<typeof randomFrom>): string {
  const depth = 1 + random.int(3);
  return Array.from({ length: depth }, () => random.pick(NAMES)).join('/');
}

/** Writes a file unless a folder or file already stands in its way (or on its path). */
function writeLocal(root: string, relative: string, size: number, mtimeMs: number): void {
  const file = path.join(root, relative);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) return;
    writeFileSync(file, Buffer.alloc(size, 'x'));
    utimesSync(file, new Date(mtimeMs), new Date(mtimeMs));
  } catch {
    // A file where a folder should be: this path is not part of the tree.
  }
}

test('the streaming comparison sends and deletes exactly what the whole-tree model does, on 300 random trees', async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const random = randomFrom(seed * 7919);
    const root = tempDir();
    const source = path.join(root, 'data');
    mkdirSync(source);
    const store = new MemoryStore(random.next() < 0.5, random.next() < 0.5);
    const base = 1_700_000_000_000;
    for (let index = random.int(25); index > 0; index--) writeLocal(source, randomPath(random), random.int(4), base + random.int(4) * 500);
    // What the destination holds already: some of the same files, some others, a leftover partial upload.
    for (let index = random.int(20); index > 0; index--) {
      store.files.set(`data/${randomPath(random)}`, { size: random.int(4), ...(store.keepsMtime ? { mtimeMs: base + random.int(4) * 1000 } : {}) });
    }
    if (random.next() < 0.3) store.files.set(`data/${random.pick(NAMES)}/.a.txt.cairn-partial-0123abcd`, { size: 1 });
    const record: Record_ = new Map();
    const stateFile = path.join(root, 'state', 'job-1.json');

    for (let round = 0; round < 3; round++) {
      const unreadable = random.next() < 0.1;
      const odd = Buffer.concat([Buffer.from(`${source}/odd-`), Buffer.from([0xe9])]);
      if (unreadable) writeFileSync(odd, 'latin-1 name');
      const options: SyncOptions = {
        delete_extraneous: random.next() < 0.7,
        exclude_patterns: random.pick(EXCLUDES),
        bandwidth_limit_kbps: null,
        dry_run: random.next() < 0.15,
        verbosity: 'quiet',
      };
      const expected = modelRun(readTree(source, new Excludes(options.exclude_patterns)), unreadable, store, record, 'data', options);
      store.puts = [];
      store.removes = [];
      // With a plan (as the daemon runs), a run that would change nothing skips its own pass: both ways must agree with the model.
      const plan = random.next() < 0.5 ? { plan: () => undefined } : {};
      const outcome = await syncToStore(
        { config: {}, secret: null, sources: [source], realSources: [source], options, signal: new AbortController().signal, stateFile, hostKeys: null as never, log: () => undefined, progress: () => undefined, ...plan },
        { store, identity: 'memory' },
      ).then(
        (totals) => ({ totals, error: null }),
        (error) => ({ totals: null, error }),
      );
      const where = `seed ${seed}, round ${round} (${'plan' in plan ? 'planned, ' : ''}${store.keepsMtime ? 'keeps mtimes' : 'no mtimes'}, ${store.folderByFolder ? 'folder by folder' : 'flat'}, ${JSON.stringify(options)})`;
      if (unreadable) assert.is(outcome.error?.code, 'PARTIAL_TRANSFER', where);
      else assert.is(outcome.error, null, `${where}: ${outcome.error?.message}`);
      const removed = store.removes.filter((file) => !isPartialName(file)).sort();
      assert.equal(store.removes.filter(isPartialName).sort(), expected.partials, `${where}: partial uploads cleared`);
      assert.equal(removed, options.dry_run ? [] : expected.deletes, `${where}: deletes`);
      assert.equal([...store.puts].sort(), options.dry_run ? [] : expected.uploads, `${where}: uploads`);
      if (outcome.totals) {
        assert.is(outcome.totals.files_transferred, expected.uploads.length, `${where}: files counted`);
        assert.is(outcome.totals.files_deleted, expected.deletes.length, `${where}: deletes counted`);
      }
      if (unreadable) rmSync(odd);

      // Between runs: the owner edits, adds and removes files; someone touches the destination.
      for (let index = random.int(8); index > 0; index--) writeLocal(source, randomPath(random), random.int(4), base + 10_000 + random.int(6) * 250);
      for (let index = random.int(4); index > 0; index--) {
        try {
          rmSync(path.join(source, randomPath(random)), { recursive: true, force: true });
        } catch {
          // A file where the path needs a folder: nothing to remove.
        }
      }
      for (let index = random.int(3); index > 0; index--) {
        const keys = [...store.files.keys()];
        if (keys.length > 0) store.files.delete(random.pick(keys));
      }
      if (random.next() < 0.3) store.files.set(`data/${randomPath(random)}`, { size: random.int(4) });
    }
    rmSync(root, { recursive: true, force: true });
  }
});

test('a rerun with nothing to change lists the destination once (the plan), not twice, and still sends what changed next', async () => {
  const root = tempDir();
  const source = path.join(root, 'data');
  for (let index = 0; index < 30; index++) writeLocal(source, `f${index % 3}/file-${index}`, index % 4, 1_700_000_000_000);
  const store = new MemoryStore(false, true);
  const lines: string[] = [];
  const run = () =>
    syncToStore(
      {
        config: {}, secret: null, sources: [source], realSources: [source], stateFile: path.join(root, 'state', 'job-1.json'), hostKeys: null as never,
        options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
        signal: new AbortController().signal, log: (_level, message) => lines.push(message), progress: () => undefined, plan: () => undefined,
      },
      { store, identity: 'memory' },
    );
  assert.is((await run()).files_transferred, 30);
  store.walks = 0;
  store.puts = [];
  const rerun = await run();
  assert.equal(rerun, { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  assert.is(store.walks, 1, 'one listing: the plan found nothing to do');
  assert.equal(store.puts, []);
  assert.match(lines.at(-1)!, `${source} → memory:data: 0 file(s) (0 bytes) copied, 0 deleted`);
  // Something to do: the sync's own pass runs, uploads the edit and deletes what the source lost.
  writeFileSync(path.join(source, 'f0', 'file-0'), 'edited');
  rmSync(path.join(source, 'f1', 'file-1'));
  store.walks = 0;
  const next = await run();
  assert.is(store.walks, 2);
  assert.equal([next.files_transferred, next.files_deleted], [1, 1]);
  assert.equal(store.puts, ['data/f0/file-0']);
  assert.equal(store.removes, ['data/f1/file-1']);
  rmSync(root, { recursive: true, force: true });
});

test('a record of sent files read over many batches answers every file: a rerun sends nothing, and a change rewrites it right', async () => {
  // ~90-byte lines: the record spans several 64 KB reads, so lookups, the copy of the unchanged
  // entries before the first change and the rest after it all cross batch boundaries. A store that
  // keeps no mtimes (S3) makes the record the only thing that says a file was sent.
  const root = tempDir();
  const source = path.join(root, 'data');
  const count = 4000;
  const name = (index: number) => `folder-${String(index % 40).padStart(2, '0')}/a-fairly-long-file-name-to-fill-the-record-${String(index).padStart(5, '0')}.dat`;
  for (let index = 0; index < count; index++) writeLocal(source, name(index), 1 + (index % 5), 1_700_000_000_000 + index);
  const store = new MemoryStore(false, false);
  const stateFile = path.join(root, 'state', 'job-1.json');
  const run = () =>
    syncToStore(
      {
        config: {}, secret: null, sources: [source], realSources: [source], stateFile, hostKeys: null as never,
        options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'quiet' },
        signal: new AbortController().signal, log: () => undefined, progress: () => undefined, plan: () => undefined,
      },
      { store, identity: 'memory' },
    );
  assert.is((await run()).files_transferred, count);
  assert.ok(statSync(stateFile).size > 4 * 64 * 1024, 'the record spans several reads');
  store.puts = [];
  assert.equal(await run(), { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  assert.equal(store.puts, []);
  // Edits in the middle and near the end, and a file gone: only those are sent or deleted, and the
  // record written anew (old entries copied across reads) still answers for every other file.
  const edited = [name(2101), name(3999)];
  for (const file of edited) writeFileSync(path.join(source, file), 'edited!');
  rmSync(path.join(source, name(1234)));
  store.puts = [];
  const changed = await run();
  assert.equal([changed.files_transferred, changed.files_deleted], [2, 1]);
  assert.equal(store.puts.sort(), edited.map((file) => `data/${file}`).sort());
  assert.equal(store.removes, [`data/${name(1234)}`]);
  store.puts = [];
  assert.equal(await run(), { files_transferred: 0, bytes_transferred: 0, files_deleted: 0 });
  assert.equal(store.puts, []);
  rmSync(root, { recursive: true, force: true });
});

test.run();
