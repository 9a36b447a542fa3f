/**
 * The daemon's own log under systemd: `<N>` priority prefixes and no timestamps of its own (journald
 * adds them), and one line per run outcome; outside systemd, timestamped lines as before.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatLogLine } from '../../src/log.ts';
import { ApiClient, finishedRun, spawnDaemonProcess, tempDir, createJob } from '../helpers.ts';

/** Starts `cairn daemon` with `env`, runs a job that completes and one that fails, stops it; its output. */
async function daemonOutputWith(env: Record<string, string>): Promise<string> {
  const daemon = await spawnDaemonProcess(path.join(tempDir(), 'data'), env);
  try {
    const client = new ApiClient(daemon.url);
    await client.setupAdmin();
    const photos = await createJob(client, { name: 'Photos' });
    const gone = tempDir('cairn-target-');
    const broken = await createJob(client, { name: 'Broken', destination_config: { mount_point: gone, backup_subdir: '' } });
    rmSync(gone, { recursive: true });
    for (const job of [photos, broken]) await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id);
  } finally {
    await daemon.kill('SIGTERM');
  }
  return daemon.output();
}

test('under systemd (JOURNAL_STREAM set) every line has a priority prefix and no timestamp, and each run outcome is one line', async () => {
  const output = await daemonOutputWith({ JOURNAL_STREAM: '8:123456', INVOCATION_ID: '' });
  const lines = output.split('\n').filter((line) => line !== '');
  assert.ok(lines.length >= 3, output);
  for (const line of lines) {
    assert.match(line, /^<[0-7]>/, line);
    assert.not.match(line, /^<\d>\d{4}-\d\d-\d\dT/, `no timestamp of its own: ${line}`);
  }
  assert.ok(lines.some((line) => /^<6>Cairn \S+ listening on http:/.test(line)), output);
  assert.ok(lines.some((line) => /^<6>run 1 of job "Photos" \(manual\) completed in [\d.]+ s: 0 files, 0 bytes$/.test(line)), output);
  assert.ok(lines.some((line) => /^<3>run 2 of job "Broken" \(manual\) failed after [\d.]+ s: The destination folder \S+ does not exist$/.test(line)), output);
});

test('INVOCATION_ID alone (any systemd service) is enough', async () => {
  const output = await daemonOutputWith({ JOURNAL_STREAM: '', INVOCATION_ID: '0123456789abcdef0123456789abcdef' });
  assert.ok(output.split('\n').filter((line) => line !== '').every((line) => /^<[0-7]>/.test(line)), output);
});

test('outside systemd the lines carry their own time and level', async () => {
  const output = await daemonOutputWith({ JOURNAL_STREAM: '', INVOCATION_ID: '' });
  const lines = output.split('\n').filter((line) => line !== '');
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) /, line);
  assert.ok(lines.some((line) => / info run 1 of job "Photos" \(manual\) completed in /.test(line)), output);
});

test('a message of several lines keeps its priority on each line, so journald files none of them as info', () => {
  assert.is(formatLogLine('error', 'first\nsecond', undefined, { journald: true }), '<3>first\n<3>second\n');
  assert.is(formatLogLine('warn', 'note', { run_id: 3 }, { journald: true }), '<4>note {"run_id":3}\n');
});

test.run();
