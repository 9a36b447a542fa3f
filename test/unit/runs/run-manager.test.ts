/**
 * The run manager's promises, with a real store and real logs and a destination the test steers
 * (each sync waits until the test lets it finish), so ordering can be checked exactly.
 */
import { emptyRetentionPolicy } from '../../../src/domain/retention.ts';
import path from 'node:path';
import Joi from 'joi';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import type { Destination } from '../../../src/destinations/types.ts';
import { CairnError } from '../../../src/domain/errors.ts';
import type { RunRecord, TransferTotals } from '../../../src/domain/runs.ts';
import { EventBus } from '../../../src/events.ts';
import { createMemoryLogger } from '../../../src/log.ts';
import { RunLogs } from '../../../src/logs/index.ts';
import { RunManager } from '../../../src/runs/index.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { AllowedPaths } from '../../../src/files/allowed-paths.ts';
import { JobPaths } from '../../../src/jobs/job-paths.ts';
import { TEST_ROOT, tempDir } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

/** A destination whose syncs finish when the test says so. */
function steeredDestination() {
  const waiting = new Map<number, { finish(outcome?: Error): void }>();
  let calls = 0;
  const steer = (context: { config: Record<string, unknown>; signal: AbortSignal; log(level: 'info', message: string): void }) =>
    new Promise<TransferTotals>((resolve, reject) => {
      calls += 1;
      const id = context.config.id as number;
      context.log('info', `syncing ${id}`);
      context.signal.addEventListener('abort', () => reject(context.signal.reason));
      waiting.set(id, { finish: (error) => (error ? reject(error) : resolve({ files_transferred: 1, bytes_transferred: 10, files_deleted: 0 })) });
    });
  const destination: Destination = {
    type: 'steered',
    describe: () => ({ type: 'steered', name: 'Steered', description: '', requires_credentials: false }),
    capabilities: { supports_delete: true, supports_compression: false, supports_checksum: false, supports_bandwidth_limit: false, supports_exclude_patterns: false, supports_incremental: true, supports_dry_run: false, requires_credentials: false },
    guarantees: { sees_same_size_edits: true, sees_same_second_edits: true, keeps_old_copy_when_source_changes: true, has_server: 'none' },
    unavailableReason: () => null,
    note: null,
    configSchema: Joi.object({ id: Joi.number() }),
    credentialSchema: null,
    address: { example: 'steered://1', scheme: 'steered', defaults: {}, beside: [] },
    secretFields: [],
    identity: (config) => `steered:${config.id}`,
    test: async () => ({ message: 'ok', details: null }),
    sync: (context) => steer(context),
    restore: (context) => steer(context),
  };
  return { destination, waiting, calls: () => calls };
}

async function setup(maxConcurrent = 2) {
  const dataDir = tempDir();
  const store = await openStore(dataDir);
  await store.settings.update({ max_concurrent_runs: maxConcurrent, max_runs_per_job: 5 });
  const steered = steeredDestination();
  const events = new EventBus();
  const logs = new RunLogs(path.join(dataDir, 'logs'));
  const manager = new RunManager({
    runs: store.runs,
    jobs: store.jobs,
    settings: store.settings,
    stats: store.runStats,
    logs,
    destinationOf: () => steered.destination,
    secretOf: async () => null,
    hostKeys: new FileHostKeyPins(path.join(dataDir, 'host-keys.json')),
    stateFileOf: (job) => path.join(dataDir, `sent-${job.id}.json`),
    paths: new JobPaths(new AllowedPaths([TEST_ROOT]), () => steered.destination),
    events,
    log: createMemoryLogger(),
  });
  const jobs: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const job = await store.jobs.create({
      name: `job ${i}`,
      description: '',
      enabled: true,
      source_dirs: [dataDir],
      destination_type: 'steered',
      destination_config: { id: i },
      sync_options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
      credential_id: null,
    backup_mode: 'mirror',
    retention: emptyRetentionPolicy(),
    });
    jobs.push(job.id);
  }
  return { store, manager, steered, events, jobs, logs };
}

const statusOf = (store: Store, run: RunRecord) => store.runs.byId(run.id)?.status;

test('at most max_concurrent_runs run; the rest wait pending and start in order, each once', async () => {
  const { store, manager, steered, jobs } = await setup(2);
  const runs = await Promise.all(jobs.map((id) => manager.request(id, { trigger: 'manual' })));
  await waitFor('two running', () => steered.waiting.size === 2);
  assert.equal(runs.map((run) => statusOf(store, run)), ['running', 'running', 'pending', 'pending']);
  steered.waiting.get(1)!.finish();
  await waitFor('the third to start', () => steered.waiting.has(3));
  assert.is(statusOf(store, runs[0]), 'completed');
  assert.is(statusOf(store, runs[3]), 'pending');
  for (const id of [2, 3]) steered.waiting.get(id)!.finish();
  await waitFor('the fourth to start', () => steered.waiting.has(4));
  steered.waiting.get(4)!.finish();
  await waitFor('all done', () => runs.every((run) => statusOf(store, run) === 'completed'));
  assert.is(steered.calls(), 4, 'no run started twice');
  await manager.stop();
});

test('a second request for the same job is refused while one is pending or running', async () => {
  const { manager, steered, jobs } = await setup(1);
  await manager.request(jobs[0], { trigger: 'manual' });
  await manager.request(jobs[1], { trigger: 'manual' });
  for (const id of jobs.slice(0, 2)) {
    const error = await manager.request(id, { trigger: 'scheduled' }).catch((e) => e);
    assert.instance(error, CairnError);
    assert.is(error.code, 'RUN_IN_PROGRESS');
  }
  await waitFor('the first to run', () => steered.waiting.size === 1);
  await manager.stop();
});

test('cancelling a pending run ends it at once; cancelling a running one aborts the sync', async () => {
  const { store, manager, steered, jobs } = await setup(1);
  const running = await manager.request(jobs[0], { trigger: 'manual' });
  const pending = await manager.request(jobs[1], { trigger: 'manual' });
  await waitFor('the first to run', () => steered.waiting.size === 1);
  await manager.cancel(jobs[1]);
  assert.is(statusOf(store, pending), 'cancelled');
  await manager.cancel(jobs[0]);
  await waitFor('the running one to end', () => statusOf(store, running) === 'cancelled');
  assert.is(store.runs.byId(running.id)!.error_message, 'Cancelled by the user');
  assert.is(steered.calls(), 1, 'the cancelled pending run never started');
  await manager.stop();
});

test('a failing sync fails the run with its message; an unexpected error is reported without internals', async () => {
  const { store, manager, steered, jobs } = await setup(2);
  const a = await manager.request(jobs[0], { trigger: 'manual' });
  const b = await manager.request(jobs[1], { trigger: 'manual' });
  await waitFor('both running', () => steered.waiting.size === 2);
  steered.waiting.get(1)!.finish(new CairnError('unavailable', 'DRIVE_NOT_MOUNTED', 'The drive is not mounted'));
  steered.waiting.get(2)!.finish(new TypeError('x is undefined'));
  await waitFor('both failed', () => statusOf(store, a) === 'failed' && statusOf(store, b) === 'failed');
  assert.is(store.runs.byId(a.id)!.error_message, 'The drive is not mounted');
  assert.is(store.runs.byId(b.id)!.error_message, 'Unexpected error: x is undefined');
  await manager.stop();
});

test('stopping the daemon ends running and pending runs as failed, never leaving one running', async () => {
  const { store, manager, steered, jobs } = await setup(1);
  const running = await manager.request(jobs[0], { trigger: 'manual' });
  const pending = await manager.request(jobs[1], { trigger: 'manual' });
  await waitFor('the first to run', () => steered.waiting.size === 1);
  await manager.stop();
  assert.is(statusOf(store, running), 'failed');
  assert.match(store.runs.byId(running.id)!.error_message!, /Interrupted/);
  assert.is(statusOf(store, pending), 'failed');
  assert.equal(store.runs.inStatus('pending', 'running'), []);
});

test('runs left pending or running by a crash are failed at the next start, with a log line', async () => {
  const { store, manager, jobs, logs } = await setup(1);
  const crashed = await store.runs.create({ job_id: jobs[0], job_name: 'job 1', status: 'running', trigger: 'manual', schedule_id: null, created_at: '', started_at: new Date().toISOString(), completed_at: null, error_message: null, files_transferred: 3, bytes_transferred: 30, files_deleted: 0 } as never);
  assert.is(await manager.failInterruptedRuns(), 1);
  assert.is(statusOf(store, crashed), 'failed');
  assert.match((await logs.tail(crashed.id, 1))[0].message, /Interrupted/);
  await manager.stop();
});

test('progress events are throttled and the events come in order', async () => {
  const { manager, steered, jobs, events } = await setup(1);
  const seen: string[] = [];
  events.on('run:started', () => seen.push('started'));
  events.on('run:log', () => seen.push('log'));
  events.on('run:finished', (run) => seen.push(`finished:${run.status}`));
  await manager.request(jobs[0], { trigger: 'manual' });
  await waitFor('running', () => steered.waiting.size === 1);
  steered.waiting.get(1)!.finish();
  await waitFor('finished', () => seen.some((event) => event.startsWith('finished')));
  assert.is(seen[0], 'started');
  assert.is(seen.at(-1), 'finished:completed');
  await manager.stop();
});

test.run();
