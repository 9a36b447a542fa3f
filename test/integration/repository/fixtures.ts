/**
 * The source tree the repository tests back up (unicode names, empty files, symlinks, nested
 * folders, one big file of random bytes) and a comparison of two trees as a user would check a
 * restore: the same entries, bytes, symlink targets, modes and modification times.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { createJob, tempDir, type ApiClient } from '../../helpers.ts';
import { waitFor } from '../../trees.ts';

/** Writes the test tree under `root` (created); `bigBytes` is the size of the big file. */
export async function makeSourceTree(root: string, bigBytes = 20 * 1024 * 1024): Promise<void> {
  const dirs = ['docs', 'docs/deep/deeper/deepest', 'Фото 2026', 'empty folder', 'spaces and -dash'];
  for (const dir of dirs) await fs.mkdir(path.join(root, dir), { recursive: true });
  const files: Record<string, string | Buffer> = {
    'docs/readme.txt': 'hello restic\n',
    'docs/deep/deeper/deepest/note.md': '# deep\n',
    'Фото 2026/café ☕.txt': 'unicode ✓\n',
    'Фото 2026/日本語.bin': randomBytes(700 * 1024),
    'spaces and -dash/-leading dash': 'dash\n',
    'empty.txt': '',
    'docs/empty too': '',
    'medium.bin': randomBytes(3 * 1024 * 1024 + 17),
  };
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(root, name), content);
  await writeBigFile(path.join(root, 'big.bin'), bigBytes);
  await fs.symlink('docs/readme.txt', path.join(root, 'link to readme'));
  await fs.symlink('/nonexistent/target', path.join(root, 'Фото 2026/dangling'));
  await fs.chmod(path.join(root, 'docs/readme.txt'), 0o640);
  await fs.chmod(path.join(root, 'spaces and -dash/-leading dash'), 0o755);
  await fs.chmod(path.join(root, 'docs/deep'), 0o750);
  const past = new Date('2021-03-04T05:06:07.123Z');
  await fs.utimes(path.join(root, 'docs/readme.txt'), past, past);
  await fs.utimes(path.join(root, 'docs/deep/deeper'), past, past);
  await fs.lutimes(path.join(root, 'link to readme'), past, past);
}

async function writeBigFile(file: string, bytes: number): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    for (let done = 0; done < bytes; ) {
      const part = randomBytes(Math.min(4 * 1024 * 1024, bytes - done));
      await handle.write(part);
      done += part.length;
    }
  } finally {
    await handle.close();
  }
}

/** 120 MB of random bytes in three files under `root`: seconds of reading, hashing and sealing, under a lock all along. */
export async function makeBigSource(root: string): Promise<void> {
  await fs.mkdir(root, { recursive: true });
  for (let file = 0; file < 3; file++) {
    const handle = await fs.open(path.join(root, `part-${file}.bin`), 'w');
    for (let mb = 0; mb < 40; mb += 4) await handle.write(randomBytes(4 * 1024 * 1024));
    await handle.close();
  }
}

export interface EntrySummary {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs: number;
  sha256?: string;
  target?: string;
}

/** Every entry below `root` by relative path: type, permission bits, mtime (whole ms), content hash or link target. */
export async function summarize(root: string): Promise<Record<string, EntrySummary>> {
  const out: Record<string, EntrySummary> = {};
  async function walk(dir: string): Promise<void> {
    for (const name of (await fs.readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const stat = await fs.lstat(full);
      const base = { mode: stat.mode & 0o7777, mtimeMs: Math.floor(stat.mtimeMs) };
      if (stat.isSymbolicLink()) out[rel] = { type: 'symlink', ...base, mode: 0, target: await fs.readlink(full) };
      else if (stat.isDirectory()) {
        out[rel] = { type: 'dir', ...base };
        await walk(full);
      } else out[rel] = { type: 'file', ...base, sha256: createHash('sha256').update(await fs.readFile(full)).digest('hex') };
    }
  }
  await walk(root);
  return out;
}

/** Total bytes of the files below `root`. */
export async function folderBytes(root: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath ?? (entry as { path: string }).path, entry.name))).size;
  }
  return total;
}

/** The lock files of the repository at `repo` (none when it has no locks folder). */
export async function lockFiles(repo: string): Promise<string[]> {
  return fs.readdir(path.join(repo, 'locks')).catch(() => []);
}

/** A repository job of `source` into a new folder, its backup started and seen holding its lock while it reads. */
export async function backupUnderWay(admin: ApiClient, source: string): Promise<{ job: any; repo: string; password: string; runId: number }> {
  const target = tempDir();
  const job = await createJob(admin, { source_dirs: [source], destination_config: { mount_point: target, backup_subdir: 'repo' }, backup_mode: 'repository' });
  const repo = path.join(target, 'repo');
  const started = await admin.post(`/api/jobs/${job.id}/run`);
  assert.is(started.status, 200, JSON.stringify(started.body));
  const runId = started.body.run_id;
  await waitFor('the backup to read under its lock', async () => ((await admin.get(`/api/runs/${runId}`)).body.bytes_transferred > 0 && (await lockFiles(repo)).length > 0 ? true : null), 120_000);
  return { job, repo, password: job.repository_password, runId };
}
