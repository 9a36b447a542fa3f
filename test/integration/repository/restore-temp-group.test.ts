/**
 * What a restored file's temp lets others do while its content is written (restores run as root,
 * in folders others may write to): in a setgid folder a new file takes the folder's group, not the
 * restorer's, so a temp made with the file's group bits would let that group read (or write) a
 * file whose own group is another — and a descriptor opened then keeps reading it after.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backup, initRepository, LocalBackend, openRepository, restore } from '../../../src/repository/index.ts';
import { tempDir } from '../../helpers.ts';

const PASSWORD = 'temp group';
const SHARED_GROUP = 100;

/** A LocalBackend that, before its n-th content read, waits n·300 ms and notes the temps below `watched` and what they let their group do. */
class WatchingBackend extends LocalBackend {
  seen: string[] = [];
  private reads = 0;
  constructor(folder: string, private readonly watched: string) {
    super(folder);
  }
  // Content is read into the restore's buffers (readInto); trees by read.
  override async readInto(file: string, offset: number, target: Buffer): Promise<void> {
    await this.look();
    return super.readInto(file, offset, target);
  }
  private async look(): Promise<void> {
    // Later reads look later: by then the earlier packs' blobs are in their temps.
    await new Promise((resolve) => setTimeout(resolve, ++this.reads * 300));
    for (const entry of await fs.readdir(this.watched, { recursive: true, withFileTypes: true })) {
      if (!entry.name.includes('.cairn-restore-')) continue;
      const stat = await fs.lstat(path.join(entry.parentPath, entry.name));
      this.seen.push(`${entry.name} gid ${stat.gid} mode ${(stat.mode & 0o7777).toString(8)}`);
    }
  }
}

test("in a setgid folder, a root:root 0640 file's temp gives the folder's group nothing while it is written", async () => {
  if (process.getuid?.() !== 0) return console.log('  (skipped: needs root, as the daemon runs)');
  const work = tempDir('cairn-temp-group-');
  const source = path.join(work, 'source');
  const repoDir = path.join(work, 'repo');
  await fs.mkdir(source);
  const secret = path.join(source, 'secret.key');
  // Two backups: the file's first 8 MB in the first pack, its rest in the second, so that its temp
  // exists, partly written, while the second pack is read.
  const start = randomBytes(8 * 1024 * 1024);
  await fs.writeFile(secret, start);
  await fs.chmod(secret, 0o640);
  await initRepository(new LocalBackend(repoDir), PASSWORD);
  const open = async (backend = new LocalBackend(repoDir)) => {
    const repo = await openRepository(backend, PASSWORD);
    await repo.loadIndex();
    return repo;
  };
  await backup(await open(), { paths: [source] });
  await fs.writeFile(secret, Buffer.concat([start, randomBytes(4 * 1024 * 1024)]));
  await fs.chmod(secret, 0o640);
  const made = await backup(await open(), { paths: [source] });

  const target = path.join(work, 'shared');
  await fs.mkdir(target);
  await fs.chown(target, 0, SHARED_GROUP);
  await fs.chmod(target, 0o2775);
  const backend = new WatchingBackend(repoDir, target);
  await restore(await open(backend), { snapshot: made.snapshotId, target });

  assert.ok(backend.seen.length > 0, 'a temp was seen while a later pack was read');
  for (const temp of backend.seen) assert.not.match(temp, new RegExp(`gid ${SHARED_GROUP} mode [0-7]*[1-7][0-7]$`), temp);
  const restored = await fs.stat(path.join(target, secret));
  assert.equal([restored.uid, restored.gid, (restored.mode & 0o7777).toString(8)], [0, 0, '640']);
  assert.ok((await fs.readFile(path.join(target, secret))).equals(await fs.readFile(secret)));
});

test.run();
