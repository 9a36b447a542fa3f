/**
 * What the remote engine's plan costs (src/destinations/remote/send-plan.ts): an SFTP sync of a
 * generated tree to the OpenSSH test server, with a plan asked for and without, for a first copy and
 * for a rerun that finds nothing changed (where the plan repeats the walk and the listing).
 *
 *   node --import tsx bench/remote-plan.ts [--files 5000] [--bytes 20000000] [--rounds 3] [--dir /dev/shm]
 */
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sftpDestination } from '../src/destinations/sftp/index.ts';
import type { TransferPlan } from '../src/domain/runs.ts';
import { startSftpServer, type SftpServer } from '../test/servers.ts';
import { benchSyncContext } from './engine-context.ts';
import { median, numberOption, textOption } from './options.ts';
import { generateTree } from './tree.ts';

const FILES = numberOption('--files', 5_000);
const BYTES = numberOption('--bytes', 20_000_000);
const ROUNDS = numberOption('--rounds', 3);
const work = path.join(textOption('--dir', os.tmpdir()), `cairn-bench-remote-plan-${process.pid}`);
const source = path.join(work, 'data');

async function timeSync(server: SftpServer, folder: string, planned: boolean): Promise<number> {
  const base = benchSyncContext(source, path.join(work, `${folder}.state`));
  const context = {
    ...base,
    config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, folder), key_based_auth: false },
    secret: { password: server.password },
    ...(planned ? { plan: (_plan: TransferPlan) => undefined } : {}),
  };
  const started = process.hrtime.bigint();
  await sftpDestination.sync(context as never);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  mkdirSync(source, { recursive: true });
  generateTree(source, FILES, BYTES);
  const server = await startSftpServer();
  const figures = { firstWith: [] as number[], firstWithout: [] as number[], rerunWith: [] as number[], rerunWithout: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const planned of round % 2 === 0 ? [true, false] : [false, true]) {
        const folder = `target-${round}-${planned}`;
        (planned ? figures.firstWith : figures.firstWithout).push(await timeSync(server, folder, planned));
        (planned ? figures.rerunWith : figures.rerunWithout).push(await timeSync(server, folder, planned));
        rmSync(path.join(server.root, folder), { recursive: true, force: true });
      }
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const line = (what: string, withPlan: number[], without: number[]) =>
    console.log(`${what.padEnd(24)} with plan ${median(withPlan).toFixed(2)} s   without ${median(without).toFixed(2)} s   (+${(median(withPlan) - median(without)).toFixed(2)} s)`);
  console.log(`SFTP, ${FILES} files, ${BYTES} bytes, ${ROUNDS} rounds (medians)`);
  line('first copy', figures.firstWith, figures.firstWithout);
  line('rerun, nothing changed', figures.rerunWith, figures.rerunWithout);
}

await main();
