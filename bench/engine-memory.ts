/**
 * Memory of the remote sync engine alone, in this process, against the test SFTP server: for a
 * generated tree of --files files, the live heap after a forced GC (sampled during the run and at its
 * end) and the peak RSS, for an initial run and a no-change rerun. Live heap that stays flat as
 * --files grows is what issue 17 asks for; RSS above it is V8 letting garbage wait.
 *
 *   node --expose-gc --import tsx bench/engine-memory.ts [--files 100000] [--dir /dev/shm]
 */
import { benchSyncContext } from './engine-context.ts';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSftpStore } from '../src/destinations/sftp/sftp-store.ts';
import { syncToStore } from '../src/destinations/remote/sync-engine.ts';
import { peakRssMb } from '../test/process-memory.ts';
import { startSftpServer } from '../test/servers.ts';
import { numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 100_000);
const work = path.join(textOption('--dir', os.tmpdir()), `cairn-engine-memory-${process.pid}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const liveHeapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1e6;
};

async function main() {
  const source = path.join(work, 'data');
  generateTree(source, FILES, FILES * 100);
  const server = await startSftpServer();
  const before = liveHeapMb();
  const samples: number[] = [];
  let files = 0;
  for (const round of ['initial', 'no-change']) {
    const store = await openSftpStore({ host: server.host, port: server.port, username: server.username, remote_path: server.root, key_based_auth: false }, { password: server.password }, { check: async () => 'pinned' });
    const started = Date.now();
    const totals = await syncToStore(
      benchSyncContext(source, path.join(work, 'state', 'job-1.json'), () => {
        if (++files % Math.max(1, Math.floor(FILES / 10)) === 0) samples.push(liveHeapMb() - before);
      }),
      { store, identity: 'bench' },
    );
    await store.close();
    console.log(`${round}: ${totals.files_transferred} files sent in ${((Date.now() - started) / 1000).toFixed(1)} s; live heap at the end ${(liveHeapMb() - before).toFixed(1)} MB above the start`);
  }
  await server.stop();
  console.log(`live heap during the initial run (MB above the start, every ${Math.floor(FILES / 10)} files): ${samples.map((mb) => mb.toFixed(1)).join(' ')}`);
  console.log(`peak RSS of this process ${peakRssMb(process.pid).toFixed(0)} MB (${FILES} files)`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
