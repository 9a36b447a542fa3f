/**
 * The wrapper every destination gets from the registry: secrets masked in run-log lines and errors.
 * It wraps the real local destination (retries are the run's: test/unit/runs/run-retries.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { localDestination, type LocalConfig } from '../../../src/destinations/local/index.ts';
import { redacting } from '../../../src/destinations/redaction.ts';
import type { Destination, SyncContext } from '../../../src/destinations/types.ts';
import { CairnError } from '../../../src/domain/errors.ts';
import type { LogLevel } from '../../../src/domain/runs.ts';
import { tempDir } from '../../helpers.ts';

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
  const error = await redacting(leaky).sync(context).catch((failure) => failure);
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
