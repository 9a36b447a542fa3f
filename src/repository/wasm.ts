/**
 * A minimal WebAssembly encoder: just what the chunker's rolling hash needs, so its module is
 * assembled from readable instructions at load time and no binary is carried. One function per
 * module, one memory, both exported.
 */

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

/** Signed LEB128 (for constants up to 32 bits: larger i64 constants are built by the caller). */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};

export const I32 = 0x7f;
export const I64 = 0x7e;

/** Instructions, each as its bytes (memory accesses take their byte offset immediate). */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i64: (n: number) => [0x42, ...sleb(n)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32load8: (offset: number) => [0x2d, 0, ...uleb(offset)],
  i32store8: (offset: number) => [0x3a, 0, ...uleb(offset)],
  i64load: (offset: number) => [0x29, 0, ...uleb(offset)],
  i64store: (offset: number) => [0x37, 0, ...uleb(offset)],
  i32load: (offset: number) => [0x28, 0, ...uleb(offset)],
  i32store: (offset: number) => [0x36, 0, ...uleb(offset)],
  /** i64.load32_u. */
  load32: (offset: number) => [0x35, 0, ...uleb(offset)],
  /** i64.store32. */
  store32: (offset: number) => [0x3e, 0, ...uleb(offset)],
  add: [0x7c],
  mul: [0x7e],
  and: [0x83],
  or: [0x84],
  xor: [0x85],
  shl: [0x86],
  shr: [0x88],
  eqz: [0x50],
  i32add: [0x6a],
  i32sub: [0x6b],
  i32and: [0x71],
  i32shl: [0x74],
  i32geu: [0x4f],
  i32ltu: [0x49],
  i32eqz: [0x45],
  extendU: [0xad],
  wrap: [0xa7],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  ret: [0x0f],
  end: [0x0b],
};

/** Concatenates instruction bytes. */
export function code(...parts: number[][]): number[] {
  const out: number[] = [];
  for (const part of parts) for (const byte of part) out.push(byte);
  return out;
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (text: string) => [...uleb(text.length), ...Buffer.from(text)];

/** What `instantiate` builds: the function `name` of `params` → `result` with `locals` and `body`, and `pages` of memory. */
export interface FunctionSpec {
  name: string;
  params: number[];
  result: number[];
  /** Extra locals as [count, type] runs. */
  locals: Array<[number, number]>;
  body: number[];
  pages: number;
}

/** Assembles and instantiates a one-function module; returns the function and the memory. */
export function instantiate<F>(spec: FunctionSpec): { fn: F; memory: WebAssembly.Memory } {
  const localRuns = vector(spec.locals.map(([count, type]) => [...uleb(count), type]));
  const fnBody = [...localRuns, ...spec.body, ...op.end];
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector(spec.params.map((t) => [t])), ...vector(spec.result.map((t) => [t]))]])),
    ...section(3, vector([[0]])),
    ...section(5, vector([[0x00, ...uleb(spec.pages)]])),
    ...section(7, vector([[...name(spec.name), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vector([[...uleb(fnBody.length), ...fnBody]])),
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return { fn: instance.exports[spec.name] as F, memory: instance.exports.memory as WebAssembly.Memory };
}
