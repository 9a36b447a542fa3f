/**
 * The wrappers every destination gets from the registry: retries on retryable failures (each attempt
 * in the run log, a cancel ends the waiting at once) and secrets masked in run-log lines and errors.
 * They wrap the real local destination, made to fail the way a flaky drive or server would.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { localDestination, type LocalConfig } from '../../../src/destinations/local/index.ts';
import { redacting } from '../../../src/destinations/redaction.ts';
import { retrying } from '../../../src/destinations/retry.ts';
import type { Destination, SyncContext } from '../../../src/destinations/types.ts';
import { CairnError } from '../../../src/domain/errors.ts';
import type { LogLevel } from '../../../src/domain/runs.ts';
import { tempDir } from '../../helpers.ts';

/** The local destination, failing its first `failures` syncs with `error` before doing any work. */
function flaky(failures: number, error: () => Error): Destination<LocalConfig> & { attempts: () => number } {
  let attempts = 0;
  return {
    ...localDestination,
    sync: async (context) => {
      attempts += 1;
      if (attempts <= failures) throw error();
      return localDestination.sync(context);
    },
    attempts: () => attempts,
  };
}

function job(signal = new AbortController().signal, secret: Record<string, string> | null = null) {
  const source = path.join(tempDir(), 'photos');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'hello');
  const mount = tempDir();
  const logs: Array<[LogLevel, string]> = [];
  const context: SyncContext<LocalConfig> = {
    config: { mount_point: mount, backup_subdir: '', usb_uuid: null, auto_mount: false, auto_unmount: false },
    secret,
    sources: [source],
    realSources: [source],
    options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    signal,
    stateFile: path.join(tempDir(), 'sent.json'),
    hostKeys: new FileHostKeyPins(path.join(tempDir(), 'keys.json')),
    log: (level, message) => logs.push([level, message]),
    progress: () => undefined,
  };
  return { context, logs, mount };
}

const unreachable = () => new CairnError('unavailable', 'DESTINATION_UNREACHABLE', 'The server closed the connection', { retryable: true });

test('a retryable failure is tried again, each attempt said in the run log, and the backup lands', async () => {
  const destination = flaky(2, unreachable);
  const { context, logs, mount } = job();
  const totals = await retrying(destination, [10, 10]).sync(context);
  assert.is(destination.attempts(), 3);
  assert.is(totals.files_transferred, 1);
  assert.ok(logs.some(([level, message]) => level === 'warning' && message === 'Attempt 1 of 3 failed: The server closed the connection; trying again in 0 s'));
  assert.ok(logs.some(([, message]) => message === 'Attempt 3 of 3'));
  assert.is(readFileSync(path.join(mount, 'photos/a.txt'), 'utf8'), 'hello');
});

test('after the last attempt the failure is the run\'s, and a failure that is not retryable is not tried again', async () => {
  const always = flaky(9, unreachable);
  const error = await retrying(always, [10, 10]).sync(job().context).catch((failure) => failure);
  assert.is(error.code, 'DESTINATION_UNREACHABLE');
  assert.is(always.attempts(), 3);

  const refused = flaky(9, () => new CairnError('invalid', 'SOURCE_NAMES_CLASH', 'two sources share a name'));
  await retrying(refused, [10, 10]).sync(job().context).catch(() => undefined);
  assert.is(refused.attempts(), 1);
});

test('a cancel during the pause between attempts ends the run at once, with the cancel', async () => {
  const destination = flaky(9, unreachable);
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort('cancelled'), 200);
  const outcome = await retrying(destination, [60_000]).sync(job(controller.signal).context).catch((failure) => failure);
  assert.is(outcome, 'cancelled');
  assert.ok(Date.now() - started < 5_000, 'not after the minute-long pause');
  assert.is(destination.attempts(), 1);
});

test('secrets are masked in run-log lines and in errors, whatever the destination writes', async () => {
  const secret = { password: 'hunter2-very-secret', token: JSON.stringify({ access_token: 'ya29.inner-access-token', expiry: '2026' }) };
  const leaky: Destination<LocalConfig> = {
    ...localDestination,
    secretFields: ['password', 'token'],
    sync: async (context) => {
      context.log('info', `connecting with ${context.secret?.password} and ya29.inner-access-token`);
      throw new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `login as me:${encodeURIComponent('hunter2-very-secret')} refused`, { retryable: true });
    },
  };
  const { context, logs } = job(undefined, secret);
  const error = await redacting(retrying(leaky, [10])).sync(context).catch((failure) => failure);
  const everything = [...logs.map(([, message]) => message), error.message].join('\n');
  assert.not.match(everything, /hunter2|inner-access-token/);
  assert.match(everything, /connecting with \*\*\* and \*\*\*/);
  assert.is(error.code, 'DESTINATION_UNREACHABLE', 'still the same error for the run');
  assert.is(error.retryable, true);
});

test('a cancel passes through the redaction as itself, so the run reads as cancelled', async () => {
  const controller = new AbortController();
  controller.abort('cancelled');
  const outcome = await redacting(localDestination).sync(job(controller.signal, { password: 'cancelled' }).context).catch((failure) => failure);
  assert.is(outcome, 'cancelled');
});

test.run();
