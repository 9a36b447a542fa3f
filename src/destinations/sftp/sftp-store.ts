/**
 * A folder on an SSH server over SFTP (ssh2). Uploads go to a hidden partial name and are renamed
 * over the final name (OpenSSH's posix-rename), and the source's mtime is set on the file, so a
 * listing alone tells what changed, as with rsync.
 */
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Client, type SFTPWrapper, type FileEntry } from 'ssh2';
import { CairnError } from '../../domain/errors.ts';
import type { DestinationSpace, HostKeyPins } from '../types.ts';
import { connectionError, credentialRefused } from '../remote/connection-errors.ts';
import { checkPrivateKey } from './private-key.ts';
import { gatherWrites } from './gathered-writes.ts';
import { walkSorted, type ListedChild } from '../remote/walk-sorted.ts';
import { joinRemote, partialNameFor, type RemoteEntry, type RemoteStore, type RemoteUpload } from '../remote/remote-store.ts';
import { fileMissing, fileShort, type ByteRange } from '../remote/read-range.ts';

export interface SftpTarget {
  host: string;
  port: number;
  username: string;
  remote_path: string;
  key_based_auth: boolean;
}

const CONNECT_TIMEOUT_MS = 15_000;
const KEEPALIVE_INTERVAL_MS = 15_000;
const CANCEL_GRACE_MS = 3_000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** Writes in flight per file, and their size: at most 2 MiB of a file is waiting for the server. */
const WRITE_BYTES = 64 * 1024;
const WRITES_AT_ONCE = 32;
const READ_BYTES = 64 * 1024;
const READS_AT_ONCE = 32;
/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
/** SFTP channels (server processes) folders are listed through. */
const LISTING_CHANNELS = 3;
/** Listing pages asked for at once per folder (OpenSSH sends up to 100 names a page). */
const PAGES_AT_ONCE = 3;
/**
 * Folders listed ahead of the walk. A folder's listing is a few round trips and the server's own
 * work (it reads each name's attributes), one folder after another per server process: with 8
 * ahead a 100,000-file no-change listing over loopback waited most of its time (1.2–1.3 s; 0.7 s
 * with 128). A folder listed ahead holds its first PAGES_AT_ONCE pages until the walk reaches it.
 */
const FOLDERS_AHEAD = 128;
const END_OF_FILE = 1;
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
/** SFTP's catch-all status: OpenSSH's answer to an opendir when its process may open no more files. */
const FAILURE = 4;

/** OpenSSH's way of writing a host key's fingerprint: SHA256:<base64 without padding>. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export async function openSftpStore(target: SftpTarget, secret: Record<string, string> | null, hostKeys: HostKeyPins): Promise<SftpStore> {
  const where = `${target.host}:${target.port}`;
  const auth = authOf(target, secret);
  const client = new Client();
  let hostKey = '';
  let keyCheck: 'pinned' | 'matched' | 'mismatch' | null = null;
  const connecting = new Promise<SFTPWrapper>((resolve, reject) => {
    client.once('error', (error: Error & { level?: string }) => {
      if (keyCheck === 'mismatch') {
        return reject(
          new CairnError('unavailable', 'HOST_KEY_MISMATCH', `The host key of ${where} is not the one seen before (${hostKey}); refusing to connect. If the server was reinstalled, remove its line from host-keys.json in the data folder`),
        );
      }
      if (error.level === 'client-authentication') {
        return reject(credentialRefused(`Authentication failed for ${target.username}@${where}: wrong ${target.key_based_auth ? 'key' : 'password'}?`));
      }
      if (error.level === 'client-timeout' || /timed out/i.test(error.message)) {
        return reject(new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `Timed out connecting to ${where}`, { retryable: true }));
      }
      if (/passphrase|private key|parse/i.test(error.message)) {
        return reject(new CairnError('invalid', 'CREDENTIAL_INVALID', `The private key of the credential cannot be used: ${error.message}`));
      }
      reject(connectionError(error, where) ?? new CairnError('unavailable', 'SFTP_FAILED', `SSH connection to ${where} failed: ${error.message}`, { retryable: true }));
    });
    client.once('ready', () => client.sftp((error, channel) => (error ? reject(new CairnError('unavailable', 'SFTP_FAILED', `${where} offers no SFTP: ${error.message}`)) : resolve(channel))));
    client.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      readyTimeout: CONNECT_TIMEOUT_MS,
      // A server that stops answering while the connection stays up is noticed within ~45 s.
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: 3,
      ...auth,
      hostVerifier: (key: Buffer, accept: (ok: boolean) => void) => {
        hostKey = fingerprintOf(key);
        hostKeys.check(where, hostKey).then(
          (result) => {
            keyCheck = result;
            accept(result !== 'mismatch');
          },
          () => accept(false),
        );
      },
    } as never);
  });
  // Requests go out at once, not held by Nagle's algorithm until the last small one is acknowledged:
  // a restore reads one range after another, and with Nagle on each cost ~100 ms in the bundled
  // daemon (bench/repository.ts --sftp: 300 reads took 30 s, 3.3 s with this).
  client.on('connect', () => client.setNoDelay(true));
  // ssh2 creates its socket as `connect` is called and keeps it as `_sock`; read once, here.
  const socket = (client as unknown as { _sock?: unknown })._sock;
  if (socket instanceof Socket) gatherWrites(socket);
  // Whatever went wrong after connecting (no SFTP subsystem, say), the connection is not left open.
  const sftp = await connecting.catch((error) => {
    client.end();
    throw error;
  });
  const store = new SftpStore(client, sftp, target, hostKey, keyCheck === 'pinned');
  store.openListingChannels();
  return store;
}

function authOf(target: SftpTarget, secret: Record<string, string> | null): Record<string, string> {
  if (target.key_based_auth) {
    if (!secret?.private_key) throw new CairnError('invalid', 'CREDENTIAL_INCOMPLETE', 'key_based_auth is on but the credential has no "private_key"');
    // A key saved before keys were checked on save fails here with the reason, not inside ssh2.
    checkPrivateKey(secret.private_key, secret.passphrase);
    return secret.passphrase ? { privateKey: secret.private_key, passphrase: secret.passphrase } : { privateKey: secret.private_key };
  }
  if (!secret?.password) throw new CairnError('invalid', 'CREDENTIAL_INCOMPLETE', 'The credential has no "password" (or set key_based_auth and give a "private_key")');
  return { password: secret.password };
}

/**
 * Adds a listed name to a folder's children: folders and regular files, '.' and '..' left out. Done
 * as each page arrives, so folders listed ahead hold these, not ssh2's entries (with each one's
 * `ls -l` line): what outlives a young-generation collection is copied, and holding less cut the
 * daemon's scavenges in a 100k no-change run by a third (issue 17).
 */
function addChild(children: ListedChild<RemoteEntry>[], entry: FileEntry): void {
  if (entry.filename === '.' || entry.filename === '..') return;
  const type = (entry.attrs.mode ?? 0) & S_IFMT;
  if (type === S_IFDIR) children.push({ name: entry.filename });
  else if (type === S_IFREG) children.push({ name: entry.filename, file: { size: entry.attrs.size, mtimeMs: entry.attrs.mtime * 1000 } });
}

/** ssh2's error for the requests pending when the SFTP session ended (its channel closed). */
const SESSION_ENDED = 'No response from server';

export class SftpStore implements RemoteStore {
  private readonly folders = new Set<string>();
  private closed = false;
  /** Folders listed so far: picks the next listing channel. */
  private listed = 0;
  /** Channels folders are listed through, in turn: `sftp`, and those opened since, less those the server ended. */
  private readonly listers: SFTPWrapper[];
  /**
   * Requests waiting for an answer, failed at once when the connection ends: ssh2 leaves a transfer
   * in flight hanging when its server goes away. A set, not a race against one long-lived promise:
   * each such race left a reaction on it holding the answer (a listing, a handle) until the
   * connection closed, ~1.8 KB per file sent (issue 17).
   */
  private readonly waiting = new Set<(error: Error) => void>();
  /**
   * Channels whose SFTP session the server ended while the connection stayed (its process gone):
   * a request on one afterwards is never answered, and ssh2 never fails it: it would wait forever.
   */
  private readonly endedChannels = new WeakSet<SFTPWrapper>();
  /** Folder handles open now. */
  private openFolders = 0;
  /**
   * Whether a folder listed ahead keeps its handle open while it waits to be reached. Off once the
   * server refused to open a folder while others were open (a server that lets a session hold a few
   * dozen handles): from then on such a folder lets go of its handle and is listed again, whole,
   * when the walk reaches it.
   */
  private holdAhead = true;
  /** Lets go of the handle of each folder listed ahead that waits to be reached with it open. */
  private readonly holding = new Set<() => void>();

  constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly target: SftpTarget,
    /** The server's host key fingerprint, and whether this connection pinned it. */
    readonly hostKey: string,
    readonly hostKeyPinnedNow: boolean,
  ) {
    this.listers = [sftp];
    this.watchEnd(sftp);
    client.on('error', () => undefined);
    client.on('close', () => {
      this.closed = true;
      for (const fail of this.waiting) fail(new Error('connection closed'));
      this.waiting.clear();
    });
  }

  /**
   * Opens more channels to list folders through, each served by its own SFTP server process: one
   * process lists (and stats) every name of a large tree alone, on one core, while rclone's pool of
   * connections spreads that work. Not waited for: listing starts on `sftp` and uses each channel
   * once it is open; a server that allows fewer sessions lists through what it allowed.
   */
  openListingChannels(): void {
    for (let index = 1; index < LISTING_CHANNELS; index++) {
      this.client.sftp((error, channel) => {
        if (error || this.closed) return;
        this.watchEnd(channel);
        this.listers.push(channel);
      });
    }
  }

  /** Notes when the server ends `channel`'s session; a listing channel then lists no more folders. */
  private watchEnd(channel: SFTPWrapper): void {
    const ended = () => {
      this.endedChannels.add(channel);
      if (this.listers.includes(channel)) this.listers.splice(this.listers.indexOf(channel), 1);
    };
    channel.once('end', ended);
    channel.once('close', ended);
  }

  where(path: string): string {
    return `sftp://${this.target.username}@${this.target.host}:${this.target.port}/${joinRemote(this.target.remote_path, path)}`;
  }

  /** Absolute or login-relative path on the server. */
  private full(path: string): string {
    const joined = joinRemote(this.target.remote_path, path);
    return this.target.remote_path.startsWith('/') ? `/${joined}` : joined || '.';
  }

  walk(folder: string, signal: AbortSignal): AsyncGenerator<Array<[string, RemoteEntry]>> {
    this.endOnAbort(signal);
    return walkSorted<RemoteEntry>(async (relative, wanted) => {
      try {
        return await this.list(this.full(joinRemote(folder, relative)), wanted);
      } catch (error) {
        if ((error as { code?: number }).code === NO_SUCH_FILE) return null;
        throw this.failure(error, `listing ${this.where(joinRemote(folder, relative))}`);
      }
    }, signal, FOLDERS_AHEAD);
  }

  /**
   * One folder's entries: open, read pages until the end, close. Pages are asked for PAGES_AT_ONCE
   * at a time (a server answers them in order; those past the end just say so), the next few only
   * once all of these came back with names, and the close is sent but not waited for (ssh2's
   * readdir waits for it): a folder of a few hundred files costs two round trips, and one of up to
   * 200 files (OpenSSH sends 100 names a page) three page requests, not five. A folder listed ahead
   * reads no further than its first pages until the walk reaches it (`wanted`), and stops there
   * if the walk ends first.
   */
  private async list(folder: string, wanted: Promise<boolean>): Promise<ListedChild<RemoteEntry>[]> {
    let refused = false;
    for (;;) {
      // With every channel ended, `sftp` fails the listing at once.
      const sftp = this.listers.length > 0 ? this.listers[this.listed++ % this.listers.length] : this.sftp;
      let entries: ListedChild<RemoteEntry>[] | null;
      try {
        entries = await this.listThrough(sftp, folder, wanted);
      } catch (error) {
        // The server ended this channel's session, not the connection (a folder listed ahead may
        // wait there long): the folder is listed again, whole, through a channel still open.
        if (!this.closed && this.endedChannels.has(sftp) && this.listers.length > 0) continue;
        // Refused while other folders are open: the server may hold no more handles. Those waiting
        // let go of theirs, and this folder is opened again once the walk reaches it.
        if (!refused && !this.closed && (error as { code?: number }).code === FAILURE && this.openFolders > 0) {
          refused = true;
          this.holdAhead = false;
          for (const letGo of this.holding) letGo();
          if (!(await wanted)) return [];
          continue;
        }
        throw error;
      }
      if (entries) return entries;
      // It let go of its handle before the walk reached it: listed again, whole, once it does (a
      // walk that ended first reads no listing).
      if (!(await wanted)) return [];
    }
  }

  /** The folder's entries through `sftp`; null when it let go of its handle before the walk reached it. */
  private async listThrough(sftp: SFTPWrapper, folder: string, wanted: Promise<boolean>): Promise<ListedChild<RemoteEntry>[] | null> {
    // A handle belongs to its channel: every request for this folder goes through the same one.
    const handle = await this.call<Buffer>((done) => sftp.opendir(folder, done), sftp);
    this.openFolders++;
    const entries: ListedChild<RemoteEntry>[] = [];
    const askPage = () => {
      const page = this.call<FileEntry[]>((done) => sftp.readdir(handle, done), sftp).catch((error: { code?: number }) => {
        if (error.code === END_OF_FILE) return null;
        throw error;
      });
      // Read in order below; one asked past a failure must not be left unhandled.
      page.catch(() => undefined);
      return page;
    };
    try {
      for (let round = 0; ; round++) {
        if (round === 1) {
          const reached = await this.reachedOrLetGo(wanted);
          if (reached === null) return null;
          if (!reached) return entries;
        }
        const pages = Array.from({ length: PAGES_AT_ONCE }, askPage);
        for (const page of pages) {
          const names = await page;
          if (!names) return entries;
          for (const entry of names) addChild(entries, entry);
        }
      }
    } finally {
      this.openFolders--;
      if (!this.closed) this.call((done) => sftp.close(handle, done), sftp).catch(() => undefined);
    }
  }

  /** `wanted`, or null when the folder must let go of its handle first (see `holdAhead`). */
  private async reachedOrLetGo(wanted: Promise<boolean>): Promise<boolean | null> {
    let letGo!: () => void;
    const released = new Promise<null>((resolve) => (letGo = () => resolve(null)));
    if (!this.holdAhead) letGo();
    this.holding.add(letGo);
    try {
      // `wanted` first: one already settled wins over a release.
      return await Promise.race([wanted, released]);
    } finally {
      this.holding.delete(letGo);
    }
  }

  async put({ path, body, mtimeMs, signal }: RemoteUpload): Promise<void> {
    this.endOnAbort(signal);
    const final = this.full(path);
    const partial = partialNameFor(final);
    await this.ensureFolder(final.slice(0, Math.max(0, final.lastIndexOf('/'))));
    try {
      await this.write(partial, body, Math.floor(mtimeMs / 1000), signal);
      await this.call((done) => this.sftp.ext_openssh_rename(partial, final, done));
    } catch (error) {
      if (!this.closed) await this.call((done) => this.sftp.unlink(partial, done)).catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      throw this.failure(error, `writing ${this.where(path)}`);
    }
  }

  /**
   * Writes `body` into a new file with many writes in flight at once. ssh2's write stream waits for
   * each write's answer before sending the next: measured here, 100 MB took 60 s that way, against
   * under a second for rclone, which pipelines like this.
   */
  private async write(file: string, body: Readable, mtimeSeconds: number, signal: AbortSignal): Promise<void> {
    const handle = await this.call<Buffer>((done) => this.sftp.open(file, 'w', { mode: 0o600 }, done));
    const inFlight = new Set<Promise<void>>();
    let open = true;
    let failure: { error: unknown } | null = null;
    try {
      let position = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < chunk.length; offset += WRITE_BYTES) {
          const piece = chunk.subarray(offset, offset + WRITE_BYTES);
          const at = position;
          position += piece.length;
          const written: Promise<void> = this.call((done) => this.sftp.write(handle, piece, 0, piece.length, at, done)).then(
            () => void inFlight.delete(written),
            (error) => {
              failure ??= { error };
              inFlight.delete(written);
            },
          );
          inFlight.add(written);
          if (inFlight.size >= WRITES_AT_ONCE) await Promise.race(inFlight);
          if (failure) throw (failure as { error: unknown }).error;
          signal.throwIfAborted();
        }
      }
      await Promise.all(inFlight);
      if (failure) throw (failure as { error: unknown }).error;
      // The mtime is set on the handle and the handle closed in one round trip (a server answers
      // requests in order), not one after the other: a round trip less per file sent.
      open = false;
      await Promise.all([this.call((done) => this.sftp.futimes(handle, mtimeSeconds, mtimeSeconds, done)), this.call((done) => this.sftp.close(handle, done))]);
    } finally {
      await Promise.allSettled(inFlight);
      if (open && !this.closed) await this.call((done) => this.sftp.close(handle, done)).catch(() => undefined);
    }
  }

  async remove(path: string): Promise<void> {
    try {
      await this.call((done) => this.sftp.unlink(this.full(path), done));
    } catch (error) {
      if ((error as { code?: number }).code !== NO_SUCH_FILE) throw this.failure(error, `deleting ${this.where(path)}`);
    }
  }

  /** The file's content, read with many reads in flight (ssh2's read stream, like its write stream, waits for each). */
  async get(path: string): Promise<Readable> {
    const file = this.full(path);
    const handle = await this.call<Buffer>((done) => this.sftp.open(file, 'r', done)).catch((error) => {
      throw this.failure(error, `reading ${this.where(path)}`);
    });
    const { size } = await this.call<{ size: number }>((done) => this.sftp.fstat(handle, done));
    const readAt = (position: number, length: number) =>
      this.call<Buffer>((done) => {
        const buffer = Buffer.allocUnsafe(length);
        this.sftp.read(handle, buffer, 0, length, position, (error, bytesRead) => done(error, buffer.subarray(0, bytesRead)));
      });
    const store = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      const pending: Array<{ position: number; length: number; read: Promise<Buffer> }> = [];
      let next = 0;
      const ask = () => {
        const length = Math.min(READ_BYTES, size - next);
        const read = readAt(next, length);
        read.catch(() => undefined);
        pending.push({ position: next, length, read });
        next += length;
      };
      try {
        while (next < size && pending.length < READS_AT_ONCE) ask();
        while (pending.length > 0) {
          const { position, length, read } = pending.shift()!;
          let chunk = await read;
          // A server may answer with less than asked: the rest is read before anything later is passed on.
          while (chunk.length < length) {
            const more = await readAt(position + chunk.length, length - chunk.length);
            if (more.length === 0) throw new CairnError('unavailable', 'REMOTE_FILE_CHANGED', `${store.where(path)} became shorter while it was read`);
            chunk = Buffer.concat([chunk, more]);
          }
          if (next < size) ask();
          yield chunk;
        }
      } catch (error) {
        throw store.failure(error, `reading ${store.where(path)}`);
      } finally {
        if (!store.closed) await store.call((done) => store.sftp.close(handle, done)).catch(() => undefined);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /**
   * Opens the file, reads the range (or, after an fstat, the whole file) with many reads in flight,
   * and sends the close without waiting for it: a small range costs two round trips.
   */
  async read(path: string, range?: ByteRange): Promise<Buffer> {
    const where = this.where(path);
    const handle = await this.call<Buffer>((done) => this.sftp.open(this.full(path), 'r', done)).catch((error) => {
      if ((error as { code?: number }).code === NO_SUCH_FILE) throw fileMissing(where);
      throw this.failure(error, `reading ${where}`);
    });
    try {
      const wanted = range ?? { offset: 0, length: (await this.call<{ size: number }>((done) => this.sftp.fstat(handle, done))).size };
      return await this.readAt(handle, wanted, where);
    } catch (error) {
      throw this.failure(error, `reading ${where}`);
    } finally {
      if (!this.closed) this.call((done) => this.sftp.close(handle, done)).catch(() => undefined);
    }
  }

  /** `range` of an open file, READ_BYTES at a time with up to READS_AT_ONCE in flight; a short answer is asked again for the rest. */
  private async readAt(handle: Buffer, range: ByteRange, where: string): Promise<Buffer> {
    const out = Buffer.allocUnsafe(range.length);
    const readPiece = async (start: number, end: number): Promise<void> => {
      for (let at = start; at < end; ) {
        const bytesRead = await this.call<number>((done) =>
          this.sftp.read(handle, out, at, end - at, range.offset + at, (error, count) => {
            // ssh2 reports the end of the file as an error of code END_OF_FILE; it is a short file here.
            if ((error as { code?: number } | undefined)?.code === END_OF_FILE) done(null, 0);
            else done(error, count);
          }),
        );
        if (bytesRead === 0) throw fileShort(where, range);
        at += bytesRead;
      }
    };
    const pieces: Array<Promise<void>> = [];
    let next = 0;
    const more = (): Promise<void> | undefined => {
      if (next >= range.length) return undefined;
      const start = next;
      next = Math.min(range.length, next + READ_BYTES);
      return readPiece(start, next).then(() => more());
    };
    for (let i = 0; i < READS_AT_ONCE && next < range.length; i++) pieces.push(more()!);
    await Promise.all(pieces);
    return out;
  }

  async stat(path: string): Promise<{ size: number } | null> {
    try {
      const stats = await this.call<{ size: number; mode: number }>((done) => this.sftp.stat(this.full(path), done));
      return (stats.mode & S_IFMT) === S_IFREG ? { size: stats.size } : null;
    } catch (error) {
      if ((error as { code?: number }).code === NO_SUCH_FILE) return null;
      throw this.failure(error, `reading the size of ${this.where(path)}`);
    }
  }

  async close(): Promise<void> {
    this.client.end();
  }

  /**
   * Free space of the backup folder's filesystem (OpenSSH's statvfs@openssh.com), asked of the
   * nearest folder that exists (before the first run, the backup folder may not); null when the
   * server does not offer the extension.
   */
  async freeSpace(): Promise<DestinationSpace | null> {
    for (let folder = this.full(''); ; folder = parentFolder(folder)) {
      try {
        const info = await this.call<Record<string, number | bigint>>((done) => this.sftp.ext_openssh_statvfs(folder, done));
        const unit = Number(info.f_frsize) || Number(info.f_bsize);
        return { free_bytes: Number(info.f_bavail) * unit, total_bytes: Number(info.f_blocks) * unit };
      } catch (error) {
        if (/does not support/i.test((error as Error).message ?? '')) return null;
        const parent = parentFolder(folder);
        if ((error as { code?: number }).code === NO_SUCH_FILE && parent !== folder) continue;
        throw this.failure(error, `reading the free space of ${this.where('')}`);
      }
    }
  }

  private readonly watched = new WeakSet<AbortSignal>();

  /**
   * A cancel gives uploads a moment to stop and remove their partial files, then ends the
   * connection: every request still in flight fails at once (through `waiting`), even one a stalled
   * server would never answer. A partial file left then is cleared by the next run.
   */
  private endOnAbort(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    const end = () => setTimeout(() => this.client.destroy(), CANCEL_GRACE_MS).unref();
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
  }

  /** Creates `folder` and its parents, remembering what exists so each is asked about once per run. */
  private async ensureFolder(folder: string): Promise<void> {
    if (folder === '' || folder === '.' || this.folders.has(folder)) return;
    await this.ensureFolder(folder.slice(0, Math.max(0, folder.lastIndexOf('/'))));
    try {
      await this.call((done) => this.sftp.mkdir(folder, done));
    } catch (error) {
      const stat = await this.call<{ mode: number }>((done) => this.sftp.stat(folder, done)).catch(() => null);
      if (!stat || (stat.mode & S_IFMT) !== S_IFDIR) throw this.failure(error, `creating the folder ${folder} on ${this.target.host}`);
    }
    this.folders.add(folder);
  }

  /** `operation` on `channel` (the main one unless told), failed at once when the connection or that channel's session ended. */
  private call<T = void>(operation: (done: (error: Error | null | undefined, value?: T) => void) => void, channel = this.sftp): Promise<T> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.endedChannels.has(channel)) return Promise.reject(new Error(SESSION_ENDED));
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      operation((error, value) => {
        this.waiting.delete(reject);
        if (error) reject(error);
        else resolve(value as T);
      });
    });
  }

  private failure(error: unknown, doing: string): CairnError {
    if (error instanceof CairnError) return error;
    const where = `${this.target.host}:${this.target.port}`;
    // ssh2 fails the requests still waiting with "No response from server" when the server ends the
    // SFTP session, which comes before the connection's own close when the server shuts down.
    if (this.closed || (error as Error)?.message === SESSION_ENDED) {
      return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `The connection to ${where} was lost while ${doing}`, { retryable: true });
    }
    const code = (error as { code?: number }).code;
    if (code === PERMISSION_DENIED) return new CairnError('forbidden', 'PERMISSION_DENIED', `Permission denied ${doing}`);
    if (code === NO_SUCH_FILE) return new CairnError('not_found', 'REMOTE_PATH_MISSING', `No such file or folder ${doing}`);
    return connectionError(error, where) ?? new CairnError('unavailable', 'SFTP_FAILED', `SFTP error ${doing}: ${(error as Error).message}`, { retryable: true });
  }
}

/** The folder above a server path: /a/b → /a → /; a/b → a → . (and those stay). */
function parentFolder(folder: string): string {
  const slash = folder.lastIndexOf('/');
  if (slash > 0) return folder.slice(0, slash);
  if (slash === 0) return '/';
  return '.';
}
