/** Password hashing with scrypt from node:crypto. Stored form: `scrypt$N$r$p$salt$hash` (base64url). */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// N=2^15 costs ~60 ms on a Raspberry Pi 4 core: slow for guessing, quick enough for a login.
const COST = { N: 32768, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

/**
 * The last scrypt asked for, which the next one waits for. Each takes 32 MiB (128·N·r) while it
 * runs; Node's thread pool would run four at once, so a few clients logging in together (or one
 * client trying passwords from several connections) lifted the daemon's memory by 128 MiB.
 */
let previous: Promise<unknown> = Promise.resolve();

function scrypt(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  const key = previous.then(
    () => new Promise<Buffer>((resolve, reject) => scryptCallback(password, salt, length, options, (error, derived) => (error ? reject(error) : resolve(derived)))),
  );
  previous = key.catch(() => undefined);
  return key;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...COST, maxmem: MAX_MEMORY });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches the stored hash; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return timingSafeEqual(key, expected);
}

/**
 * A hash at today's cost of a random password nobody kept, compared against when the user does not
 * exist, so that timing gives nothing away. Written out rather than made at start: making it cost
 * every daemon start a scrypt (32 MiB, ~60 ms on a Pi) before anyone logged in.
 */
export const DUMMY_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$wxjQA-D8V4zHAIR0sQ8fGg$hcBDMjtkBXaEvQu8dUrDaJxRZPkDqlioo5IJssjHc0I`;
