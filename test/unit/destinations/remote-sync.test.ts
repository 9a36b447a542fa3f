/** The pure parts of the remote sync engine: rsync's exclude meanings, partial names, the record of sent files. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Excludes } from '../../../src/destinations/remote/excludes.ts';
import { emptyProblems, walkLocalTree, type LocalFile } from '../../../src/destinations/remote/local-tree.ts';
import { compareBytes } from '../../../src/destinations/remote/sorted-paths.ts';
import { walkSorted } from '../../../src/destinations/remote/walk-sorted.ts';
import { isPartialName, joinRemote, partialNameFor } from '../../../src/destinations/remote/remote-store.ts';
import { SentFiles } from '../../../src/destinations/remote/sent-files.ts';
import { syncToStore } from '../../../src/destinations/remote/sync-engine.ts';
import { tempDir } from '../../helpers.ts';

/** The whole walk of a source, for tests that look at all of it. */
async function readLocalTree(root: string, excludes: Excludes, signal: AbortSignal) {
  const problems = emptyProblems();
  const files = new Map<string, LocalFile>();
  for await (const batch of walkLocalTree(root, excludes, signal, problems)) for (const [relative, file] of batch) files.set(relative, file);
  return { files, unreadable: problems.unreadable.names, skipped: problems.skipped.names };
}

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const batch of batches) all.push(...batch);
  return all;
}

test('exclude patterns mean what they mean to rsync', () => {
  const cases: Array<[string, string, boolean, boolean]> = [
    // pattern, path, is a folder, excluded
    ['*.tmp', 'a.tmp', false, true],
    ['*.tmp', 'deep/down/b.tmp', false, true],
    ['*.tmp', 'a.tmpx', false, false],
    ['cache', 'x/cache', true, true],
    ['cache', 'x/cache', false, true],
    ['cache/', 'x/cache', false, false],
    ['cache/', 'x/cache', true, true],
    ['/build', 'build', true, true],
    ['/build', 'sub/build', true, false],
    ['logs/*.log', 'logs/a.log', false, true],
    ['logs/*.log', 'app/logs/a.log', false, true],
    ['logs/*.log', 'logs/deep/a.log', false, false],
    ['logs/**', 'logs/deep/a.log', false, true],
    ['**/node_modules', 'a/b/node_modules', true, true],
    ['file?.txt', 'file1.txt', false, true],
    ['file?.txt', 'file10.txt', false, false],
    ['[ab].txt', 'a.txt', false, true],
    ['[!ab].txt', 'a.txt', false, false],
    ['[!ab].txt', 'c.txt', false, true],
    ['a+b(1).txt', 'a+b(1).txt', false, true],
  ];
  for (const [pattern, file, folder, excluded] of cases) {
    assert.is(new Excludes([pattern]).matches(file, folder), excluded, `${pattern} on ${file}${folder ? '/' : ''}`);
  }
  assert.ok(new Excludes(['cache/']).covers('x/cache/y.txt'), 'a file in an excluded folder is covered');
  assert.not.ok(new Excludes(['cache/']).covers('x/cached.txt'));
  assert.not.ok(new Excludes([]).covers('anything'));
});

test('for every pattern, the engine picks exactly the files real rsync picks', async () => {
  const source = tempDir();
  const files = ['a.tmp', 'a.txt', 'x/cache/in.txt', 'x/cache', 'cache/top.txt', 'build/out.bin', 'sub/build/out.bin', 'logs/a.log', 'app/logs/b.log', 'logs/deep/c.log', 'file1.txt', 'file10.txt', 'b.txt', 'a/b/node_modules/m.js'];
  for (const name of files) {
    if (name === 'x/cache') continue;
    mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
    writeFileSync(path.join(source, name), name);
  }
  const patterns = ['*.tmp', 'cache', 'cache/', '/build', 'logs/*.log', 'logs/**', '**/node_modules', 'file?.txt', '[ab].txt', '[!ab].txt', 'x/'];
  for (const pattern of patterns) {
    const listed = execFileSync('rsync', ['-a', '--dry-run', '--out-format=%n', `--exclude=${pattern}`, '--', `${source}/`, `${tempDir()}/`], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '' && !line.endsWith('/'));
    const tree = await readLocalTree(source, new Excludes([pattern]), new AbortController().signal);
    assert.equal([...tree.files.keys()].sort(), listed.sort(), pattern);
  }
});

test('a name that is not valid UTF-8 is reported as unreadable, never silently left out', async () => {
  const source = tempDir();
  writeFileSync(path.join(source, 'plain.txt'), 'plain');
  writeFileSync(Buffer.concat([Buffer.from(`${source}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1 name');
  const tree = await readLocalTree(source, new Excludes([]), new AbortController().signal);
  assert.equal([...tree.files.keys()], ['plain.txt']);
  assert.is(tree.unreadable.length, 1);
  assert.match(tree.unreadable[0], /not valid UTF-8/);
});

test('a server that spells names its own way (Unicode normal form, case) never loses the file just sent', async () => {
  // No such server runs here (ownCloud stores names in NFC): a store that normalises names stands in.
  const files = new Map<string, Buffer>();
  const store = {
    async *walk(folder: string) {
      const prefix = `${folder}/`;
      for (const [key, value] of [...files].sort()) if (key.startsWith(prefix)) yield [[key.slice(prefix.length), { size: value.length }] as [string, { size: number }]];
    },
    async put({ path: file, body }: { path: string; body: NodeJS.ReadableStream }) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      files.set(file.normalize('NFC'), Buffer.concat(chunks));
    },
    async remove(file: string) {
      files.delete(file);
    },
    async get(): Promise<never> {
      throw new Error('not used');
    },
    async read(): Promise<never> {
      throw new Error('not used');
    },
    async stat(): Promise<never> {
      throw new Error('not used');
    },
    where: (file: string) => `memory:${file}`,
    async close() {},
  };
  const root = tempDir();
  const source = path.join(root, 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'cafe\u0301.jpg'), 'decomposed name, as macOS writes it');
  const options = { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' as const };
  const run = () =>
    syncToStore(
      { config: {}, secret: null, sources: [source], realSources: [source], options, signal: new AbortController().signal, stateFile: path.join(root, 'sent.json'), hostKeys: null as never, log: () => undefined, progress: () => undefined },
      { store, identity: 'memory' },
    );
  for (let round = 0; round < 3; round++) {
    const totals = await run();
    assert.is(totals.files_deleted, 0, `round ${round}: nothing deleted`);
    assert.equal([...files.keys()], ['photos/caf\u00e9.jpg'], `round ${round}: the file is there`);
  }
});

test('partial names are hidden, beside their file, and recognised', () => {
  const partial = partialNameFor('photos/2024/beach.jpg');
  assert.match(partial, /^photos\/2024\/\.beach\.jpg\.cairn-partial-[0-9a-f]{8}$/);
  assert.ok(isPartialName(partial));
  assert.ok(isPartialName(partialNameFor('top.txt')));
  assert.not.ok(isPartialName('photos/beach.jpg'));
  assert.not.ok(isPartialName('photos/.beach.jpg.cairn-partial-zz'));
  assert.is(joinRemote('/backups/', '', 'photos//a.txt'), 'backups/photos/a.txt');
});

test('the record of sent files is kept per destination and survives damage', async () => {
  const file = path.join(tempDir(), 'state', 'job-1.json');
  const write = async (destination: string, entries: Array<[string, [number, number]]>) => {
    const sent = await SentFiles.open(file, destination);
    const section = sent.section('photos');
    for (const [relative, value] of entries) section.keep(relative, value, await section.lookup(relative));
    await section.finish(true);
    await sent.save();
  };
  const read = async (destination: string, relative: string) => {
    const sent = await SentFiles.open(file, destination);
    const found = await sent.section('photos').lookup(relative);
    await sent.discard();
    return found;
  };
  await write('sftp://a', [['a.jpg', [10, 1234]], ['b.jpg', [20, 5678]]]);
  assert.equal(await read('sftp://a', 'a.jpg'), [10, 1234]);
  assert.equal(await read('sftp://a', 'b.jpg'), [20, 5678]);
  assert.is(await read('s3://b', 'a.jpg'), undefined, 'another destination starts afresh');
  const before = statSync(file).mtimeMs;
  await write('sftp://a', [['a.jpg', [10, 1234]], ['b.jpg', [20, 5678]]]);
  assert.is(statSync(file).mtimeMs, before, 'a run that changes nothing writes nothing');
  await write('sftp://a', [['b.jpg', [21, 5678]]]);
  assert.is(await read('sftp://a', 'a.jpg'), undefined, 'a path gone from both sides is dropped');
  assert.equal(await read('sftp://a', 'b.jpg'), [21, 5678]);
  writeFileSync(file, '{ torn');
  assert.is(await read('sftp://a', 'b.jpg'), undefined, 'a damaged record means: compare by listing');
  // The earlier form (one JSON object) is converted, not thrown away: S3 would send everything again.
  writeFileSync(file, JSON.stringify({ destination: 'sftp://a', files: { 'photos/z.jpg': [1, 2], 'photos/a.jpg': [3, 4] } }));
  assert.equal(await read('sftp://a', 'a.jpg'), [3, 4]);
  assert.equal(await read('sftp://a', 'z.jpg'), [1, 2]);
  assert.equal(readdirSync(path.dirname(file)), ['job-1.json'], 'no temp file is left beside it');
});

test('a tree is walked folder by folder in path order, several folders asked ahead, and a missing root lists nothing', async () => {
  const root = tempDir();
  const names = ['a/1.txt', 'a/b/2.txt', 'c/3.txt', '4.txt', 'a.txt', 'a0', 'a-b/5.txt', '\u{1F600}', '\uE000'];
  for (const name of names) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), name);
  }
  const { readdir, stat } = await import('node:fs/promises');
  let asking = 0;
  let mostAtOnce = 0;
  const listFolder = async (relative: string) => {
    mostAtOnce = Math.max(mostAtOnce, ++asking);
    const entries = await readdir(path.join(root, relative), { withFileTypes: true }).catch(() => null);
    const children = entries
      ? await Promise.all(
          entries.map(async (entry) => (entry.isDirectory() ? { name: entry.name } : { name: entry.name, file: { size: (await stat(path.join(root, relative, entry.name))).size } })),
        )
      : null;
    asking--;
    return children;
  };
  const found = await collect(walkSorted(listFolder, new AbortController().signal));
  const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.equal(
    found.map(([name]) => name),
    byBytes,
    'the order S3 lists keys in',
  );
  assert.is(found.find(([name]) => name === 'a/b/2.txt')![1].size, 'a/b/2.txt'.length);
  assert.ok(mostAtOnce > 1, 'folders are asked for ahead of the walk');
  assert.equal(await collect(walkSorted(async () => null, new AbortController().signal)), []);
  const failing = await collect(walkSorted(async () => Promise.reject(new Error('lost')), new AbortController().signal)).catch((error: Error) => error.message);
  assert.is(failing, 'lost');
});


test('a folder asked ahead learns when the walk reaches it, or that the walk stopped first', async () => {
  // root: a/ b/ c/ d/, each holding one file.
  const settled = new Map<string, boolean>();
  const listFolder = async (relative: string, wanted: Promise<boolean>) => {
    void wanted.then((reached) => settled.set(relative, reached));
    return relative === '' ? ['a', 'b', 'c', 'd'].map((name) => ({ name })) : [{ name: 'file', file: relative }];
  };
  const walk = walkSorted(listFolder, new AbortController().signal, 2);
  assert.equal((await walk.next()).value, [['a/file', 'a']]);
  assert.equal((await walk.next()).value, [['b/file', 'b']]);
  await walk.return(undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(Object.fromEntries(settled), { '': true, a: true, b: true, c: false, d: false }, 'c and d were asked ahead, never reached');
});

test('the folders the walk reaches next are asked ahead, below folders listed ahead too: only the first way down waits', async () => {
  // d0 … d3, each holding e0 … e3, each holding one file. A listing takes 5 ms (a round trip); the
  // walk's reader takes 10 ms over each batch, so whatever was asked a batch ahead has come.
  const names = ['d0', 'd1', 'd2', 'd3'];
  const waitedFor: string[] = [];
  const listFolder = async (relative: string, wanted: Promise<boolean>) => {
    let came = false;
    void wanted.then((reached) => reached && !came && waitedFor.push(relative));
    await new Promise((resolve) => setTimeout(resolve, 5));
    came = true;
    const depth = relative === '' ? 0 : relative.split('/').length;
    return depth < 2 ? names.map((name) => ({ name: depth === 0 ? name : name.replace('d', 'e') })) : [{ name: 'file', file: relative }];
  };
  const found: string[] = [];
  for await (const batch of walkSorted(listFolder, new AbortController().signal, 8)) {
    found.push(...batch.map(([name]) => name));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.is(found.length, 16);
  assert.equal(waitedFor, ['', 'd0', 'd0/e0'], 'd1/e0 … d3/e0 were asked while the walk was in the folder before');
});

test('on random trees, with listings that come in any order, fail, or wait to be reached, the walk gives each file once in path order and asks no more than it may', async () => {
  let state = 1;
  const random = (below: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return Math.floor(((state >>> 0) / 2 ** 32) * below);
  };
  const NAMES = ['a', 'a.txt', 'a0', 'a-b', 'B', 'b', '\u{1F600}', '\uE000', 'z z'];
  type Node = Map<string, Node | null>;
  const grow = (depth: number, width: number, folders: number): Node => {
    const node: Node = new Map();
    for (let index = random(width); index > 0; index--) node.set(NAMES[random(NAMES.length)] + (random(2) ? random(30) : ''), depth > 0 && random(10) < folders ? grow(depth - 1, width, folders) : null);
    return node;
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    for (let seed = 1; seed <= 150; seed++) {
      state = seed * 7919;
      const tree = grow(1 + random(6), 2 + random(12), random(11));
      const files: string[] = [];
      const folders: string[] = [];
      const visit = (node: Node, prefix: string) => {
        for (const [name, below] of node) {
          if (below) {
            folders.push(prefix + name);
            visit(below, `${prefix}${name}/`);
          } else files.push(prefix + name);
        }
      };
      visit(tree, '');
      files.sort(compareBytes);
      const ahead = [1, 2, 8, 128, 1 + random(200)][random(5)];
      const failing = random(4) === 0 && folders.length > 0 ? folders[random(folders.length)] : null;
      const stopAfter = random(4) === 0 ? 1 + random(8) : Infinity;
      const where = `seed ${seed} (${files.length} files, ${folders.length} folders, ${ahead} ahead, failing ${failing}, stopping after ${stopAfter} batches)`;
      // Each folder listed once; `wanted` settles, true for those reached; at most `ahead` wait to be reached.
      const reached = new Map<string, boolean | undefined>();
      const twice: string[] = [];
      let most = 0;
      const listFolder = async (relative: string, wanted: Promise<boolean>) => {
        if (reached.has(relative)) twice.push(relative);
        reached.set(relative, undefined);
        void wanted.then((settled) => reached.set(relative, settled));
        // Counted a few microtasks on: a folder asked only as the walk steps into it is reached at once, not waiting.
        queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => (most = Math.max(most, [...reached.values()].filter((value) => value === undefined).length)))));
        const timing = random(4);
        if (timing === 1) for (let ticks = random(4); ticks >= 0; ticks--) await new Promise((resolve) => setImmediate(resolve));
        // As SFTP does with a large folder listed ahead: the rest only once the walk reaches it.
        if (timing === 2 && !(await wanted)) return [];
        if (relative === failing) throw new Error(`${relative} lost`);
        let node: Node | null | undefined = tree;
        for (const part of relative ? relative.split('/') : []) node = node?.get(part);
        if (!node) return null;
        const children = [...node].map(([name, below]) => (below ? { name } : { name, file: relative ? `${relative}/${name}` : name }));
        for (let index = children.length - 1; index > 0; index--) {
          const other = random(index + 1);
          [children[index], children[other]] = [children[other], children[index]];
        }
        return children;
      };
      const found: string[] = [];
      let error: string | null = null;
      let batches = 0;
      const walk = walkSorted(listFolder, new AbortController().signal, ahead);
      try {
        for await (const batch of walk) {
          for (const [name, entry] of batch) found.push(entry === name ? name : `${name} given ${entry}`);
          if (++batches === stopAfter) break;
          if (random(2)) await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (thrown) {
        error = (thrown as Error).message;
      }
      for (let ticks = 0; ticks < 5; ticks++) await new Promise((resolve) => setImmediate(resolve));
      // Before a failed folder: the files that sort before its own.
      const until = failing === null ? files.length : files.filter((file) => compareBytes(file, `${failing}/`) < 0).length;
      if (batches === stopAfter) assert.equal(found, files.slice(0, found.length), where);
      else {
        assert.equal(found, files.slice(0, until), where);
        assert.is(error, failing === null ? null : `${failing} lost`, where);
        if (failing === null) assert.equal([...reached.keys()].sort(), ['', ...folders].sort(), `${where}: every folder listed`);
      }
      assert.equal(twice, [], `${where}: no folder listed twice`);
      for (const [folder, settled] of reached) assert.type(settled, 'boolean', `${where}: ${folder}'s wanted settles`);
      for (const file of found) assert.ok(reached.get(file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : ''), `${where}: ${file}'s folder was reached`);
      assert.ok(most <= ahead, `${where}: ${most} waited to be reached at once`);
    }
    assert.equal(unhandled, [], 'a failed listing ahead is never left unhandled');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a folder of many folders costs the walk its listing, not a second string per sub-folder', async () => {
  // The walk sits in the first of 200,000 sub-folders (names of ~40 bytes) with their listing at
  // hand, held by this test: what the walk keeps beyond it is its own. A path per sub-folder kept
  // for asking ahead cost ~72 bytes each; a reference to the sub-folder's child, ~10.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const top = 'a folder of folders with a longish name';
  const listing = Array.from({ length: 200_000 }, (_, index) => ({ name: `sub-folder-${String(index).padStart(6, '0')}` }));
  const listFolder = async (relative: string) => (relative === '' ? [{ name: top }] : relative === top ? listing : [{ name: 'file', file: 1 }]);
  gc();
  const before = process.memoryUsage().heapUsed;
  const walk = walkSorted(listFolder, new AbortController().signal, 128);
  assert.equal((await walk.next()).value, [[`${top}/sub-folder-000000/file`, 1]]);
  gc();
  const perFolder = (process.memoryUsage().heapUsed - before) / listing.length;
  await walk.return(undefined);
  assert.ok(perFolder < 24, `${perFolder.toFixed(1)} bytes a sub-folder`);
});

test('a large folder comes in batches of at most a thousand files, all of them, in order', async () => {
  const names = Array.from({ length: 2500 }, (_, index) => `f${String(index).padStart(4, '0')}`);
  const listFolder = async (relative: string) => (relative === '' ? [{ name: 'sub' }, ...names.map((name) => ({ name, file: name }))].reverse() : [{ name: 'x', file: 'x' }]);
  const sizes: number[] = [];
  const paths: string[] = [];
  for await (const batch of walkSorted(listFolder, new AbortController().signal)) {
    sizes.push(batch.length);
    paths.push(...batch.map(([name]) => name));
  }
  assert.equal(sizes, [1000, 1000, 500, 1]);
  assert.equal(paths, [...names, 'sub/x']);
});

test('small files are sent eight at once, large ones four at once (what they hold in flight bounds memory)', async () => {
  const root = tempDir();
  const source = path.join(root, 'photos');
  mkdirSync(path.join(source, 'large'), { recursive: true });
  mkdirSync(path.join(source, 'small'));
  for (let index = 0; index < 12; index++) {
    writeFileSync(path.join(source, 'small', `s${index}.txt`), 'small');
    writeFileSync(path.join(source, 'large', `l${index}.bin`), Buffer.alloc(1024 * 1024 + index));
  }
  const running = new Set<string>();
  const most = { large: 0, small: 0 };
  const store = {
    async *walk() {},
    async put({ path: file, body }: { path: string; body: NodeJS.ReadableStream }) {
      running.add(file);
      const kind = file.includes('/large/') ? 'large' : 'small';
      most[kind] = Math.max(most[kind], [...running].filter((name) => name.includes(`/${kind}/`)).length);
      for await (const _chunk of body);
      // Held a moment, as a network upload is, so that uploads overlap when the engine lets them.
      await new Promise((resolve) => setTimeout(resolve, 30));
      running.delete(file);
    },
    async remove() {},
    async get(): Promise<never> {
      throw new Error('not used');
    },
    async read(): Promise<never> {
      throw new Error('not used');
    },
    async stat(): Promise<never> {
      throw new Error('not used');
    },
    where: (file: string) => `memory:${file}`,
    async close() {},
  };
  const options = { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'quiet' as const };
  const totals = await syncToStore(
    { config: {}, secret: null, sources: [source], realSources: [source], options, signal: new AbortController().signal, stateFile: path.join(root, 'sent.json'), hostKeys: null as never, log: () => undefined, progress: () => undefined },
    { store, identity: 'memory' },
  );
  assert.is(totals.files_transferred, 24);
  assert.is(most.small, 8, 'small files overlap eight at once');
  assert.is(most.large, 4, 'large files take two slots each');
});

test.run();
