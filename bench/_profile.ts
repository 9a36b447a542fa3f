import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync, utimesSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createSnapshot, listSnapshots, ManifestReader } from '../src/history/index.ts';
import { buildManifest, walkFiles } from '../src/history/drive-snapshots/manifest-build.ts';
import { engineContext } from '../test/integration/history/engine.ts';
import { generateTree } from './tree.ts';

const FILES = 100_000;
const work = process.argv[2] ?? '/dev/shm/snapprof';
const source = path.join(work, 'source', 'data');
const root = path.join(work, 'engine');
import { readFileSync } from 'node:fs';
const childCpu = () => { const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' '); return (Number(f[13]) + Number(f[14])) / 100; };
const t = () => Number(process.hrtime.bigint()) / 1e9;
if (!existsSync(source)) { mkdirSync(source, { recursive: true }); generateTree(source, FILES, 400_000_000); }
mkdirSync(root, { recursive: true });
let round = (await listSnapshots(root)).length;
const time = (day: number) => new Date(Date.UTC(2026, 0, 1 + day, 10)).toISOString();
if (round === 0) { const { context } = engineContext([source]); await createSnapshot(context, { root, timezone: 'UTC', time: new Date(time(0)), runId: null }); round = 1; }
for (let i = round; i < FILES; i += 100) {
  const file = path.join(source, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`, `file-${i}.dat`);
  writeFileSync(file, Buffer.alloc(statSync(file).size, `changed in round ${round} `));
  utimesSync(file, new Date(), new Date(Date.now() + round * 1000));
}
const [prev] = await listSnapshots(root);
rmSync(path.join(work, 'rs'), { recursive: true, force: true }); mkdirSync(path.join(work, 'rs'));
let s = t(); let c = childCpu();
execFileSync('rsync', ['-a', `--link-dest=${path.join(prev.path, 'data/')}`, `${source}/`, path.join(work, 'rs', 'data/')]);
console.log('bare rsync', (t() - s).toFixed(2), 'rsync cpu', (childCpu() - c).toFixed(2));
s = t(); c = childCpu();
const { context } = engineContext([source]);
const { Session } = await import('node:inspector/promises'); const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start');
const cpu0 = process.cpuUsage();
const r = await createSnapshot(context, { root, timezone: 'UTC', time: new Date(time(round)), runId: null });
const cpu = process.cpuUsage(cpu0);
const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/snapspeed/create.cpuprofile', JSON.stringify(profile));
console.log('createSnapshot', (t() - s).toFixed(2), 'node cpu', ((cpu.user + cpu.system) / 1e6).toFixed(2), 'rsync cpu', (childCpu() - c).toFixed(2));
s = t(); let n = 0;
for await (const files of walkFiles(r.snapshot.path, new AbortController().signal)) n += files.length;
if (process.env.ONLY) process.exit(0);
console.log('walk alone', (t() - s).toFixed(2), n);
s = t(); n = 0;
const reader = new ManifestReader(path.join(prev.path, '.cairn-manifest'));
while (await reader.next()) n++;
console.log('read prev manifest alone', (t() - s).toFixed(2), n);
s = t();
await buildManifest(r.snapshot.path, prev.path, new AbortController().signal);
console.log('buildManifest stat-all', (t() - s).toFixed(2));
