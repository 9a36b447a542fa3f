/**
 * The MAC's Poly1305 (libsodium's, fed to it in 1 MiB windows by crypto.ts) against RFC 8439's
 * vectors (the edge cases of the final reduction among them) and against @noble/ciphers' Poly1305
 * on random keys and messages of every length class: empty, partial blocks, whole blocks, and
 * around the 1 MiB window.
 */
import { randomBytes } from 'node:crypto';
import { poly1305 as reference } from '@noble/ciphers/_poly1305.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cryptoReady, poly1305 } from '../../../src/repository/crypto.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const repeat = (byte: string, times: number) => byte.repeat(times);

// Before its library has loaded, the MAC refuses: never a tag computed by something else.
const early = (() => {
  try {
    return poly1305(Buffer.alloc(32), Buffer.alloc(16)).toString('hex');
  } catch (error) {
    return error as Error;
  }
})();

test.before(() => cryptoReady());

test('the MAC throws until its library has loaded, then works', () => {
  assert.instance(early, Error);
  assert.match((early as Error).message, /cryptoReady/);
  assert.is(poly1305(Buffer.alloc(32), Buffer.alloc(16)).toString('hex'), '00'.repeat(16));
  assert.throws(() => poly1305(Buffer.alloc(31), Buffer.alloc(16)), /32 bytes/);
});

test('RFC 8439 §2.5.2 and the Appendix A.3 edge cases give their published tags', () => {
  const cases: Array<[key: string, message: Buffer, tag: string]> = [
    ['85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', Buffer.from('Cryptographic Forum Research Group'), 'a8061dc1305136c6c22b8baf0c0127a9'],
    [repeat('00', 32), Buffer.alloc(64), repeat('00', 16)],
    // #5: h reaches exactly 2^130 − 5 + 3 → 3.
    [`02${repeat('00', 31)}`, hex(repeat('ff', 16)), `03${repeat('00', 15)}`],
    // #6: s wraps past 2^128.
    [`02${repeat('00', 15)}${repeat('ff', 16)}`, hex(`02${repeat('00', 15)}`), `03${repeat('00', 15)}`],
    // #7, #8: carries through every limb.
    [`01${repeat('00', 31)}`, hex(`${repeat('ff', 16)}f0${repeat('ff', 15)}11${repeat('00', 15)}`), `05${repeat('00', 15)}`],
    [`01${repeat('00', 31)}`, hex(`${repeat('ff', 16)}fb${repeat('fe', 15)}${repeat('01', 16)}`), repeat('00', 16)],
    // #9: h = 2^130 − 6 stays below p.
    [`02${repeat('00', 31)}`, hex(`fd${repeat('ff', 15)}`), `fa${repeat('ff', 15)}`],
  ];
  for (const [key, message, tag] of cases) {
    assert.is(poly1305(hex(key), message).toString('hex'), tag, `key ${key}`);
    // The reference agrees, so the vectors are copied right.
    assert.is(Buffer.from(reference(message, hex(key))).toString('hex'), tag);
  }
});

test('agrees with the reference on random keys and messages of every length class', () => {
  const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 1000, 65536, 1048560, 1048575, 1048576, 1048577, 1048592, 2 * 1048576 + 5, 8 * 1024 * 1024 + 32];
  for (let i = 0; i < 40; i++) lengths.push(Math.floor(Math.random() * 100_000));
  for (const length of lengths) {
    const key = randomBytes(32);
    for (const message of [randomBytes(length), Buffer.alloc(length, 0xff)]) {
      assert.is(poly1305(key, message).toString('hex'), Buffer.from(reference(message, key)).toString('hex'), `length ${length}`);
    }
  }
  // A key of all ones (the clamping masks matter) and a view into a larger buffer (offsets matter).
  const big = randomBytes(5000);
  const view = big.subarray(7, 4001);
  const ones = Buffer.alloc(32, 0xff);
  assert.is(poly1305(ones, view).toString('hex'), Buffer.from(reference(Uint8Array.from(view), ones)).toString('hex'));
  assert.is(poly1305(big.subarray(3, 35), view).toString('hex'), Buffer.from(reference(Uint8Array.from(view), Uint8Array.from(big.subarray(3, 35)))).toString('hex'));
});

test.run();
