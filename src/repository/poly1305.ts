/**
 * Poly1305 (RFC 8439 §2.5) for the MAC on every sealed blob, with its block loop in a tiny
 * WebAssembly function: the JS library's loop ran at ~140–300 MB/s here and was the largest single
 * cost of a backup's CPU (more than AES-CTR and SHA-256 together, which are native); 64-bit integer
 * multiplies in WebAssembly run it at ~1.7 GB/s. Node's crypto has no bare Poly1305 (only inside
 * ChaCha20-Poly1305, with a key it derives itself), so the loop is ours: poly1305-donna's 26-bit
 * limbs, five 64-bit products per limb, assembled by wasm.ts. Key set-up and the final reduction
 * run in JS, once per message.
 */

import { I32, I64, instantiate, op } from './wasm.ts';

const MASK = 0x3ffffff;
/** Bytes of the message window in WebAssembly memory, after the 64-byte state (a multiple of 16). */
const WINDOW = 1024 * 1024;
const MESSAGE_AT = 64;
/** Memory layout: h0..h4 at 0, r0..r4 at 20 (little-endian uint32 each), the message window at 64. */
const H_AT = 0;
const R_AT = 20;

// Locals: params m (0), len (1), hibit (2) as i32; then i64 h0..h4 (3–7), r0..r4 (8–12),
// s1..s4 (13–16: r·5), d0..d4 (17–21), hb (22); and the i32 end (23).
const M = 0;
const LEN = 1;
const HIBIT = 2;
const h = (i: number) => 3 + i;
const r = (i: number) => 8 + i;
const s = (i: number) => 13 + i - 1;
const d = (i: number) => 17 + i;
const HB = 22;
const END = 23;

/** The factor of h_j in d_i: r_(i-j), or 5·r_(i-j+5) where the product wraps past 2^130. */
const factor = (i: number, j: number) => (j <= i ? r(i - j) : s(i - j + 5));

function blockFunctionBody(): number[] {
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const part of parts) code.push(...part);
  };
  // Load the state.
  for (let i = 0; i < 5; i++) emit(op.i32(0), op.load32(H_AT + 4 * i), op.set(h(i)));
  for (let i = 0; i < 5; i++) emit(op.i32(0), op.load32(R_AT + 4 * i), op.set(r(i)));
  for (let i = 1; i < 5; i++) emit(op.get(r(i)), op.i64(5), op.mul, op.set(s(i)));
  emit(op.get(HIBIT), op.extendU, op.set(HB));
  emit(op.get(M), op.get(LEN), op.i32add, op.set(END));
  emit(op.block, op.loop);
  emit(op.get(M), op.get(END), op.i32geu, op.brIf(1)); // out of the block when m >= end
  // h += the block (as poly1305-donna: overlapping 32-bit loads, shifted).
  const shifts = [0, 2, 4, 6, 8];
  for (let i = 0; i < 5; i++) {
    emit(op.get(h(i)), op.get(M), op.load32(3 * i), op.i64(shifts[i]), op.shr);
    if (i < 4) emit(op.i64(MASK), op.and);
    else emit(op.get(HB), op.or);
    emit(op.add, op.set(h(i)));
  }
  // d = h · r (mod 2^130 − 5, folded by the ·5 factors).
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      emit(op.get(h(j)), op.get(factor(i, j)), op.mul);
      if (j > 0) emit(op.add);
    }
    emit(op.set(d(i)));
  }
  // Carry: h_i = d_i mod 2^26, the rest into d_(i+1); the top carry ·5 into h0, then once into h1.
  for (let i = 0; i < 5; i++) {
    emit(op.get(d(i)), op.i64(MASK), op.and, op.set(h(i)));
    if (i < 4) emit(op.get(d(i + 1)), op.get(d(i)), op.i64(26), op.shr, op.add, op.set(d(i + 1)));
  }
  emit(op.get(h(0)), op.get(d(4)), op.i64(26), op.shr, op.i64(5), op.mul, op.add, op.tee(h(0)));
  emit(op.i64(26), op.shr, op.get(h(1)), op.add, op.set(h(1)));
  emit(op.get(h(0)), op.i64(MASK), op.and, op.set(h(0)));
  emit(op.get(M), op.i32(16), op.i32add, op.set(M));
  emit(op.br(0), op.end, op.end); // next block; end loop; end block
  for (let i = 0; i < 5; i++) emit(op.i32(0), op.get(h(i)), op.store32(H_AT + 4 * i));
  return code;
}

interface Engine {
  blocks(m: number, len: number, hibit: number): void;
  memory: WebAssembly.Memory;
}

let engine: Engine | null = null;

function load(): Engine {
  if (engine) return engine;
  const { fn, memory } = instantiate<Engine['blocks']>({
    name: 'blocks',
    params: [I32, I32, I32],
    result: [],
    locals: [[20, I64], [1, I32]],
    body: blockFunctionBody(),
    pages: Math.ceil((MESSAGE_AT + WINDOW) / 65536),
  });
  engine = { blocks: fn, memory };
  return engine;
}

/**
 * The Poly1305 tag of `message` under the one-time key `key` (32 bytes: r, clamped here, then s).
 * Synchronous and not re-entrant (one module instance per thread, which JS's single thread gives).
 */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError('a Poly1305 key is 32 bytes');
  const { blocks, memory } = load();
  const heap = new Uint8Array(memory.buffer);
  const words = new DataView(memory.buffer);
  const k = Buffer.from(key.buffer, key.byteOffset, 32);
  // r with poly1305's clamping, in 26-bit limbs (poly1305-donna's masks).
  const rLimbs = [k.readUInt32LE(0) & 0x3ffffff, (k.readUInt32LE(3) >>> 2) & 0x3ffff03, (k.readUInt32LE(6) >>> 4) & 0x3ffc0ff, (k.readUInt32LE(9) >>> 6) & 0x3f03fff, (k.readUInt32LE(12) >>> 8) & 0x00fffff];
  for (let i = 0; i < 5; i++) {
    words.setUint32(H_AT + 4 * i, 0, true);
    words.setUint32(R_AT + 4 * i, rLimbs[i], true);
  }
  const full = message.length - (message.length % 16);
  for (let at = 0; at < full; at += WINDOW) {
    const length = Math.min(WINDOW, full - at);
    heap.set(message.subarray(at, at + length), MESSAGE_AT);
    blocks(MESSAGE_AT, length, 1 << 24);
  }
  if (full < message.length) {
    // The last partial block: its bytes, a 1, zeros, and no high bit.
    heap.fill(0, MESSAGE_AT, MESSAGE_AT + 16);
    heap.set(message.subarray(full), MESSAGE_AT);
    heap[MESSAGE_AT + message.length - full] = 1;
    blocks(MESSAGE_AT, 16, 0);
  }
  const hl = [0, 1, 2, 3, 4].map((i) => words.getUint32(H_AT + 4 * i, true));
  return finish(hl, k);
}

/** h fully reduced modulo 2^130 − 5, plus s, modulo 2^128 (poly1305-donna's finish). */
function finish(hl: number[], key: Buffer): Buffer {
  let [h0, h1, h2, h3, h4] = hl;
  let c = h1 >>> 26;
  h1 &= MASK;
  h2 += c; c = h2 >>> 26; h2 &= MASK;
  h3 += c; c = h3 >>> 26; h3 &= MASK;
  h4 += c; c = h4 >>> 26; h4 &= MASK;
  h0 += c * 5; c = h0 >>> 26; h0 &= MASK;
  h1 += c;
  // g = h + 5 − 2^130: when that does not go below zero, h ≥ p and g is the reduced value.
  let g0 = h0 + 5; c = g0 >>> 26; g0 &= MASK;
  let g1 = h1 + c; c = g1 >>> 26; g1 &= MASK;
  let g2 = h2 + c; c = g2 >>> 26; g2 &= MASK;
  let g3 = h3 + c; c = g3 >>> 26; g3 &= MASK;
  const g4 = h4 + c - (1 << 26);
  if (g4 >= 0) [h0, h1, h2, h3, h4] = [g0, g1, g2, g3, g4];
  const w = [(h0 | (h1 << 26)) >>> 0, ((h1 >>> 6) | (h2 << 20)) >>> 0, ((h2 >>> 12) | (h3 << 14)) >>> 0, ((h3 >>> 18) | (h4 << 8)) >>> 0];
  const tag = Buffer.allocUnsafe(16);
  let carry = 0;
  for (let i = 0; i < 4; i++) {
    const sum = w[i] + key.readUInt32LE(16 + 4 * i) + carry;
    tag.writeUInt32LE(sum >>> 0, 4 * i);
    carry = sum > 0xffffffff ? 1 : 0;
  }
  return tag;
}
