/**
 * ClockSyncWatch: untrusted until the system first says the clock is synchronised, then trusted for
 * good (no more asking), announcing it once. The system's answer is a scripted probe.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClockSyncWatch } from '../../../src/schedules/index.ts';

function scripted(answers: Array<boolean | Error>) {
  let asked = 0;
  const probe = async () => {
    const answer = answers[Math.min(asked, answers.length - 1)];
    asked += 1;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { probe, asked: () => asked };
}

test('not trusted until the system says so; then trusted for good, announced once, never asked again', async () => {
  const system = scripted([false, new Error('timedatectl failed'), true, false]);
  const said: string[] = [];
  let announced = 0;
  // An hour between probes: the test steps the watch itself.
  const watch = new ClockSyncWatch({
    probe: system.probe,
    probeEveryMs: 3_600_000,
    onSynchronized: () => (announced += 1),
    log: { info: (message) => said.push(message), warn: (message) => said.push(message) },
  });
  await watch.start();
  assert.is(watch.synchronized(), false);
  assert.match(said.join('\n'), /wait until the system clock is synchronised/);
  assert.is(await watch.check(), false, 'a probe that fails is no');
  assert.is(await watch.check(), true);
  assert.is(watch.synchronized(), true);
  assert.is(await watch.check(), true, 'a later no does not undo it');
  assert.is(system.asked(), 3);
  assert.is(announced, 1);
  assert.match(said.join('\n'), /synchronised: scheduled runs go ahead/);
  watch.stop();
});

test('stopped, it asks no more and keeps its answer', async () => {
  const system = scripted([false, true]);
  const watch = new ClockSyncWatch({ probe: system.probe, probeEveryMs: 3_600_000 });
  await watch.start();
  watch.stop();
  assert.is(await watch.check(), false);
  assert.is(system.asked(), 1);
});

test.run();
