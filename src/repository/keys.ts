/**
 * Key files (`keys/<id>`): the master key sealed with a key derived from the password by scrypt,
 * with the scrypt parameters and salt beside it in plain JSON, as restic lays them out.
 */
import { createHash, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import os from 'node:os';
import type { RepositoryBackend } from './backend.ts';
import { filePath } from './backend.ts';
import { cryptoReady, keyFromDerived, keyFromJSON, keyToJSON, MacMismatch, open, seal, type CryptoKey } from './crypto.ts';
import { malformed, wrongPassword } from './errors.ts';

/** scrypt parameters for new keys: restic's defaults (32 MiB of memory, well under a second on a Pi 4). */
export const DEFAULT_SCRYPT = { N: 32768, r: 8, p: 1 };
/** The most memory a key file may make scrypt use: a hostile key file must not exhaust a Pi. */
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024;
/** Key files tried at most, so a repository stuffed with keys cannot keep us busy for hours. */
const MAX_KEYS_TRIED = 32;

interface KeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

// Every key in use comes through here (a new master key is sealed with a derived one before any
// other use), so waiting for the MAC's library here means seal and open always find it loaded.
// It is loaded after scrypt's 32 MiB are freed: both at once made a process's peak (measured, see
// docs/ARCHITECTURE.md), ~14 MB above that of the work that follows.
async function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<CryptoKey> {
  const memory = 128 * params.N * params.r * params.p + 1024 * 1024;
  const key = await new Promise<CryptoKey>((resolve, reject) => {
    scryptCallback(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem: memory }, (error, bytes) =>
      error ? reject(error) : resolve(keyFromDerived(bytes)),
    );
  });
  await cryptoReady();
  return key;
}

/** Writes a new key file sealing `master` with `password`; returns its id. */
export async function addKey(backend: RepositoryBackend, master: CryptoKey, password: string, params = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(64);
  const userKey = await derive(password, salt, params);
  const file: KeyFile = {
    created: new Date().toISOString(),
    username: os.userInfo().username,
    hostname: os.hostname(),
    kdf: 'scrypt',
    ...params,
    salt: salt.toString('base64'),
    data: seal(userKey, Buffer.from(JSON.stringify(keyToJSON(master)))).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file));
  const id = createHash('sha256').update(bytes).digest('hex');
  await backend.write(filePath('keys', id), bytes);
  return id;
}

/** The master key that `password` opens; throws REPOSITORY_WRONG_PASSWORD when no key file opens. */
export async function openMasterKey(backend: RepositoryBackend, password: string): Promise<{ key: CryptoKey; keyId: string }> {
  let tried = 0;
  for await (const entry of backend.list('keys')) {
    if (!/^[0-9a-f]{64}$/.test(entry.name) || tried++ >= MAX_KEYS_TRIED) continue;
    const path = filePath('keys', entry.name);
    const file = parseKeyFile(await backend.read(path), backend.where(path));
    const userKey = await derive(password, Buffer.from(file.salt, 'base64'), file);
    let plain: Buffer;
    try {
      plain = open(userKey, Buffer.from(file.data, 'base64'));
    } catch (error) {
      if (error instanceof MacMismatch) continue;
      throw error;
    }
    const key = keyFromJSON(parseJSON(plain, backend.where(path)));
    if (!key) throw malformed(backend.where(path), 'the master key has the wrong shape');
    return { key, keyId: entry.name };
  }
  throw wrongPassword(backend.where());
}

function parseKeyFile(bytes: Buffer, where: string): KeyFile {
  const file = parseJSON(bytes, where) as Partial<KeyFile>;
  if (file.kdf !== 'scrypt') throw malformed(where, `unknown key derivation ${JSON.stringify(file.kdf)}`);
  const { N, r, p } = file;
  const valid = (n: unknown) => Number.isSafeInteger(n) && (n as number) > 0;
  if (!valid(N) || !valid(r) || !valid(p) || (N! & (N! - 1)) !== 0 || typeof file.salt !== 'string' || typeof file.data !== 'string') {
    throw malformed(where, 'scrypt parameters, salt or data missing');
  }
  if (128 * N! * r! * p! > MAX_SCRYPT_MEMORY) throw malformed(where, `scrypt parameters need more than ${MAX_SCRYPT_MEMORY >> 20} MiB`);
  return file as KeyFile;
}

/** Parses JSON from a repository file, as a `REPOSITORY_MALFORMED` error when it is not JSON. */
export function parseJSON(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed(where, 'not JSON');
  }
}
