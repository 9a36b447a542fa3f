/** SharedRead: one read per burst, answers reused for a while, never reused across a change. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedRead } from '../../../src/devices/index.ts';

/** A read the test finishes by hand, counting how often it started. */
function controlledRead() {
  const pending: Array<{ resolve(value: number): void; reject(error: Error): void }> = [];
  let started = 0;
  return {
    read: () =>
      new Promise<number>((resolve, reject) => {
        started += 1;
        pending.push({ resolve, reject });
      }),
    get started() {
      return started;
    },
    finish(value: number) {
      pending.shift()!.resolve(value);
    },
    fail(message: string) {
      pending.shift()!.reject(new Error(message));
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('callers during a read share it: 100 callers, one read, one answer', async () => {
  const source = controlledRead();
  const shared = new SharedRead(source.read, 1000);
  const answers = Promise.all(Array.from({ length: 100 }, () => shared.get()));
  await tick();
  assert.is(source.started, 1);
  source.finish(7);
  assert.equal(new Set(await answers), new Set([7]));
});

test('an answer is reused until it is maxAgeMs old, then read again', async () => {
  let clock = 0;
  const source = controlledRead();
  const shared = new SharedRead(source.read, 1000, () => clock);
  const first = shared.get();
  await tick();
  source.finish(1);
  assert.is(await first, 1);
  clock = 999;
  assert.is(await shared.get(), 1);
  assert.is(source.started, 1);
  clock = 1000;
  const second = shared.get();
  await tick();
  assert.is(source.started, 2);
  source.finish(2);
  assert.is(await second, 2);
});

test('after invalidate the next caller gets a new read, even while an older read runs', async () => {
  const source = controlledRead();
  const shared = new SharedRead(source.read, 60_000);
  const before = shared.get();
  await tick();
  shared.invalidate();
  const after = shared.get();
  await tick();
  assert.is(source.started, 2, 'the read that began before the change is not shared with later callers');
  source.finish(1);
  source.finish(2);
  assert.is(await before, 1);
  assert.is(await after, 2);
  assert.is(await shared.get(), 2, 'the older read did not overwrite the newer answer');
  assert.is(source.started, 2);
});

test('invalidate drops a kept answer', async () => {
  const source = controlledRead();
  const shared = new SharedRead(source.read, 60_000);
  const first = shared.get();
  await tick();
  source.finish(1);
  await first;
  shared.invalidate();
  const second = shared.get();
  await tick();
  assert.is(source.started, 2);
  source.finish(2);
  assert.is(await second, 2);
});

test('a failed read reaches every caller sharing it and is not kept', async () => {
  const source = controlledRead();
  const shared = new SharedRead(source.read, 60_000);
  const answers = Promise.allSettled([shared.get(), shared.get()]);
  await tick();
  source.fail('lsblk died');
  const settled = await answers;
  assert.equal(settled.map((result) => result.status), ['rejected', 'rejected']);
  assert.match(String((settled[0] as PromiseRejectedResult).reason), /lsblk died/);
  const retry = shared.get();
  await tick();
  assert.is(source.started, 2);
  source.finish(3);
  assert.is(await retry, 3);
});

test.run();
