/**
 * zstd for repository format version 2: Node's own (`node:zlib`, Node ≥ 22.15 / 23.8, so the
 * single binary's Node 24) where the runtime has it, else zstd compiled to WebAssembly
 * (`@bokuweb/zstd-wasm`: no native addon, so it runs on x64 and arm64 alike). Both make single
 * frames with the content size in the header, which restic (and either of them) reads back.
 *
 * `loadZstd` must have resolved before `compress`/`decompress` are called (they are synchronous,
 * for the blob paths); it answers null when neither is available, and the engine then keeps to
 * format version 1 and calls compressed data REPOSITORY_UNSUPPORTED.
 */
import zlib from 'node:zlib';

/** restic's `auto` compression is zstd's default level, 3. */
export const LEVEL = 3;
/** The most a frame without its size is let to grow to when decoded (an index file is < 8 MiB). */
const MAX_UNSIZED = 256 * 1024 * 1024;

/** One zstd implementation, synchronous once loaded. */
export interface Zstd {
  /** `native` (node:zlib) or `wasm`, for the logs and the benchmark. */
  readonly kind: 'native' | 'wasm';
  compress(data: Uint8Array): Uint8Array;
  /**
   * The frame's content. `size` is the exact size expected (a blob's uncompressed length); without
   * it the frame's header says (and the decoder stops at MAX_UNSIZED). Throws on a bad frame.
   */
  decompress(frame: Uint8Array, size?: number): Uint8Array;
}

let loaded: Promise<Zstd | null> | null = null;

/** The zstd this runtime offers (loaded once, then shared), or null when there is none. */
export function loadZstd(): Promise<Zstd | null> {
  loaded ??= load();
  return loaded;
}

/** The zstd `loadZstd` resolved to, or null before that or when there is none. */
export let zstd: Zstd | null = null;

async function load(): Promise<Zstd | null> {
  zstd = nativeZstd() ?? (await wasmZstd());
  return zstd;
}

interface NativeZlib {
  zstdCompressSync(data: Uint8Array, options: object): Buffer;
  zstdDecompressSync(data: Uint8Array, options: object): Buffer;
  constants: Record<string, number>;
}

function nativeZstd(): Zstd | null {
  const z = zlib as unknown as Partial<NativeZlib>;
  if (process.env.CAIRN_ZSTD === 'wasm' || typeof z.zstdCompressSync !== 'function' || typeof z.zstdDecompressSync !== 'function') return null;
  const native = z as NativeZlib;
  const params = { [native.constants.ZSTD_c_compressionLevel]: LEVEL };
  return {
    kind: 'native',
    compress: (data) => native.zstdCompressSync(data, { params, pledgedSrcSize: data.length }),
    decompress: (frame, size) => native.zstdDecompressSync(frame, { maxOutputLength: size ?? MAX_UNSIZED }),
  };
}

async function wasmZstd(): Promise<Zstd | null> {
  let wasm: typeof import('@bokuweb/zstd-wasm');
  try {
    wasm = await import('@bokuweb/zstd-wasm');
    await wasm.init();
  } catch {
    return null;
  }
  return {
    kind: 'wasm',
    compress: (data) => wasm.compress(data, LEVEL),
    // The library allocates the frame's content size, or `defaultHeapSize` when the frame has none.
    decompress: (frame, size) => wasm.decompress(frame, { defaultHeapSize: size ?? Math.min(MAX_UNSIZED, Math.max(1 << 20, frame.length * 32)) }),
  };
}
