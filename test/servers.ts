/**
 * Real remote servers for the destination tests, each on 127.0.0.1 with a free port and a fresh
 * temp dir, started by the scripts in scripts/ and stopped by PID: OpenSSH's sshd (SFTP),
 * `rclone serve webdav` (WebDAV) and s3rver (S3). Whatever a test forgets to stop is ended when
 * the test process exits.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from './helpers.ts';

const execFileAsync = promisify(execFile);

export interface SftpServer {
  host: '127.0.0.1';
  port: number;
  username: string;
  password: string;
  /** OpenSSH-format ed25519 private key without a passphrase. */
  privateKey: string;
  /** OpenSSH-format ed25519 private key protected by `passphrase`. */
  encryptedPrivateKey: string;
  passphrase: string;
  /** DIR/data: where the user's files land (absolute, on this machine; owned by the SFTP user). */
  root: string;
  /** The server's host key fingerprint as OpenSSH prints it: "SHA256:<base64 without padding>". */
  hostKeyFingerprint: string;
  /** The server's public host key line ("ssh-ed25519 AAAA... comment"). */
  hostPublicKey: string;
  /** The SFTP user's uid and gid, to chown files a test puts into `root` itself. */
  uid: number;
  gid: number;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export interface WebdavServer {
  url: string;
  username: string;
  password: string;
  /** DIR/data: what the server serves at `url`. */
  root: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export interface S3Server {
  endpoint: string;
  region: 'us-east-1';
  bucket: 'cairn-test';
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver's directory: the bucket is `root/cairn-test`, an object's bytes in `objectFile(key)`. */
  root: string;
  /** Where s3rver keeps the bytes of the object `key`. */
  objectFile(key: string): string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

const SCRIPTS = path.join(REPO_ROOT, 'scripts');

/** Servers that run, by PID, with whether their children (sshd's sessions) go too. */
const running = new Map<number, { children: boolean }>();
let exitHooked = false;

/** The PIDs whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function killNow(pid: number, children: boolean) {
  const targets = children ? [...childrenOf(pid), pid] : [pid];
  for (const target of targets) {
    try {
      process.kill(target, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

function killForgotten() {
  for (const [pid, { children }] of running) killNow(pid, children);
  running.clear();
}

function track(pid: number, children: boolean) {
  running.set(pid, { children });
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killForgotten);
  // A test process ended by Ctrl-C or kill still takes its servers along.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killForgotten();
      process.kill(process.pid, signal);
    });
  }
}

/** `script args`; with `openFiles`, the server it starts (and every process of it) may hold that many files open. */
async function runScript(script: string, args: string[], openFiles?: number): Promise<string> {
  const command = openFiles ? ['prlimit', [`--nofile=${openFiles}:${openFiles}`, path.join(SCRIPTS, script), ...args]] as const : [path.join(SCRIPTS, script), args] as const;
  try {
    const { stdout } = await execFileAsync(command[0], command[1], { encoding: 'utf8', timeout: 60_000 });
    return stdout.trim();
  } catch (error: any) {
    throw new Error(`${script} ${args[0]} failed: ${error.stderr || error.message}`);
  }
}

/** Starts `script start dir ...args` (it prints the port, writes the PID to dir/pidFile) and returns what every server shares. */
async function startServer(script: string, dir: string, args: string[], pidFile: string, children: boolean, openFiles?: number) {
  const port = Number(await runScript(script, ['start', dir, ...args], openFiles));
  const pid = Number(readFileSync(path.join(dir, pidFile), 'utf8'));
  if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(pid)) throw new Error(`${script} start printed no port or wrote no PID`);
  track(pid, children);
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= runScript(script, ['stop', dir]).then(() => {
      running.delete(pid);
    }));
  return { port, pid, stop };
}

/**
 * OpenSSH's sshd with `Subsystem sftp internal-sftp`, password and key logins for a test user;
 * `openFiles` limits the files each of its processes may hold open (a server short of handles).
 */
export async function startSftpServer(options: { openFiles?: number } = {}): Promise<SftpServer> {
  const dir = tempDir('cairn-sftp-');
  const { port, pid, stop } = await startServer('sftp-server.sh', dir, [], 'sshd.pid', true, options.openFiles);
  const fingerprint = (await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'ssh_host_ed25519_key.pub')])).stdout;
  const root = path.join(dir, 'data');
  const { uid, gid } = statSync(root);
  return {
    host: '127.0.0.1',
    port,
    username: 'cairn-sftp',
    password: 'cairn-sftp-password',
    privateKey: readFileSync(path.join(dir, 'client_key'), 'utf8'),
    encryptedPrivateKey: readFileSync(path.join(dir, 'client_key_encrypted'), 'utf8'),
    passphrase: 'key passphrase',
    root,
    hostKeyFingerprint: fingerprint.split(' ')[1],
    hostPublicKey: readFileSync(path.join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim(),
    uid,
    gid,
    pid,
    dir,
    stop,
  };
}

/** `rclone serve webdav` with basic auth, serving `root`; `rcloneFlags` go after the script's own, so they win. */
export async function startWebdavServer(rcloneFlags: string[] = []): Promise<WebdavServer> {
  const dir = tempDir('cairn-webdav-');
  const username = 'cairn';
  const password = 'webdav password';
  const { port, pid, stop } = await startServer('webdav-server.sh', dir, ['0', username, password, ...rcloneFlags], 'webdav.pid', false);
  return { url: `http://127.0.0.1:${port}`, username, password, root: path.join(dir, 'data'), pid, dir, stop };
}

/** s3rver with the bucket `cairn-test`, checking SigV4 signatures (a wrong secret is refused). */
export async function startS3Server(): Promise<S3Server> {
  const dir = tempDir('cairn-s3-');
  const { port, pid, stop } = await startServer('s3-server.sh', dir, ['0'], 's3.pid', false);
  const root = path.join(dir, 'data');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket: 'cairn-test',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    root,
    objectFile: (key) => path.join(root, 'cairn-test', `${key}._S3rver_object`),
    pid,
    dir,
    stop,
  };
}
