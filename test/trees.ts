/** Source trees made in tests (never committed) and a way to compare them with what a destination holds. */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, lstatSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Bytes that differ per file and per seed, so a swapped or stale file is noticed. */
export function fileContent(name: string, size: number, seed = 0): Buffer {
  const block = createHash('sha256').update(`${name}:${seed}`).digest();
  const buffer = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += block.length) block.copy(buffer, offset);
  return buffer;
}

/**
 * A tree with what backups trip over: empty files, unicode, spaces, quotes, a leading dash,
 * symlinks (relative, inside the tree), 20 levels of folders, and one larger file.
 */
export function makeSampleTree(root: string, options: { largeFileBytes?: number } = {}): void {
  const files: Record<string, number> = {
    'empty.txt': 0,
    'résumé.txt': 100,
    '日本語のファイル.txt': 200,
    'name with spaces.txt': 300,
    [`it's "quoted".txt`]: 400,
    '-rf.txt': 50,
    'docs/report.pdf': 10_000,
    'docs/notes/todo.md': 64,
    'large.bin': options.largeFileBytes ?? 5 * 1024 * 1024,
  };
  const deep = Array.from({ length: 20 }, (_, i) => `level${i}`).join('/');
  files[`${deep}/bottom.txt`] = 10;
  for (const [name, size] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), fileContent(name, size));
  }
  mkdirSync(path.join(root, 'empty-folder'), { recursive: true });
  symlinkSync('docs/report.pdf', path.join(root, 'link-to-report'));
  symlinkSync('../résumé.txt', path.join(root, 'docs/link-up'));
}

/** Every entry below `root`: a file's SHA-256, a link's target, or `dir`. Keys are relative paths. */
export function snapshotTree(root: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = path.relative(root, full);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) result[key] = `link:${readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        result[key] = 'dir';
        walk(full);
      } else result[key] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(root);
  return result;
}

/** Number of regular files and their total size below `root`. */
export function countFiles(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const stat = lstatSync(path.join(dir, name));
      if (stat.isDirectory()) walk(path.join(dir, name));
      else if (stat.isFile()) {
        files += 1;
        bytes += stat.size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}

/** Waits until `check` returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
