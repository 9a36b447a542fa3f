/**
 * Small S3 bodies gathered whole: a body in one chunk is sent as it is; one in many chunks is copied
 * into a buffer kept for the next body (no new buffer per file), never shared by two bodies at once.
 */
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BodyBuffers } from '../../../src/destinations/s3/body-buffers.ts';

const KIB = 1024;

/** `bytes` as a body arriving in pieces of `piece` bytes, as a file is read (64 KiB at a time). */
async function* chunks(bytes: Buffer, piece = 64 * KIB): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

test('a body in one chunk is that chunk, not a copy; an empty body is empty', async () => {
  const buffers = new BodyBuffers(1024 * KIB, 8);
  const file = randomBytes(40 * KIB);
  const whole = await buffers.gather((async function* () {
    yield file;
  })());
  assert.is(whole.content, file);
  whole.release();
  assert.is((await buffers.gather(chunks(Buffer.alloc(0)))).content.length, 0);
});

test('a body in many chunks is whole, and the next one is gathered into the same memory once it is given back', async () => {
  const buffers = new BodyBuffers(1024 * KIB, 8);
  const first = randomBytes(900 * KIB);
  const gathered = await buffers.gather(chunks(first));
  assert.ok(gathered.content.equals(first));
  const memory = gathered.content.buffer;
  gathered.release();
  gathered.release(); // twice: still given back once
  const second = randomBytes(300 * KIB);
  const next = await buffers.gather(chunks(second));
  assert.ok(next.content.equals(second));
  assert.is(next.content.buffer, memory, 'the kept buffer is used again');
  const atOnce = await buffers.gather(chunks(first));
  assert.is.not(atOnce.content.buffer, memory, 'a body gathered while another is held gets its own buffer');
  assert.ok(next.content.equals(second) && atOnce.content.equals(first));
});

test('no more buffers are kept than asked', async () => {
  const buffers = new BodyBuffers(256 * KIB, 2);
  const bodies = await Promise.all([1, 2, 3].map(() => buffers.gather(chunks(randomBytes(200 * KIB)))));
  const memories = bodies.map((body) => body.content.buffer);
  for (const body of bodies) body.release();
  const again = await Promise.all([1, 2, 3].map(() => buffers.gather(chunks(randomBytes(200 * KIB)))));
  assert.is(again.filter((body) => memories.includes(body.content.buffer)).length, 2);
});

test('a body longer than a kept buffer is gathered whole; one that fails half-way gives its buffer back', async () => {
  const buffers = new BodyBuffers(256 * KIB, 8);
  const long = randomBytes(700 * KIB);
  const gathered = await buffers.gather(chunks(long));
  assert.ok(gathered.content.equals(long));
  gathered.release();
  const kept = await buffers.gather(chunks(randomBytes(100 * KIB)));
  const memory = kept.content.buffer;
  kept.release();
  async function* failing() {
    yield* chunks(randomBytes(128 * KIB));
    throw Object.assign(new Error('read 128 of 200 bytes'), { code: 'ECHANGED' });
  }
  const failure = await buffers.gather(failing()).catch((error) => error);
  assert.is(failure.code, 'ECHANGED');
  assert.is((await buffers.gather(chunks(randomBytes(100 * KIB)))).content.buffer, memory);
});

test.run();
