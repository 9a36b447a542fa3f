/**
 * The zstd seam (src/repository/zstd.ts) judged by the `zstd` command: what Cairn compresses the
 * command decompresses, and what the command compresses (with its size in the frame, and without
 * it) Cairn decompresses. (A damaged blob is caught before and after: its MAC, then its SHA-256.)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadZstd, type Zstd } from '../../../src/repository/zstd.ts';

let zstd: Zstd;
// Text that compresses, then 1 MiB that does not, then text: 2.5 MiB, past one zstd block.
const data = Buffer.concat([Buffer.from('cairn keeps backups. '.repeat(40_000)), randomBytes(1 << 20), Buffer.from('and restic reads them\n'.repeat(30_000))]);

test.before(async () => {
  const loaded = await loadZstd();
  assert.ok(loaded, 'this runtime offers zstd (Node`s own or the WebAssembly library)');
  zstd = loaded!;
  console.log(`zstd: ${zstd.kind} (Node ${process.version})`);
});

test('what Cairn compresses, the zstd command decompresses byte for byte, smaller than it was', () => {
  const frame = zstd.compress(data);
  assert.ok(frame.length < data.length - 700_000, `${frame.length} of ${data.length}`);
  assert.ok(execFileSync('zstd', ['-d', '-c'], { input: frame, maxBuffer: 64 << 20 }).equals(data));
});

test('what the zstd command compresses, Cairn decompresses: with the size in the frame and without (from a pipe)', () => {
  for (const args of [['-3', '-c', '--content-size'], ['-3', '-c', '--no-content-size']]) {
    const frame = execFileSync('zstd', args, { input: data, maxBuffer: 64 << 20 });
    assert.ok(Buffer.from(zstd.decompress(frame)).equals(data), args.join(' '));
    assert.ok(Buffer.from(zstd.decompress(frame, data.length)).equals(data), `${args.join(' ')} with the size given`);
  }
});

test.run();
