/**
 * The daemon sorts nothing with ICU's collation at start or in a run (issue 17): the first
 * localeCompare (or Intl.Collator) builds a collator, which maps ~2 MB of ICU's collation tables
 * and code from the executable into the daemon for good (measured with bench/binary-pages.ts).
 * Sorting API paths, ISO dates and times needs no locale; only browsing folders, a person's
 * request, still sorts names for people.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRunStats, recordOutcome } from '../../src/domain/run-stats.ts';
import type { RunRecord } from '../../src/domain/runs.ts';
import { createJob, finishedRun, startTestDaemon } from '../helpers.ts';

/** Records where each collation began while installed; `stop` puts the originals back. */
function watchCollation() {
  const calls: string[] = [];
  const where = (what: string) => calls.push(`${what}\n${new Error().stack?.split('\n').slice(3, 8).join('\n')}`);
  const localeCompare = String.prototype.localeCompare;
  const Collator = Intl.Collator;
  String.prototype.localeCompare = function (this: string, ...args: Parameters<typeof localeCompare>) {
    where('localeCompare');
    return localeCompare.apply(this, args);
  };
  Intl.Collator = new Proxy(Collator, {
    construct(target, args) {
      where('new Intl.Collator');
      return Reflect.construct(target, args);
    },
    apply(target, self, args) {
      where('Intl.Collator()');
      return Reflect.apply(target, self, args);
    },
  });
  return {
    calls,
    stop() {
      String.prototype.localeCompare = localeCompare;
      Intl.Collator = Collator;
    },
  };
}

test('starting the daemon, setting it up and a local run to its end use no ICU collation', async () => {
  const watch = watchCollation();
  const daemon = await startTestDaemon();
  try {
    const client = daemon.client();
    await client.setupAdmin();
    const job = await createJob(client);
    const run = await finishedRun(client, (await client.post(`/api/jobs/${job.id}/run`)).body.run_id);
    assert.is(run.status, 'completed');
    // The dashboard reads the run statistics the run just recorded.
    assert.is((await client.get('/api/dashboard')).status, 200);
    assert.equal(watch.calls, [], `collation used:\n${watch.calls.join('\n\n')}`);
  } finally {
    watch.stop();
    await daemon.stop();
  }
});

test('the run statistics keep their days in order without ICU collation (a run on a new day sorts them)', () => {
  const stats = emptyRunStats();
  const finishedOn = (id: number, completedAt: string) =>
    ({ id, job_id: 1, job_name: 'Photos', status: 'completed', trigger: 'manual', schedule_id: null, created_at: completedAt, started_at: completedAt, completed_at: completedAt, error_message: null, files_transferred: 1, bytes_transferred: 1, files_deleted: 0, verify: null }) as RunRecord;
  const watch = watchCollation();
  try {
    for (const [id, day] of [[1, '2026-11-03'], [2, '2026-11-01'], [3, '2026-12-24'], [4, '2026-11-02']] as const) recordOutcome(stats, finishedOn(id, `${day}T12:00:00.000Z`), 'UTC');
  } finally {
    watch.stop();
  }
  assert.equal(
    stats.days.map((day) => day.date),
    ['2026-11-01', '2026-11-02', '2026-11-03', '2026-12-24'],
  );
  assert.equal(watch.calls, [], `collation used:\n${watch.calls.join('\n\n')}`);
});

test.run();
