import { mkdirSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { createSnapshot } from '../src/history/index.ts';
import { engineContext } from '../test/integration/history/engine.ts';
import { generateTree } from './tree.ts';
const work = '/dev/shm/snapcheck-' + process.pid;
const source = path.join(work, 'source', 'data');
const root = path.join(work, 'engine');
mkdirSync(source, { recursive: true }); mkdirSync(root);
generateTree(source, 20000, 20_000_000);
for (let round = 0; round < 2; round++) {
  if (round) for (let i = 1; i < 20000; i += 100) { const f = path.join(source, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`, `file-${i}.dat`); writeFileSync(f, Buffer.alloc(statSync(f).size, 'x')); utimesSync(f, new Date(), new Date(Date.now() + 5000)); }
  const { context, logs } = engineContext([source]);
  const s = performance.now();
  await createSnapshot(context, { root, timezone: 'UTC', time: new Date(Date.UTC(2026, 0, 1 + round)), runId: null });
  console.log(round, (performance.now() - s).toFixed(0), 'ms', logs.filter(([, m]) => /Snapshot|Reading/.test(m)).map(([, m]) => m));
}
const { rmSync } = await import('node:fs'); rmSync(work, { recursive: true, force: true });
