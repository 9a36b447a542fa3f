/** The sftp destination against OpenSSH's own server, started for this file on 127.0.0.1. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileHostKeyPins } from '../../../src/destinations/host-key-pins.ts';
import { sftpDestination } from '../../../src/destinations/sftp/index.ts';
import type { SftpTarget } from '../../../src/destinations/sftp/sftp-store.ts';
import { startSftpServer } from '../../servers.ts';
import { tempDir } from '../../helpers.ts';
import { fileContent, snapshotTree } from '../../trees.ts';
import { destinationContract, filesOnly } from './contract.ts';

let places = 0;

destinationContract<SftpTarget>('sftp', sftpDestination, async () => {
  const server = await startSftpServer();
  return {
    secret: { password: server.password },
    wrongSecret: { password: 'not-the-password' },
    place() {
      const folder = path.join(server.root, `place-${++places}`);
      return {
        config: { host: server.host, port: server.port, username: server.username, remote_path: folder, key_based_auth: false },
        files: async () => (existsSync(folder) ? filesOnly(snapshotTree(folder)) : {}),
      };
    },
    stop: () => server.stop(),
  };
});

const stalled = suite('sftp: a server that stops answering');

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const children = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [pid, ...children.flatMap(processTree)];
}

stalled('a cancel ends the run within seconds even when sshd hangs with the connection up', async () => {
  const server = await startSftpServer();
  const frozen: number[] = [];
  try {
    const source = path.join(tempDir(), 'photos');
    mkdirSync(source);
    writeFileSync(path.join(source, 'big.bin'), fileContent('big', 8 * 1024 * 1024));
    const controller = new AbortController();
    const run = sftpDestination.sync({
      config: { host: server.host, port: server.port, username: server.username, remote_path: path.join(server.root, 'stalled'), key_based_auth: false },
      secret: { password: server.password },
      sources: [source],
      realSources: [source],
      options: { delete_extraneous: false, exclude_patterns: [], bandwidth_limit_kbps: 1024, dry_run: false, verbosity: 'normal' },
      signal: controller.signal,
      stateFile: path.join(tempDir(), 'sent.json'),
      hostKeys: new FileHostKeyPins(path.join(tempDir(), 'host-keys.json')),
      log: () => undefined,
      progress: () => undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // SIGSTOP: the server and its session freeze, the TCP connection stays up.
    for (const pid of processTree(server.pid)) {
      process.kill(pid, 'SIGSTOP');
      frozen.push(pid);
    }
    const cancelled = Date.now();
    controller.abort('cancelled');
    const outcome = await Promise.race([run.then(() => 'completed', (error) => error), new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    assert.is(outcome, 'cancelled');
    assert.ok(Date.now() - cancelled < 10_000, `ended ${Date.now() - cancelled} ms after the cancel`);
  } finally {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await server.stop();
  }
});

stalled.run();
