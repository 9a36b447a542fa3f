/**
 * restic's authenticated encryption (doc/design.rst, "Keys, Encryption and MAC"): every stored
 * piece is IV (16 bytes) ‖ AES-256-CTR ciphertext ‖ Poly1305-AES MAC (16 bytes) over the ciphertext.
 * The MAC's one-time key is r (clamped) and AES-128(k, IV). The MAC is checked before anything is
 * decrypted, so a changed byte is an error and never plaintext.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type Sodium from 'libsodium-wrappers-sumo';

export const IV_SIZE = 16;
export const MAC_SIZE = 16;
/** Bytes that sealing adds to a plaintext. */
export const SEAL_OVERHEAD = IV_SIZE + MAC_SIZE;

/** The master key (or a password-derived key): 32 bytes for AES-256-CTR, 16 + 16 for Poly1305-AES. */
export interface CryptoKey {
  encrypt: Buffer;
  macK: Buffer;
  macR: Buffer;
}

/** Thrown by `open` when the MAC does not match; callers turn it into an error naming the file. */
export class MacMismatch extends Error {
  constructor() {
    super('ciphertext verification failed');
  }
}

// restic keeps r masked as Poly1305 requires; the MAC library clamps too, masking here keeps the
// stored key identical to what restic writes.
const R_MASK = Buffer.from([0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f]);

/** A fresh random key. */
export function newKey(): CryptoKey {
  const bytes = randomBytes(64);
  return { encrypt: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: maskR(bytes.subarray(48, 64)) };
}

/** The key derived from scrypt's 64 output bytes: encryption key, then MAC k, then MAC r. */
export function keyFromDerived(bytes: Buffer): CryptoKey {
  return { encrypt: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: maskR(bytes.subarray(48, 64)) };
}

function maskR(r: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = r[i] & R_MASK[i];
  return out;
}

// ECB keeps no state between blocks, so one cipher per MAC key serves every message (creating one
// per blob showed in profiles).
const ecbCiphers = new WeakMap<Buffer, ReturnType<typeof createCipheriv>>();

function aes128(key: Buffer, block: Buffer): Buffer {
  let ecb = ecbCiphers.get(key);
  if (!ecb) {
    ecb = createCipheriv('aes-128-ecb', key, null);
    ecb.setAutoPadding(false);
    ecbCiphers.set(key, ecb);
  }
  return ecb.update(block);
}

// Node 24 makes a cipher from a raw key ~3× slower than from a KeyObject (a Buffer key goes through a
// KeyObject check that fails first): with a cipher per blob it was a fifth of a backup's CPU.
const ctrKeys = new WeakMap<Buffer, KeyObject>();

function ctrKey(key: CryptoKey): KeyObject {
  let object = ctrKeys.get(key.encrypt);
  if (!object) {
    object = createSecretKey(key.encrypt);
    ctrKeys.set(key.encrypt, object);
  }
  return object;
}

// IVs come from a pool refilled a few kilobytes at a time: one call to the system's generator per
// blob showed in profiles. Every IV is still fresh random bytes, used once.
let ivPool = Buffer.alloc(0);
let ivUsed = 0;

function randomIv(): Buffer {
  if (ivUsed + IV_SIZE > ivPool.length) {
    ivPool = randomBytes(4096);
    ivUsed = 0;
  }
  ivUsed += IV_SIZE;
  return ivPool.subarray(ivUsed - IV_SIZE, ivUsed);
}

/**
 * Large messages go through the cipher in pieces: Node's cipher returns new buffers, so whole
 * 8 MiB chunks left megabytes of garbage per blob.
 */
const PIECE = 64 * 1024;

// Poly1305 comes from libsodium compiled to WebAssembly (libsodium-wrappers-sumo: the plain build
// leaves crypto_onetimeauth out). Node's crypto has no bare Poly1305, and the pure-JS ones run at
// ~150–400 MB/s, which made the MAC the largest CPU cost of a backup; libsodium runs at ~2 GB/s
// here (figures in docs/ARCHITECTURE.md). It is loaded on first need, not at import: loading it
// costs ~13 MB resident, and the daemon's main thread imports this module but never seals.
let sodium: typeof Sodium | null = null;
let loading: Promise<void> | null = null;

/**
 * Loads the MAC's library (once) and resolves when it is ready. `seal`, `sealInto`, `open` and
 * `poly1305` throw before that; opening or creating a key (keys.ts) awaits it, so every key in
 * use finds it loaded.
 */
export function cryptoReady(): Promise<void> {
  loading ??= import('libsodium-wrappers-sumo').then(async ({ default: library }) => {
    await library.ready;
    sodium = library;
  });
  return loading;
}

/**
 * Messages are fed to libsodium a window at a time: it copies each argument into its WebAssembly
 * heap, which never shrinks, so whole 8 MiB blobs would leave it that large.
 */
const MAC_WINDOW = 1024 * 1024;

/**
 * The Poly1305 tag (RFC 8439 §2.5) of `message` under the one-time key `key` (32 bytes: r, which
 * libsodium clamps, then s). Throws before `cryptoReady()` has resolved.
 */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  if (!sodium) throw new Error('the MAC library is not loaded yet: await cryptoReady() first');
  if (key.length !== 32) throw new RangeError('a Poly1305 key is 32 bytes');
  const state = sodium.crypto_onetimeauth_init(key);
  for (let at = 0; at < message.length; at += MAC_WINDOW) sodium.crypto_onetimeauth_update(state, message.subarray(at, at + MAC_WINDOW));
  const tag = sodium.crypto_onetimeauth_final(state);
  return Buffer.from(tag.buffer, tag.byteOffset, tag.length);
}

function mac(key: CryptoKey, iv: Buffer, ciphertext: Uint8Array): Buffer {
  return poly1305(Buffer.concat([key.macR, aes128(key.macK, iv)]), ciphertext);
}

/** Encrypts `plaintext` with a fresh random IV: IV ‖ ciphertext ‖ MAC. */
export function seal(key: CryptoKey, plaintext: Uint8Array): Buffer {
  return sealInto(key, plaintext, Buffer.allocUnsafe(plaintext.length + SEAL_OVERHEAD));
}

/** Like `seal`, written into `out` (exactly `plaintext.length + SEAL_OVERHEAD` bytes), which it returns. */
export function sealInto(key: CryptoKey, plaintext: Uint8Array, out: Buffer): Buffer {
  let at = 0;
  sealTo(key, plaintext, (piece) => {
    out.set(piece, at);
    at += piece.length;
  });
  return out;
}

/**
 * Like `seal`, handing the sealed bytes to `write` a piece at a time (IV, ciphertext in 64 KiB
 * pieces, MAC) instead of into one buffer: a pack written to a file as it fills needs no buffer the
 * size of its largest blob. Each piece is valid only during its call.
 */
export function sealTo(key: CryptoKey, plaintext: Uint8Array, write: (piece: Uint8Array) => void): void {
  if (!sodium) throw new Error('the MAC library is not loaded yet: await cryptoReady() first');
  const iv = randomIv();
  write(iv);
  const state = sodium.crypto_onetimeauth_init(Buffer.concat([key.macR, aes128(key.macK, iv)]));
  const cipher = createCipheriv('aes-256-ctr', ctrKey(key), iv);
  for (let at = 0; at < plaintext.length; at += PIECE) {
    const piece = cipher.update(plaintext.subarray(at, at + PIECE));
    sodium.crypto_onetimeauth_update(state, piece);
    write(piece);
  }
  cipher.final();
  write(sodium.crypto_onetimeauth_final(state));
}

/** Checks the MAC of `sealed` and returns its plaintext; throws `MacMismatch` when it does not match. */
export function open(key: CryptoKey, sealed: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new MacMismatch();
  const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const iv = buffer.subarray(0, IV_SIZE);
  const ciphertext = buffer.subarray(IV_SIZE, buffer.length - MAC_SIZE);
  const expected = buffer.subarray(buffer.length - MAC_SIZE);
  if (!timingSafeEqual(mac(key, iv, ciphertext), expected)) throw new MacMismatch();
  // Whole, not in pieces: the plaintext is kept anyway, and the cipher's answer is it, with no copy
  // (copying 64 KiB pieces into a buffer of its own was 7% of a restore's CPU).
  const decipher = createDecipheriv('aes-256-ctr', ctrKey(key), iv);
  const plain = decipher.update(ciphertext);
  decipher.final();
  return plain;
}

/**
 * Checks the MAC of `sealed` and returns the SHA-256 of its plaintext, deciphered a piece at a time
 * and never held whole: a copy of a sealed blob (prune's) needs it checked, not opened, and a
 * plaintext buffer per blob waited as megabytes of garbage for V8's collector. Throws `MacMismatch`.
 */
export function sealedPlaintextHash(key: CryptoKey, sealed: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new MacMismatch();
  const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const iv = buffer.subarray(0, IV_SIZE);
  const ciphertext = buffer.subarray(IV_SIZE, buffer.length - MAC_SIZE);
  if (!timingSafeEqual(mac(key, iv, ciphertext), buffer.subarray(buffer.length - MAC_SIZE))) throw new MacMismatch();
  const decipher = createDecipheriv('aes-256-ctr', ctrKey(key), iv);
  const hash = createHash('sha256');
  for (let at = 0; at < ciphertext.length; at += PIECE) hash.update(decipher.update(ciphertext.subarray(at, at + PIECE)));
  decipher.final();
  return hash.digest();
}

/** The master key as restic stores it inside a key file: {"mac":{"k","r"},"encrypt"} in base64. */
export function keyToJSON(key: CryptoKey): object {
  return { mac: { k: key.macK.toString('base64'), r: key.macR.toString('base64') }, encrypt: key.encrypt.toString('base64') };
}

/** Parses `keyToJSON`'s shape; returns null when a field is missing or has the wrong length. */
export function keyFromJSON(value: unknown): CryptoKey | null {
  const v = value as { mac?: { k?: unknown; r?: unknown }; encrypt?: unknown } | null;
  if (typeof v?.encrypt !== 'string' || typeof v.mac?.k !== 'string' || typeof v.mac.r !== 'string') return null;
  const key = { encrypt: Buffer.from(v.encrypt, 'base64'), macK: Buffer.from(v.mac.k, 'base64'), macR: Buffer.from(v.mac.r, 'base64') };
  if (key.encrypt.length !== 32 || key.macK.length !== 16 || key.macR.length !== 16) return null;
  return key;
}
