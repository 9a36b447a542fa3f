/**
 * What the repository engine's process evaluates when it starts: the modules its entry imports
 * statically, as the binary's bundler (esbuild, as scripts/build-binary.mjs runs it) sees them. Each
 * destination's protocol library is loaded by the one task that needs it, and nothing of the
 * daemon's (joi schemas, the API, the store) comes along: every engine start paid ~0.14 s CPU and
 * ~7 MB for joi and every destination's schema before a backup read a byte.
 */
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../../helpers.ts';

const ENGINE = 'src/runs/repository-worker.ts';

/** Every input the entry reaches by static imports (`import … from`, `require`), dynamic imports left out. */
async function staticallyImported(entry: string): Promise<{ staticInputs: Set<string>; allInputs: string[] }> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['cpu-features', '*.node'],
    outfile: path.join(REPO_ROOT, 'dist', 'engine-imports-test.cjs'),
  });
  const inputs: Metafile['inputs'] = result.metafile.inputs;
  const staticInputs = new Set([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imported of inputs[file]?.imports ?? []) {
      if (imported.kind === 'dynamic-import' || imported.external || staticInputs.has(imported.path)) continue;
      staticInputs.add(imported.path);
      queue.push(imported.path);
    }
  }
  return { staticInputs, allInputs: Object.keys(inputs) };
}

const packageOf = (input: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? null;

test('the engine starts without joi, the daemon or any protocol library; each store loads when a task needs it', async () => {
  const { staticInputs, allInputs } = await staticallyImported(ENGINE);
  const packages = new Set([...staticInputs].map(packageOf).filter((name) => name !== null));
  for (const heavy of ['joi', 'ssh2', '@aws-sdk/client-s3', 'fast-xml-parser', '@hapi/hapi', 'lowdb', 'croner', 'libsodium-wrappers-sumo']) {
    assert.not.ok(packages.has(heavy), `${heavy} is evaluated at every engine start`);
  }
  assert.not.ok(
    [...staticInputs].some((input) => input.startsWith('src/destinations/') && input.endsWith('/index.ts')),
    'no destination module of the registry (their joi schemas) is imported statically',
  );
  // The stores are still in the bundle, behind dynamic imports: a task of that type can open them.
  for (const store of ['src/destinations/sftp/sftp-store.ts', 'src/destinations/s3/s3-store.ts', 'src/destinations/webdav/webdav-store.ts', 'src/destinations/local/repository-backend.ts']) {
    assert.ok(allInputs.includes(store), `${store} is reachable from the engine`);
    assert.not.ok(staticInputs.has(store), `${store} is loaded only by a task that needs it`);
  }
});

test.run();
