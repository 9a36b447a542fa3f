import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { open, readHeader, seal, SCRYPT_COST } from '../../../src/box-export/index.ts';
import { isCairnError } from '../../../src/domain/errors.ts';
import { REPO_ROOT, tempDir } from '../../helpers.ts';

const sealed = suite('sealed box-export file');
const origin = { box: 'pi-kitchen', cairnVersion: '1.2.3', now: new Date('2026-12-05T17:00:00Z') };
/** Cheap parameters where the test is about the format, not the cost. */
const CHEAP = { n: 2 ** 14, r: 8, p: 1 };
const PASSPHRASE = 'correct horse battery staple';

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isCairnError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

sealed('a sealed file opens with its passphrase and says in the clear what it is and how it was sealed', async () => {
  const text = await seal(Buffer.from('{"hello":"box"}'), PASSPHRASE, origin);
  const lines = text.split('\n');
  assert.is(lines.length, 3, 'two lines and a final newline');
  const header = readHeader(text);
  assert.is(header.format, 'cairn-box-export');
  assert.is(header.version, 1);
  assert.is(header.box, 'pi-kitchen');
  assert.is(header.created_at, '2026-12-05T17:00:00.000Z');
  assert.equal({ n: header.kdf.n, r: header.kdf.r, p: header.kdf.p }, { ...SCRYPT_COST });
  assert.ok(header.kdf.n >= 2 ** 17, 'strong scrypt parameters for new files');
  assert.is(Buffer.from(header.kdf.salt, 'base64').length, 16);
  assert.is((await open(text, PASSPHRASE)).toString(), '{"hello":"box"}');
});

sealed('a wrong passphrase is refused with a clear code, and so is a file whose header or body was changed', async () => {
  const text = await seal(Buffer.from('secret state'), PASSPHRASE, origin, CHEAP);
  assert.is((await refusal(open(text, 'not the passphrase'))).code, 'EXPORT_PASSPHRASE_WRONG');
  // The header is authenticated: renaming the box in it breaks the seal.
  assert.is((await refusal(open(text.replace('pi-kitchen', 'pi-garage!'), PASSPHRASE))).code, 'EXPORT_PASSPHRASE_WRONG');
  const [header, body] = text.split('\n');
  const flipped = Buffer.from(body, 'base64');
  flipped[0] ^= 1;
  assert.is((await refusal(open(`${header}\n${flipped.toString('base64')}\n`, PASSPHRASE))).code, 'EXPORT_PASSPHRASE_WRONG');
});

sealed('what is not an export, a later format, or a file asking for gigabytes of scrypt memory is refused before any key is made', async () => {
  const text = await seal(Buffer.from('x'), PASSPHRASE, origin, CHEAP);
  const header = JSON.parse(text.split('\n')[0]);
  const body = text.split('\n')[1];
  const withHeader = (change: Record<string, unknown>) => `${JSON.stringify({ ...header, ...change })}\n${body}\n`;
  for (const [file, expected] of [
    ['just some text', /first line is not the JSON header/],
    [withHeader({ format: 'zip' }), /"format": "cairn-box-export"/],
    [withHeader({ version: 2 }), /format 2, written by a newer Cairn/],
    [withHeader({ kdf: { ...header.kdf, n: 2 ** 30 } }), /more than 256 MiB/],
    [`${text.split('\n')[0]}\n!!not base64!!\n`, /base64 ciphertext/],
  ] as const) {
    const refused = await refusal(open(file, PASSPHRASE));
    assert.is(refused.code, 'EXPORT_UNREADABLE', String(file).slice(0, 40));
    assert.match(refused.message, expected);
  }
});

sealed('the file opens without Cairn: the Python recipe of docs/BOX-EXPORT.md reads it, and refuses a wrong passphrase', async () => {
  const file = path.join(tempDir(), 'box.cairn-box-export');
  // A passphrase outside ASCII, in decomposed form: both sides normalise it to NFC first.
  writeFileSync(file, await seal(Buffer.from('{"jobs":["Fotos"]}'), 'Grüße aus der Küche'.normalize('NFD'), origin));
  const script = path.join(REPO_ROOT, 'docs', 'open-box-export.py');
  const opened = await runPython(script, file, 'Grüße aus der Küche\n');
  assert.is(opened.code, 0, opened.stderr);
  assert.is(opened.stdout, '{"jobs":["Fotos"]}');
  const wrong = await runPython(script, file, 'Grüsse aus der Küche\n');
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /wrong passphrase/);
});

async function runPython(script: string, file: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('python3', [script, file], (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin!.end(input);
  });
}

sealed.run();
