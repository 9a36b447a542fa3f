/**
 * The zstd seam (src/repository/zstd.ts) judged by the `zstd` command: what Cairn compresses the
 * command decompresses, and what the command compresses (with its size in the frame, and without
 * it) Cairn decompresses. (A damaged blob is caught before and after: its MAC, then its SHA-256.)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { declaredContentSize, loadZstd, type Zstd } from '../../../src/repository/zstd.ts';

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

test('the size a frame declares is read from its header, as the zstd command wrote it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-zstd-'));
  try {
    // From a file the command knows the size and writes it; from a pipe it cannot.
    for (const [name, content] of [['large', data], ['small', Buffer.from('x'.repeat(300))], ['tiny', Buffer.from('abc')]] as const) {
      writeFileSync(path.join(dir, name), content);
      assert.is(declaredContentSize(execFileSync('zstd', ['-3', '-c', path.join(dir, name)], { maxBuffer: 64 << 20 })), content.length, name);
    }
    assert.is(declaredContentSize(execFileSync('zstd', ['-3', '-c'], { input: data, maxBuffer: 64 << 20 })), null, 'from a pipe');
    assert.is(declaredContentSize(zstd.compress(data)), data.length, "Cairn's own frames say their size");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a frame that declares (and would really make) far more than the blob it stands for is refused before it is decoded', () => {
  // Magic, a single-segment header with an 8-byte content size, then RLE blocks of 128 KiB each that
  // really do expand to that size: 256 MB from a 6 KB frame, where the index says 1,000 bytes.
  const blocks = 2048;
  const blockSize = 128 * 1024;
  const frame = Buffer.alloc(13 + blocks * 4);
  frame.writeUInt32LE(0xfd2fb528, 0);
  frame[4] = 0xe0;
  frame.writeBigUInt64LE(BigInt(blocks * blockSize), 5);
  for (let i = 0; i < blocks; i++) {
    frame.writeUIntLE((blockSize << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), 13 + i * 4, 3);
    frame[13 + i * 4 + 3] = 0x41;
  }
  assert.is(declaredContentSize(frame), blocks * blockSize);
  const before = process.memoryUsage().rss;
  assert.throws(() => zstd.decompress(frame, 1000), /declares 268435456 bytes|larger|size|exceed|output/i);
  const grown = (process.memoryUsage().rss - before) / 1e6;
  assert.ok(grown < 64, `RSS grew ${grown.toFixed(0)} MB for a refused frame`);
});

test.run();
