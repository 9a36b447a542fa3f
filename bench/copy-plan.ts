/**
 * What the counting pass before a local copy costs (progress's totals, src/destinations/local/copy-plan.ts):
 * the local destination's sync of a generated tree, with a plan asked for and without, for a first
 * copy and for a rerun that finds nothing changed (the nightly case, where the pass doubles the
 * metadata walk). Each figure is the median of --rounds; the two sides alternate which goes first.
 *
 *   node --import tsx bench/copy-plan.ts [--files 20000] [--bytes 80000000] [--rounds 3] [--dir /dev/shm]
 */
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localDestination } from '../src/destinations/local/index.ts';
import type { TransferPlan } from '../src/domain/runs.ts';
import { benchSyncContext } from './engine-context.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 20_000);
const BYTES = numberOption('--bytes', 80_000_000);
const ROUNDS = numberOption('--rounds', 3);
const work = path.join(textOption('--dir', os.tmpdir()), `cairn-bench-plan-${process.pid}`);
const source = path.join(work, 'data');

/** Seconds for one sync of the tree into `target`, with or without a plan; the counting pass's own seconds. */
async function timeSync(target: string, planned: boolean): Promise<{ seconds: number; plan: TransferPlan | null }> {
  let plan: TransferPlan | null = null;
  const context = { ...benchSyncContext(source, path.join(work, 'state.json')), config: { mount_point: target, backup_subdir: '', usb_uuid: null, auto_mount: false, auto_unmount: false } };
  const withPlan = planned ? { ...context, plan: (given: TransferPlan) => void (plan = given) } : context;
  const started = process.hrtime.bigint();
  await localDestination.sync(withPlan as never);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, plan };
}

async function main(): Promise<void> {
  mkdirSync(source, { recursive: true });
  generateTree(source, FILES, BYTES);
  const figures = { firstWith: [] as number[], firstWithout: [] as number[], rerunWith: [] as number[], rerunWithout: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [true, false] : [false, true];
      for (const planned of order) {
        const target = path.join(work, `target-${round}-${planned}`);
        mkdirSync(target);
        const first = await timeSync(target, planned);
        if (planned && first.plan?.files !== FILES) throw new Error(`the plan counted ${first.plan?.files} files, not ${FILES}`);
        const rerun = await timeSync(target, planned);
        (planned ? figures.firstWith : figures.firstWithout).push(first.seconds);
        (planned ? figures.rerunWith : figures.rerunWithout).push(rerun.seconds);
        rmSync(target, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const line = (what: string, withPlan: number[], without: number[]) =>
    console.log(`${what.padEnd(24)} with plan ${median(withPlan).toFixed(2)} s   without ${median(without).toFixed(2)} s   (+${(median(withPlan) - median(without)).toFixed(2)} s)`);
  console.log(`${FILES} files, ${BYTES} bytes in ${work}, ${ROUNDS} rounds (medians)`);
  line('first copy', figures.firstWith, figures.firstWithout);
  line('rerun, nothing changed', figures.rerunWith, figures.rerunWithout);
}

await main();
