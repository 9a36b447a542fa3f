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
    // The library allocates the size the frame's header declares, or `defaultHeapSize` when it declares none:
    // a declared size beyond the most allowed is refused before it can ask for gigabytes.
    decompress: (frame, size) => {
      const declared = declaredContentSize(frame);
      if (declared !== null && declared > (size ?? MAX_UNSIZED)) throw new Error(`zstd frame declares ${declared} bytes, more than the ${size ?? MAX_UNSIZED} expected`);
      return wasm.decompress(frame, { defaultHeapSize: size ?? Math.min(MAX_UNSIZED, Math.max(1 << 20, frame.length * 32)) });
    },
  };
}

const FRAME_MAGIC = 0xfd2fb528;

/**
 * The content size a zstd frame's header declares (RFC 8878, 3.1.1.1), or null when the header has
 * none or is not a frame's (the decoder then says what is wrong).
 */
export function declaredContentSize(frame: Uint8Array): number | null {
  if (frame.length < 5 || new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true) !== FRAME_MAGIC) return null;
  const descriptor = frame[4];
  const singleSegment = (descriptor >> 5) & 1;
  const sizeField = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
  if (sizeField === 0 || frame.length < at + sizeField) return null;
  let value = 0;
  for (let i = sizeField - 1; i >= 0; i--) value = value * 256 + frame[at + i];
  return sizeField === 2 ? value + 256 : value;
}
