/**
 * Benchmark of the MAC's Poly1305 (src/repository/crypto.ts: libsodium's, WebAssembly) against
 * @noble/ciphers' (pure JavaScript), at message sizes of 1 KiB, 64 KiB, 1 MiB and 4 MiB, and the
 * cost of one call on a 16-byte message. Figures are CPU time of this process (user + system),
 * not wall time, so a loaded machine skews them less; the best of `--rounds` rounds is printed.
 *
 *   node --import tsx bench/poly1305.ts [--mib 64] [--rounds 5]
 * `--mib` is how much each implementation hashes per size and round (noble a quarter of it).
 */
import { randomBytes } from 'node:crypto';
import { poly1305 as noble } from '@noble/ciphers/_poly1305.js';
import { cryptoReady, poly1305 } from '../src/repository/crypto.ts';
import { numberOption } from './options.ts';

const MIB = numberOption('--mib', 64);
const ROUNDS = numberOption('--rounds', 5);

await cryptoReady();

const candidates: Array<{ name: string; tag: (key: Uint8Array, message: Uint8Array) => Uint8Array; share: number }> = [
  { name: 'libsodium (crypto.ts)', tag: (key, message) => poly1305(key, message), share: 1 },
  { name: '@noble/ciphers', tag: (key, message) => noble(message, key), share: 0.25 },
];

/** CPU seconds that `run` takes. */
function cpuSeconds(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

const key = randomBytes(32);
// They must agree before their speeds mean anything.
for (const length of [0, 1, 17, 1 << 20, (1 << 20) + 1]) {
  const message = randomBytes(length);
  const tags = new Set(candidates.map(({ tag }) => Buffer.from(tag(key, message)).toString('hex')));
  if (tags.size !== 1) throw new Error(`the implementations disagree at ${length} bytes`);
}

const sizes: Array<[bytes: number, label: string]> = [
  [1024, '1 KiB'],
  [64 * 1024, '64 KiB'],
  [1024 * 1024, '1 MiB'],
  [4 * 1024 * 1024, '4 MiB'],
];
const best = new Map<string, Map<string, number>>(candidates.map(({ name }) => [name, new Map()]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [bytes, label] of sizes) {
    const message = randomBytes(bytes);
    for (const { name, tag, share } of candidates) {
      const calls = Math.max(1, Math.floor((MIB * share * 1024 * 1024) / bytes));
      tag(key, message);
      const seconds = cpuSeconds(() => {
        for (let i = 0; i < calls; i++) tag(key, message);
      });
      const rate = (calls * bytes) / 1e6 / seconds;
      const row = best.get(name)!;
      row.set(label, Math.max(row.get(label) ?? 0, rate));
    }
  }
}

console.log(`Poly1305, MB/s of CPU time (best of ${ROUNDS} rounds; Node ${process.version}, ${process.arch})`);
console.table(Object.fromEntries([...best].map(([name, row]) => [name, Object.fromEntries([...row].map(([label, rate]) => [label, Math.round(rate)]))])));

const small = new Uint8Array(16);
for (const { name, tag } of candidates) {
  const calls = 100_000;
  for (let i = 0; i < 1000; i++) tag(key, small);
  const seconds = cpuSeconds(() => {
    for (let i = 0; i < calls; i++) tag(key, small);
  });
  console.log(`${name}: ${((seconds * 1e9) / calls).toFixed(0)} ns of CPU per call on 16 bytes`);
}
