/**
 * Content-defined chunking as restic does it, so that the same bytes give the same chunks (and so
 * the same blob ids) whichever program reads them: a Rabin fingerprint over a 64-byte window,
 * modulo the repository's polynomial; a chunk ends where the fingerprint's low 20 bits are zero,
 * never before 512 KiB and at the latest at 8 MiB. Each new chunk starts its fingerprint from a
 * window holding the single byte 1 and skips hashing the first 512 KiB − 64 bytes.
 *
 * The fingerprint (at most 53 bits) lives in two 32-bit halves, tables in Int32Arrays, so the hot
 * loop stays in small integers (values above 2^31 read from a Uint32Array are doubles to V8:
 * switching to Int32Array took the chunker from 71 to 133 MB/s here). Polynomials of degree 40–53 are accepted: restic makes only degree 53.
 */
import { degree, mod } from './polynomial.ts';

export const MIN_CHUNK = 512 * 1024;
export const MAX_CHUNK = 8 * 1024 * 1024;
const WINDOW = 64;
const SPLIT_MASK = (1 << 20) - 1;

interface Tables {
  outHi: Int32Array;
  outLo: Int32Array;
  modHi: Int32Array;
  modLo: Int32Array;
  /** How far the high half is shifted to get the 8 bits above the degree. */
  hiShift: number;
}

const tableCache = new Map<bigint, Tables>();

function tablesFor(pol: bigint): Tables {
  const cached = tableCache.get(pol);
  if (cached) return cached;
  const k = degree(pol);
  if (k < 40 || k > 53) throw new RangeError(`chunker polynomial of degree ${k}: must be 40–53`);
  const t: Tables = { outHi: new Int32Array(256), outLo: new Int32Array(256), modHi: new Int32Array(256), modLo: new Int32Array(256), hiShift: k - 8 - 32 };
  for (let b = 0; b < 256; b++) {
    // The fingerprint of byte b followed by 63 zero bytes: XOR-ing it removes b from the window.
    let h = mod(BigInt(b), pol);
    for (let i = 0; i < WINDOW - 1; i++) h = mod(h << 8n, pol);
    t.outHi[b] = Number(h >> 32n);
    t.outLo[b] = Number(BigInt.asIntN(32, h));
    // The reduction of the 8 bits pushed above the degree, together with those bits themselves,
    // so that one XOR both clears them and adds their remainder.
    const m = mod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k));
    t.modHi[b] = Number(m >> 32n);
    t.modLo[b] = Number(BigInt.asIntN(32, m));
  }
  tableCache.set(pol, t);
  return t;
}

/** Finds chunk boundaries in a stream of buffers fed in order; one instance per file. */
export class Chunker {
  private readonly t: Tables;
  private readonly window = new Uint8Array(WINDOW);
  private wpos = 0;
  private hi = 0;
  private lo = 0;
  private count = 0;
  private pre = 0;

  constructor(polynomial: bigint) {
    this.t = tablesFor(polynomial);
    this.reset();
  }

  private reset(): void {
    this.window.fill(0);
    this.window[0] = 1;
    this.wpos = 1;
    // Sliding the byte 1 into an empty window: the out-table entry for 0 is 0, the mod entry for 0 is 0.
    this.hi = 0;
    this.lo = 1;
    this.count = 0;
    this.pre = MIN_CHUNK - WINDOW;
  }

  /**
   * Where in `buf` the current chunk ends (the index just after its last byte), or -1 when it goes
   * on past `buf`. After a boundary, call again with the rest of `buf`.
   */
  nextBoundary(buf: Uint8Array): number {
    let start = 0;
    if (this.pre > 0) {
      if (this.pre >= buf.length) {
        this.pre -= buf.length;
        this.count += buf.length;
        return -1;
      }
      start = this.pre;
      this.count += this.pre;
      this.pre = 0;
    }
    const { outHi, outLo, modHi, modLo, hiShift } = this.t;
    const win = this.window;
    let { hi, lo, wpos, count } = this;
    for (let i = start; i < buf.length; i++) {
      const b = buf[i];
      const out = win[wpos];
      win[wpos] = b;
      wpos = (wpos + 1) & (WINDOW - 1);
      hi ^= outHi[out];
      lo ^= outLo[out];
      const index = hi >>> hiShift;
      hi = ((hi << 8) | (lo >>> 24)) ^ modHi[index];
      lo = ((lo << 8) | b) ^ modLo[index];
      count++;
      if (((lo & SPLIT_MASK) === 0 || count >= MAX_CHUNK) && count >= MIN_CHUNK) {
        this.reset();
        return i + 1;
      }
    }
    this.hi = hi;
    this.lo = lo;
    this.wpos = wpos;
    this.count = count;
    return -1;
  }
}
