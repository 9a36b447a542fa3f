/**
 * The engine's pure parts: sealing (a changed byte anywhere is refused), the compact blob index
 * (right answers, and its bytes per blob measured), polynomials and the chunker's bounds, tree
 * encoding in restic's field order, times with nanoseconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlobIndex } from '../../../src/repository/blob-index.ts';
import { Chunker, MAX_CHUNK, MIN_CHUNK } from '../../../src/repository/chunker.ts';
import { cryptoReady, MacMismatch, newKey, open, seal } from '../../../src/repository/crypto.ts';
import { parsePackHeader, PackBuilder } from '../../../src/repository/pack.ts';
import { isIrreducible, randomPolynomial, degree } from '../../../src/repository/polynomial.ts';
import { encodeTree, formatTime, goMode, parseTime, unixPermissions } from '../../../src/repository/tree.ts';

test.before(() => cryptoReady());

test('sealed data opens with its key only, and a changed byte anywhere is refused, never decrypted', () => {
  const key = newKey();
  const plain = randomBytes(1000);
  const sealed = seal(key, plain);
  assert.is(sealed.length, 1032);
  assert.equal(open(key, sealed), plain);
  for (const at of [0, 15, 16, 500, 1015, 1016, 1031]) {
    const bad = Buffer.from(sealed);
    bad[at] ^= 0x01;
    assert.throws(() => open(key, bad), (e: unknown) => e instanceof MacMismatch, `byte ${at}`);
  }
  assert.throws(() => open(newKey(), sealed), (e: unknown) => e instanceof MacMismatch);
  assert.throws(() => open(key, sealed.subarray(0, 31)), (e: unknown) => e instanceof MacMismatch);
});

test('the blob index finds every blob among 200,000 and costs under 120 bytes a blob', () => {
  const index = new BlobIndex();
  const count = 200_000;
  const ids = randomBytes(count * 32);
  for (let i = 0; i < count; i++) {
    const added = index.add(ids.subarray(i * 32, i * 32 + 32), { packId: (i % 97).toString(16).padStart(64, '0'), type: i % 10 === 0 ? 'tree' : 'data', offset: i * 7, length: 1000 + i, ...(i % 3 === 0 ? { compressed: true, uncompressedLength: 3000 + i } : { compressed: false }) });
    assert.ok(added);
  }
  assert.is(index.size, count);
  assert.not.ok(index.add(ids.subarray(0, 32), { packId: 'ff'.repeat(32), type: 'data', offset: 1, length: 1, compressed: false }), 'a known id keeps its first place');
  for (const i of [0, 1, 12345, 99_999, count - 1]) {
    assert.equal(index.get(ids.subarray(i * 32, i * 32 + 32)), { packId: (i % 97).toString(16).padStart(64, '0'), type: i % 10 === 0 ? 'tree' : 'data', offset: i * 7, length: 1000 + i, ...(i % 3 === 0 ? { compressed: true, uncompressedLength: 3000 + i } : { compressed: false }) });
  }
  assert.is(index.get(randomBytes(32)), null);
  const perBlob = index.bytes / count;
  console.log(`blob index: ${perBlob.toFixed(1)} bytes per blob at ${count} blobs`);
  assert.ok(perBlob < 120, `${perBlob}`);
});

test('polynomials: restic`s documented example is irreducible, its square is not, random ones are degree 53', () => {
  assert.ok(isIrreducible(0x3da3358b4dc173n));
  assert.not.ok(isIrreducible(0x3da3358b4dc172n), 'divisible by x');
  assert.not.ok(isIrreducible(0b10101n), 'x^4+x^2+1 = (x^2+x+1)^2');
  assert.ok(isIrreducible(0b111n), 'x^2+x+1');
  const p = randomPolynomial();
  assert.is(degree(p), 53);
  assert.ok(isIrreducible(p));
});

test('chunks are 512 KiB to 8 MiB, depend on content only, and do not depend on how the bytes are fed', () => {
  const data = randomBytes(24 * 1024 * 1024);
  const cut = (step: number) => {
    const chunker = new Chunker(0x3da3358b4dc173n);
    const ends: number[] = [];
    let chunkStart = 0;
    for (let at = 0; at < data.length; at += step) {
      let part = data.subarray(at, Math.min(at + step, data.length));
      let base = at;
      for (let b = chunker.nextBoundary(part); b >= 0; b = chunker.nextBoundary(part)) {
        ends.push(base + b);
        part = part.subarray(b);
        base += b;
      }
    }
    return ends.map((end) => {
      const length = end - chunkStart;
      chunkStart = end;
      return length;
    });
  };
  const a = cut(1 << 20);
  assert.equal(cut(123_457), a);
  assert.ok(a.length >= 3, `chunks ${a.length}`);
  for (const length of a) assert.ok(length >= MIN_CHUNK && length <= MAX_CHUNK, `${length}`);
  // A window of zeros fingerprints to zero, so zeros cut at the minimum, as restic's chunker does.
  const zeros = new Chunker(0x3da3358b4dc173n);
  assert.is(zeros.nextBoundary(Buffer.alloc(MAX_CHUNK + 10)), MIN_CHUNK);
});

test('pack header lists each blob`s type, sealed length and id, and blob offsets add up', () => {
  const key = newKey();
  const pack = new PackBuilder();
  const blobs = [randomBytes(10), randomBytes(2000), Buffer.from('{"nodes":[]}\n')];
  blobs.forEach((b, i) => pack.add(key, i === 2 ? 'tree' : 'data', createHash('sha256').update(b).digest(), b));
  const { id, bytes } = pack.finish(key);
  assert.is(id, createHash('sha256').update(bytes).digest('hex'));
  const header = parsePackHeader(key, bytes, bytes.length);
  assert.equal(header.map((h) => [h.type, h.offset, h.length]), [['data', 0, 42], ['data', 42, 2032], ['tree', 2074, 45]]);
  assert.equal(open(key, bytes.subarray(42, 42 + 2032)), blobs[1]);
});

test('trees use restic`s field order and leave empty fields out; modes are Go`s; times keep nanoseconds', () => {
  const tree = encodeTree([
    { name: 'b', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, links: 1, content: [] },
    { name: 'a', type: 'dir', mode: goMode(0o40755), uid: 1000, gid: 1000, user: 'pi', content: null, subtree: 'ab'.repeat(32) },
  ]).toString();
  assert.is(tree, `{"nodes":[{"name":"a","type":"dir","mode":2147484141,"uid":1000,"gid":1000,"user":"pi","content":null,"subtree":"${'ab'.repeat(32)}"},{"name":"b","type":"file","mode":420,"uid":0,"gid":0,"links":1,"content":[]}]}\n`);
  assert.is(goMode(0o41777), 2148532735);
  assert.is(goMode(0o120777), 134218239);
  assert.is(unixPermissions(goMode(0o104755)), 0o4755);
  assert.is(formatTime(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  assert.is(formatTime(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  assert.is(formatTime(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
  assert.is(parseTime('2023-11-14T23:13:20.123456789+01:00'), 1_700_000_000_123_456_789n);
  assert.is(parseTime('2023-11-14T22:13:20Z'), 1_700_000_000_000_000_000n);
});

test.run();
