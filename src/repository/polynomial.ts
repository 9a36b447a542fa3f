/**
 * Polynomials over GF(2) for the chunker: a repository's `chunker_polynomial` is a random
 * irreducible polynomial of degree 53, kept in the config as hex. Bit i is the coefficient of x^i.
 */
import { randomBytes } from 'node:crypto';

/** The polynomial's degree (-1 for zero). */
export function degree(p: bigint): number {
  return p === 0n ? -1 : p.toString(2).length - 1;
}

/** `x` modulo `d`. */
export function mod(x: bigint, d: bigint): bigint {
  const dd = degree(d);
  for (let dx = degree(x); dx >= dd; dx = degree(x)) x ^= d << BigInt(dx - dd);
  return x;
}

function mulMod(a: bigint, b: bigint, m: bigint): bigint {
  let product = 0n;
  for (; b > 0n; b >>= 1n, a <<= 1n) if (b & 1n) product ^= a;
  return mod(product, m);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, mod(a, b)];
  return a;
}

/**
 * Whether `f` has no factor of lower degree (Ben-Or's test: gcd(f, x^(2^i) − x) = 1 for every
 * i ≤ deg/2), so the fingerprints it gives are spread evenly.
 */
export function isIrreducible(f: bigint): boolean {
  const n = degree(f);
  if (n < 1) return false;
  let power = 2n; // x
  for (let i = 1; i <= n / 2; i++) {
    power = mulMod(power, power, f); // x^(2^i) mod f
    if (gcd(f, power ^ 2n) !== 1n) return false;
  }
  return true;
}

/** A random irreducible polynomial of degree 53, as new repositories get. */
export function randomPolynomial(): bigint {
  for (;;) {
    const bytes = randomBytes(8);
    let p = bytes.readBigUInt64LE(0) & ((1n << 54n) - 1n);
    p |= (1n << 53n) | 1n;
    if (isIrreducible(p)) return p;
  }
}
