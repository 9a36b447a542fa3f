/**
 * The WebAssembly chunker against the chunk rule's definition, computed independently with BigInt:
 * a chunk ends where the Rabin fingerprint of its last 64 bytes (read as a polynomial over GF(2),
 * modulo the repository's polynomial) has its low 20 bits zero, or at 8 MiB, and never before
 * 512 KiB. Two chunkers used interleaved keep their own state. (restic itself judges the same cuts
 * in test/integration/repository/cairn-writes.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Chunker, MAX_CHUNK, MIN_CHUNK } from '../../../src/repository/chunker.ts';
import { mod, randomPolynomial } from '../../../src/repository/polynomial.ts';

/** The fingerprint of the 64 bytes ending just before `end`, from the definition. */
function fingerprint(data: Buffer, end: number, polynomial: bigint): bigint {
  return mod(BigInt(`0x${data.subarray(end - 64, end).toString('hex')}`), polynomial);
}

const qualifies = (data: Buffer, end: number, polynomial: bigint) => (fingerprint(data, end, polynomial) & 0xfffffn) === 0n;

/** Chunk ends, feeding `data` in pieces of `step` bytes. */
function ends(chunker: Chunker, data: Buffer, step: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < data.length; at += step) {
    let part = data.subarray(at, Math.min(at + step, data.length));
    let base = at;
    for (let b = chunker.nextBoundary(part); b >= 0; b = chunker.nextBoundary(part)) {
      out.push(base + b);
      part = part.subarray(b);
      base += b;
    }
  }
  return out;
}

test('each cut is where the definition puts one: fingerprint`s low 20 bits zero (or 8 MiB), none earlier past 512 KiB', () => {
  const polynomial = randomPolynomial();
  const data = randomBytes(20 * 1024 * 1024);
  const cuts = ends(new Chunker(polynomial), data, 1 << 20);
  assert.ok(cuts.length >= 4, `cuts ${cuts.length}`);
  let start = 0;
  for (const end of cuts) {
    const length = end - start;
    assert.ok(length >= MIN_CHUNK && length <= MAX_CHUNK, `${length}`);
    if (length < MAX_CHUNK) assert.ok(qualifies(data, end, polynomial), `cut at ${end} has a nonzero fingerprint`);
    // The positions just before the cut (and at the minimum) do not qualify, or the cut would be there.
    for (let earlier = Math.max(start + MIN_CHUNK, end - 300); earlier < end; earlier++) assert.not.ok(qualifies(data, earlier, polynomial), `${earlier} qualifies before ${end}`);
    start = end;
  }
});

test('cuts do not depend on how the bytes are fed, and interleaved chunkers keep their own state', () => {
  const polynomial = 0x3da3358b4dc173n;
  const a = randomBytes(12 * 1024 * 1024);
  const b = randomBytes(12 * 1024 * 1024);
  const alone = [ends(new Chunker(polynomial), a, 1 << 20), ends(new Chunker(polynomial), b, 1 << 20)];
  assert.equal(ends(new Chunker(polynomial), a, 99_991), alone[0]);
  assert.equal(ends(new Chunker(polynomial), a, a.length), alone[0]);
  // Two files read turn about, piece by piece, and a chunker of another polynomial in between.
  const chunkers = [new Chunker(polynomial), new Chunker(polynomial)];
  const other = new Chunker(randomPolynomial());
  const cuts: number[][] = [[], []];
  const parts = [0, 0];
  const step = 300_007;
  for (let at = 0; at < a.length; at += step) {
    [a, b].forEach((data, i) => {
      let part = data.subarray(at, Math.min(at + step, data.length));
      let base = at;
      for (let cut = chunkers[i].nextBoundary(part); cut >= 0; cut = chunkers[i].nextBoundary(part)) {
        cuts[i].push(base + cut);
        part = part.subarray(cut);
        base += cut;
      }
      parts[i]++;
      other.nextBoundary(randomBytes(1000));
    });
  }
  assert.equal(cuts, alone);
});

test.run();
