/**
 * The engine in a process of its own, for tests that kill it with SIGKILL mid-way:
 *   engine-child.ts create <root> <time ISO> <KiB/s, 0 unlimited> <source>…   makes one snapshot
 *   engine-child.ts prune <root> <id>…                    removes those snapshots
 * Prints `done <milliseconds the engine took> <peak RSS in KiB>` when finished.
 */
import { createSnapshot, pruneSnapshots } from '../../../src/history/index.ts';
import { engineContext } from './engine.ts';

const [action, root, ...rest] = process.argv.slice(2);
const started = performance.now();
if (action === 'create') {
  const [time, limit, ...sources] = rest;
  const { context } = engineContext(sources, undefined, { bandwidth_limit_kbps: Number(limit) });
  await createSnapshot(context, { root, timezone: 'Europe/Berlin', time: new Date(time), runId: null });
} else if (action === 'prune') {
  await pruneSnapshots(root, rest.map((id) => ({ id })));
} else {
  throw new Error(`unknown action ${action}`);
}
console.log(`done ${Math.round(performance.now() - started)} ${process.resourceUsage().maxRSS}`);
