/**
 * The sealed box-export file: a passphrase-encrypted envelope meant to be opened years from now with
 * any scrypt and AES-GCM implementation (docs/BOX-EXPORT.md shows one in Python). Format 1, UTF-8 text:
 *
 *   line 1  the header, one line of JSON: format, version, when, where, and the KDF and cipher parameters
 *   line 2  base64 (RFC 4648, with padding) of the ciphertext followed by the 16-byte GCM tag
 *
 * key = scrypt(passphrase as UTF-8, salt, N, r, p, 32 bytes); AES-256-GCM with the header's 12-byte
 * IV and line 1's exact bytes as additional data, so a changed header fails like a changed body.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import Joi from 'joi';
import { CairnError, invalid } from '../domain/errors.ts';

export const SEALED_FORMAT = 'cairn-box-export';
export const SEALED_VERSION = 1;

/**
 * scrypt's cost for new files: N = 2^17, r = 8, p = 1 takes 128 MiB and about a second on a Pi 4,
 * the parameters OWASP recommends for scrypt; each guess at a stolen file costs an attacker the same.
 */
export const SCRYPT_COST: ScryptCost = { n: 2 ** 17, r: 8, p: 1 };

/** scrypt's N (a power of two), r and p. */
export interface ScryptCost {
  n: number;
  r: number;
  p: number;
}

/**
 * What a file may ask of this box when opened: 256 MiB of scrypt memory at most (128·N·r), so a
 * crafted upload cannot make the daemon allocate gigabytes; every file Cairn writes is well inside.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** The first line of the file, in the clear. */
export interface SealedHeader {
  format: typeof SEALED_FORMAT;
  version: number;
  /** ISO-8601 UTC time the export was made. */
  created_at: string;
  /** Host name of the box it was made on, to tell exports apart. */
  box: string;
  /** The Cairn version that made it. */
  cairn_version: string;
  kdf: { name: 'scrypt'; n: number; r: number; p: number; salt: string; key_length: 32 };
  cipher: { name: 'aes-256-gcm'; iv: string; tag_length: 16 };
}

const base64 = Joi.string().base64({ paddingRequired: true });
const headerSchema = Joi.object({
  format: Joi.valid(SEALED_FORMAT).required(),
  version: Joi.valid(SEALED_VERSION).required(),
  created_at: Joi.string().isoDate().required(),
  box: Joi.string().allow('').max(255).required(),
  cairn_version: Joi.string().max(64).required(),
  kdf: Joi.object({
    name: Joi.valid('scrypt').required(),
    n: Joi.number().integer().min(2).required(),
    r: Joi.number().integer().min(1).max(64).required(),
    p: Joi.number().integer().min(1).max(16).required(),
    salt: base64.required(),
    key_length: Joi.valid(32).required(),
  }).required(),
  cipher: Joi.object({ name: Joi.valid('aes-256-gcm').required(), iv: base64.required(), tag_length: Joi.valid(16).required() }).required(),
}).unknown(true); // a later minor addition to the header must not make a version-1 reader refuse

/** Where the file came from, written into its header. */
export interface SealOrigin {
  box: string;
  cairnVersion: string;
  now?: Date;
}

/** Encrypts `plaintext` under `passphrase`; the whole file's text. */
export async function seal(plaintext: Buffer, passphrase: string, origin: SealOrigin, cost: ScryptCost = SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header: SealedHeader = {
    format: SEALED_FORMAT,
    version: SEALED_VERSION,
    created_at: (origin.now ?? new Date()).toISOString(),
    box: origin.box,
    cairn_version: origin.cairnVersion,
    kdf: { name: 'scrypt', n: cost.n, r: cost.r, p: cost.p, salt: salt.toString('base64'), key_length: 32 },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag_length: 16 },
  };
  const headerLine = JSON.stringify(header);
  const key = await deriveKey(passphrase, salt, cost);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(headerLine, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${headerLine}\n${body.toString('base64')}\n`;
}

/** The header of a sealed file, read without the passphrase; 400 EXPORT_UNREADABLE when it is not one. */
export function readHeader(text: string): SealedHeader {
  return parse(text).header;
}

/**
 * The plaintext of a sealed file. 400 EXPORT_UNREADABLE for a file that is not a box export (or of a
 * later format), 400 EXPORT_PASSPHRASE_WRONG when the passphrase does not open it (GCM cannot tell a
 * wrong passphrase from an altered file, so the message names both).
 */
export async function open(text: string, passphrase: string): Promise<Buffer> {
  const { header, headerLine, body } = parse(text);
  const { n, r, p } = header.kdf;
  const key = await deriveKey(passphrase, Buffer.from(header.kdf.salt, 'base64'), { n, r, p });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.cipher.iv, 'base64'));
  decipher.setAAD(Buffer.from(headerLine, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  } catch {
    throw invalid('EXPORT_PASSPHRASE_WRONG', 'The passphrase does not open this box export (or the file was altered since it was written)');
  }
}

function parse(text: string): { header: SealedHeader; headerLine: string; body: Buffer } {
  const unreadable = (why: string) => invalid('EXPORT_UNREADABLE', `This is not a Cairn box export Cairn can read: ${why}`);
  const [headerLine, bodyLine = '', ...rest] = text.split('\n');
  if (rest.some((line) => line.trim() !== '')) throw unreadable('it has more than two lines');
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerLine);
  } catch {
    throw unreadable('its first line is not the JSON header');
  }
  if ((parsed as SealedHeader | null)?.format !== SEALED_FORMAT) throw unreadable(`its header does not say "format": "${SEALED_FORMAT}"`);
  if (typeof (parsed as SealedHeader).version === 'number' && (parsed as SealedHeader).version > SEALED_VERSION) {
    throw unreadable(`it is format ${(parsed as SealedHeader).version}, written by a newer Cairn; this one reads format ${SEALED_VERSION}`);
  }
  const { error, value } = headerSchema.validate(parsed, { convert: false });
  if (error) throw unreadable(`header: ${error.details[0]?.message ?? 'invalid'}`);
  const header = value as SealedHeader;
  const { n, r } = header.kdf;
  if ((n & (n - 1)) !== 0 || 128 * n * r > MAX_SCRYPT_MEMORY) throw unreadable(`its scrypt parameters (N=${n}, r=${r}) are not a power of two or need more than 256 MiB`);
  if (Buffer.from(header.cipher.iv, 'base64').length !== 12) throw unreadable('its IV is not 12 bytes');
  const body = Buffer.from(bodyLine.trim(), 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bodyLine.trim()) || body.length <= 16) throw unreadable('its second line is not the base64 ciphertext');
  return { header, headerLine, body };
}

function deriveKey(passphrase: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { N: cost.n, r: cost.r, p: cost.p, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 }, (error, key) => {
      if (error) reject(new CairnError('internal', 'EXPORT_KDF_FAILED', `scrypt failed: ${error.message}`));
      else resolve(key);
    });
  });
}
