/** A run's progress read against its plan: percent that never goes back, rate and time left, nulls when unknown. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProgressMeter } from '../../../src/runs/run-progress.ts';

const totals = (files: number, bytes: number) => ({ files_transferred: files, bytes_transferred: bytes, files_deleted: 0 });

function clocked() {
  let now = 0;
  return { meter: new ProgressMeter(() => now), advance: (ms: number) => (now += ms) };
}

test('without a plan only what moved is known', () => {
  const { meter, advance } = clocked();
  meter.moved(totals(1, 100));
  assert.equal(meter.view(), { percent: null, bytes_done: 100, bytes_total: null, files_done: 1, files_total: null, rate_bytes_per_s: null, eta_seconds: null });
  advance(1000);
  meter.moved(totals(2, 1100));
  assert.is(meter.view().rate_bytes_per_s, 1000, 'a rate needs no plan');
  assert.is(meter.view().eta_seconds, null);
});

test('against a plan: percent by bytes, rate over the last seconds, time left at that rate', () => {
  const { meter, advance } = clocked();
  meter.planned({ files: 4, bytes: 10_000 });
  assert.equal(meter.view(), { percent: 0, bytes_done: 0, bytes_total: 10_000, files_done: 0, files_total: 4, rate_bytes_per_s: null, eta_seconds: null });
  meter.moved(totals(1, 1000));
  advance(2000);
  meter.moved(totals(2, 5000));
  const view = meter.view();
  assert.is(view.percent, 50);
  assert.is(view.rate_bytes_per_s, 2000);
  assert.is(view.eta_seconds, 3);
});

test('the percent never goes backwards, stays below 100 until the end, and is 100 at the end', () => {
  const { meter } = clocked();
  meter.planned({ files: 2, bytes: 1000 });
  meter.moved(totals(1, 600));
  assert.is(meter.view().percent, 60);
  // rsync's summary corrected a count downwards: the shown share holds.
  meter.moved(totals(1, 500));
  assert.is(meter.view().percent, 60);
  // A file grew since it was counted: more than planned is still not "done".
  meter.moved(totals(2, 1200));
  assert.is(meter.view().percent, 99.9);
  const end = meter.view(true);
  assert.is(end.percent, 100);
  assert.is(end.eta_seconds, 0);
});

test('nothing to send is 100 % at once; empty files count by files', () => {
  const nothing = clocked().meter;
  nothing.planned({ files: 0, bytes: 0 });
  assert.is(nothing.view().eta_seconds, 0);
  const empty = clocked().meter;
  empty.planned({ files: 4, bytes: 0 });
  empty.moved(totals(1, 0));
  assert.is(empty.view().percent, 25);
});

test('without a plan but with a share of the work: a percent and a time left at that pace, the totals only at the end (what was sent)', () => {
  const { meter, advance } = clocked();
  meter.advanced(0.1);
  meter.moved(totals(3, 3000));
  assert.equal(meter.view(), { percent: 10, bytes_done: 3000, bytes_total: null, files_done: 3, files_total: null, rate_bytes_per_s: null, eta_seconds: null });
  advance(2000);
  meter.advanced(0.3);
  meter.moved(totals(5, 7000));
  const view = meter.view();
  assert.is(view.percent, 30);
  assert.is(view.rate_bytes_per_s, 2000);
  assert.is(view.eta_seconds, 7, '70 % left at 10 % a second');
  meter.advanced(0.2);
  assert.is(meter.view().percent, 30, 'a smaller share never takes the percent back');
  meter.advanced(1);
  assert.is(meter.view().percent, 99.9, '100 % is said only at the end');
  assert.equal(meter.view(true), { percent: 100, bytes_done: 7000, bytes_total: 7000, files_done: 5, files_total: 5, rate_bytes_per_s: 2000, eta_seconds: 0 });
});

test('a plan, when given, is the measure, whatever share is told', () => {
  const { meter } = clocked();
  meter.planned({ files: 2, bytes: 1000 });
  meter.advanced(0.9);
  meter.moved(totals(1, 250));
  assert.is(meter.view().percent, 25);
  assert.is(meter.view().bytes_total, 1000);
});

test.run();
